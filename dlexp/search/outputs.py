"""The files a search writes from its studies: ``trials.csv``, ``curves.json``,
``best.yaml`` and ``summary.json`` (see :mod:`dlexp.search.searchdir`).

They are rebuilt from the storage at the end of every start, resume or interruption,
so every machine of a shared study writes the same files. ``trials.csv`` lists the
trials that count towards ``--trials`` and — as ``failed``, with the note "cut short;
re-run (not counted)" — those stopped by Ctrl-C or a killed process, which the search
runs again (a surplus trial, started beyond the budget, never trained and is left out).
Pruning's saving is estimated per pruned trial from its own speed:

    seconds saved ≈ Σ_pruned  seconds / evals_run × (evals_planned − evals_run)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import optuna

from dlexp.config import config_to_dict
from dlexp.io import write_csv, write_json, write_yaml
from dlexp.search.final import read_summary, tested_trial_is_best
from dlexp.search.objective import trial_config
from dlexp.search.searchdir import SearchPlan
from dlexp.fmt import rank_key
from dlexp.search.study import outcome, round_studies, round_study_name, trial_row

STATES = ("complete", "pruned", "diverged", "failed")


@dataclass
class Collected:
    """Everything the storage holds about a search, as plain data."""

    rows: list[dict] = field(default_factory=list)         # counted trials, all rounds
    cut_short: list[dict] = field(default_factory=list)    # stopped, run again: not counted
    spaces: list[dict] = field(default_factory=list)       # each started round's ranges
    running: int = 0
    surplus: int = 0                                       # beyond the budget: never trained

    @property
    def best(self) -> dict | None:
        """The complete trial of highest val_acc (ties: earliest round, then number)."""
        done = [r for r in self.rows if r["state"] == "complete" and r["val_acc"] is not None]
        return min(done, key=rank_key, default=None)


def collect(storage: optuna.storages.BaseStorage, plan: SearchPlan) -> Collected:
    """Read every round's trials of ``plan`` from ``storage`` (the rounds started so far)."""
    out = Collected()
    for round_, study in enumerate(round_studies(storage, plan.study, plan.rounds), start=1):
        for t in study.get_trials(deepcopy=False):
            if t.state.name == "RUNNING":
                out.running += 1
            elif outcome(t) == "surplus":
                out.surplus += 1
            elif t.state.is_finished():
                row = trial_row(t, round_)
                (out.rows if row["counted"] else out.cut_short).append(row)
        meta = study.user_attrs.get("dlexp") or {}
        out.spaces.append(meta.get("space", {}))
    return out


def write_outputs(plan: SearchPlan, c: Collected, status: str, seconds: float,
                  workers: int) -> dict:
    """Write the four files; returns the summary."""
    from dlexp.search.rounds import quotas
    keys = list(plan.base["search"])
    _write_csv(plan.dir / "trials.csv", c.rows + c.cut_short, keys)
    write_json(plan.dir / "curves.json",
               [{"round": r["round"], "number": r["number"], **r["curve"]} for r in c.rows])
    best = c.best
    if best is not None:
        cfg = trial_config(plan.base, best["params"], "best trial")
        best_cfg = {k: v for k, v in config_to_dict(cfg).items() if k != "search"}
        best_cfg["name"] = f"{plan.base['name']}-best"
        write_yaml(plan.dir / "best.yaml", best_cfg)
    previous = read_summary(plan.dir) if plan.resumed else {}
    summary = {
        "status": status,
        "trials": plan.trials,
        "finished": len(c.rows),
        "states": {s: sum(r["state"] == s for r in c.rows) for s in STATES},
        "not_counted": len(c.cut_short) + c.surplus,
        "cut_short": len(c.cut_short),
        "best": None if best is None else {k: best[k] for k in ("round", "number", "val_acc",
                                                                  "val_loss", "epochs",
                                                                  "params")},
        "params": keys,
        "rounds": [{"round": i + 1, "study": round_study_name(plan.study, i + 1), "quota": q,
                    "finished": sum(r["round"] == i + 1 for r in c.rows),
                    "space": c.spaces[i] if i < len(c.spaces) else None}
                   for i, q in enumerate(quotas(plan.trials, plan.rounds))],
        "pruning": pruning_saving(c.rows, plan.pruner),
        "sampler": plan.sampler, "seed": plan.seed, "keep": plan.keep,
        "study": plan.study, "storage": "journal.log" if plan.storage is None else "database",
        "workers": workers,
        "seconds": round(seconds + (previous.get("seconds", 0.0) if plan.resumed else 0.0), 2),
        "session_seconds": round(seconds, 2),      # this start or resume alone
    }
    if "final_test" in previous:                  # a resumed search keeps its one test
        done = previous["final_test"]
        summary["final_test"] = {**done, "stale": not tested_trial_is_best(done, summary["best"])}
    write_json(plan.dir / "summary.json", summary)
    return summary


def pruning_saving(rows: list[dict], pruner: str) -> dict:
    """Counts and an estimate of the training time pruning saved."""
    pruned = [r for r in rows if r["state"] == "pruned" and r["evals"]]
    saved = sum(r["seconds"] / r["evals"] * (r["planned_evals"] - r["evals"]) for r in pruned)
    trained = sum(r["seconds"] or 0.0 for r in rows)
    return {"pruner": pruner, "pruned": len(pruned),
            "evals_run": sum(r["evals"] or 0 for r in rows),
            "evals_planned": sum(r["planned_evals"] or 0 for r in rows),
            "seconds_trained": round(trained, 2), "seconds_saved_est": round(saved, 2),
            "fraction_saved_est": round(saved / (saved + trained), 3) if trained else 0.0}


def _write_csv(path: Path, rows: list[dict], keys: list[str]) -> None:
    """One row per trial, by round then number: number, state, each parameter, scores."""
    columns = ["number", "state", *keys, "val_acc", "val_loss", "epochs", "seconds", "round",
               "note"]
    flat = [{**r, **{k: r["params"].get(k) for k in keys}}
            for r in sorted(rows, key=lambda r: (r["round"], r["number"]))]
    write_csv(path, flat, columns)
