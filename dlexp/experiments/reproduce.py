"""``dlexp reproduce``: every experiment of chapter 6 into one folder, then one report.

    <runs>/reproduce[-quick]-<time>/
        reproduce.json        mode (full or quick), the experiments and their commands
        <experiment>/         one sub-folder each (chapter_runs.EXPERIMENTS), with
                              done.json once it finished (its seconds)
        verdicts.json         one entry per claim (claims.CLAIMS): verdict, numbers, reason,
                              the command that reruns it, its figures and seconds
        report.html, report.md   (written by :mod:`dlexp.plots.page` from these files)

Experiments run one after another, each with all the workers it can use (``jobs``,
default all cores). Ctrl-C stops the current one after its current update (a comparison
leaves its finished sub-runs, a search-methods its finished searches) and starts nothing
new (:mod:`dlexp.train.signals`); ``resume`` continues that folder in its own mode: experiments with done.json
are kept, a started comparison keeps its finished sub-runs, a search-methods folder its
finished searches, and the report is written once all are done.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Sequence

from dlexp.errors import ConfigError
from dlexp.experiments.chapter_runs import EXPERIMENTS, Experiment
from dlexp.experiments.claims import CLAIMS, Claim
from dlexp.experiments.tables import say
from dlexp.experiments.verdicts import Verdict
from dlexp.io import read_json, write_json
from dlexp.train.rundir import new_run_dir, run_meta
from dlexp.train.signals import requested

NAME = "reproduce"
Draw = Callable[[str, Path], None]          # (experiment name, its folder): its figures


def start(runs_root: Path, quick: bool, experiments: Sequence[Experiment]) -> Path:
    """A new reproduce folder with its reproduce.json."""
    out = new_run_dir(Path(runs_root), f"{NAME}-quick" if quick else NAME)
    write_json(out / "meta.json", run_meta(time.time()))
    write_json(out / "reproduce.json", {
        "mode": "quick" if quick else "full",
        "experiments": {e.name: e.command(quick) for e in experiments}})
    return out


def resumed_mode(folder: Path) -> bool:
    """Whether the reproduce folder ``folder`` was a quick run (refuses other folders)."""
    path = Path(folder) / "reproduce.json"
    if not path.is_file():
        raise ConfigError(f"--resume {folder}: not a reproduce folder (no reproduce.json); "
                          "give the folder a `dlexp reproduce` run printed")
    return read_json(path)["mode"] == "quick"


def run_all(out: Path, quick: bool, jobs: int | None = None, resume: bool = False,
            experiments: Sequence[Experiment] = EXPERIMENTS, draw: Draw | None = None
            ) -> dict[str, float]:
    """Run every experiment not yet done, then ``draw(name, folder)`` its figures; returns
    each one's seconds (kept ones too)."""
    seconds = {}
    for k, e in enumerate(experiments, 1):
        folder, done = out / e.name, out / e.name / "done.json"
        if done.is_file():
            seconds[e.name] = read_json(done)["seconds"]
            say(f"[{k}/{len(experiments)}] {e.name}: kept (done earlier)")
            continue
        if requested():                            # Ctrl-C came: start nothing new
            raise KeyboardInterrupt
        say(f"[{k}/{len(experiments)}] {e.name}: {e.command(quick)}")
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        e.run(folder, e.quick if quick else e.full, jobs, resume)
        if requested():                            # stopped early: not done
            raise KeyboardInterrupt
        if draw is not None:
            draw(e.name, folder)
        seconds[e.name] = round(time.perf_counter() - t0, 1)
        write_json(done, {"seconds": seconds[e.name]})
        say(f"    done in {seconds[e.name]:.0f} s")
    return seconds


def judge_all(out: Path, quick: bool, seconds: dict[str, float],
              claims: Sequence[Claim] = CLAIMS,
              experiments: Sequence[Experiment] = EXPERIMENTS) -> list[dict]:
    """Every claim's verdict from its experiment's files; written to verdicts.json."""
    by_name = {e.name: e for e in experiments}
    rows = []
    for c in claims:
        e = by_name[c.experiment]
        try:
            v = c.judge(out / c.experiment)
        except (OSError, KeyError, ValueError, TypeError) as err:     # files lack a number
            v = Verdict("differs", "—", f"the rule could not be applied: {err!r}")
        rows.append({"section": c.section, "claim": c.sentence, "rule": c.rule,
                     "experiment": c.experiment, "verdict": v.verdict, "measured": v.measured,
                     "reason": v.reason, "command": e.command(quick),
                     "seconds": seconds.get(c.experiment),
                     "figures": [f"{c.experiment}/{f}" for f in e.figures]})
    write_json(out / "verdicts.json", rows)
    return rows


def reproduce(runs_root: Path = Path("runs"), quick: bool = False, jobs: int | None = None,
              resume: Path | None = None, experiments: Sequence[Experiment] = EXPERIMENTS,
              claims: Sequence[Claim] = CLAIMS, draw: Draw | None = None) -> Path:
    """Run (or finish) the chapter, draw its figures and judge its claims; returns the
    folder (the report is written from it: :func:`dlexp.plots.page.write_report`)."""
    if resume is not None:
        quick = resumed_mode(resume)
        out = Path(resume)
        say(f"resuming {out} ({'quick' if quick else 'full'} mode)")
    else:
        out = start(runs_root, quick, experiments)
        say(f"reproduce folder: {out}")
    try:
        seconds = run_all(out, quick, jobs, resume is not None, experiments, draw)
    except KeyboardInterrupt:
        say(f"interrupted: to finish it, run dlexp reproduce --resume {out}")
        raise
    judge_all(out, quick, seconds, claims, experiments)
    return out
