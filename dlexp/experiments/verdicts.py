"""Verdicts computed from an experiment's files: each rule reads the folder a chapter
experiment wrote and returns a :class:`Verdict` — ``holds``, ``partly`` or ``differs``,
the numbers it looked at, and, unless it holds, why not. The rule's text is kept with
the claim (:mod:`dlexp.experiments.claims`); nothing here is written by hand after a run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from dlexp.io import read_csv
from dlexp.fmt import fmt
from dlexp.io import read_json


@dataclass(frozen=True)
class Verdict:
    verdict: str                        # holds, partly or differs
    measured: str                       # the numbers the rule compared, in words
    reason: str = ""                    # why it does not hold ("" when it does)


def grade(checks: Sequence[tuple[bool, str]], measured: str) -> Verdict:
    """``holds`` when every check passes, ``differs`` when none does, else ``partly``;
    the reason lists the checks that failed (each ``(passed, what it asks)``)."""
    failed = [what for ok, what in checks if not ok]
    verdict = "holds" if not failed else "differs" if len(failed) == len(checks) else "partly"
    return Verdict(verdict, measured, "; ".join(f"not so: {w}" for w in failed))


def summary_rows(folder: Path) -> dict[str, dict[str, str]]:
    """summary.csv of a comparison, by label (its first column)."""
    rows = read_csv(folder / "summary.csv")
    return {r[next(iter(r))]: r for r in rows}


def num(value: str | float | None) -> float | None:
    """A CSV cell as a float (None when empty)."""
    return None if value in (None, "") else float(value)


def steps_below(folder: Path, level: float) -> dict[str, int | None]:
    """Per label, the first update whose mean smoothed loss is below ``level``."""
    out: dict[str, int | None] = {}
    for r in read_csv(folder / "loss.csv"):
        out.setdefault(r["label"], None)
        if out[r["label"]] is None and float(r["smooth"]) < level:
            out[r["label"]] = int(r["step"])
    return out


def run_values(folder: Path, key: str) -> dict[str, list[float]]:
    """Per label, ``key`` of every completed sub-run's summary.json (one per seed)."""
    out: dict[str, list[float]] = {}
    for r in read_csv(folder / "runs.csv"):
        if r["status"] == "completed":
            s = read_json(folder / r["run"] / "summary.json")
            if s.get(key) is not None:
                out.setdefault(r["label"], []).append(float(s[key]))
    return out


def listed(values: Mapping[str, float | None], digits: int = 3) -> str:
    """``a 0.12, b 0.34``."""
    return ", ".join(f"{k} {fmt(v, digits) if v is not None else '—'}"
                     for k, v in values.items())
