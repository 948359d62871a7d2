"""What a search reports, rebuilt from the storage after every start, resume or stop (so
every machine writes the same files): the files, a live table and the summary. Pruning's
saving:

    seconds saved ≈ Σ_pruned  seconds / evals_run × (evals_planned − evals_run)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import optuna
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from dlexp.config import config_to_dict
from dlexp.fmt import fmt, rank_key, seconds
from dlexp.io import write_csv, write_json, write_yaml
from dlexp.search.rounds import quotas
from dlexp.search.searchdir import SearchPlan, read_summary
from dlexp.search.study import kind, round_name, round_studies, trial_row
from dlexp.search.worker import trial_config
from dlexp.train.progress import clock, time_left

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

    def states(self) -> dict[str, int]:
        return {s: sum(r["state"] == s for r in self.rows) for s in STATES}


def collect(storage: optuna.storages.BaseStorage, plan: SearchPlan) -> Collected:
    """Every started round's trials of ``plan``."""
    out = Collected()
    for round_, study in enumerate(round_studies(storage, plan.study, plan.rounds), start=1):
        for t in study.get_trials(deepcopy=False):
            k = kind(t)
            out.running += k == "running"
            out.surplus += k == "surplus"
            if k in ("counted", "cut_short"):
                (out.rows if k == "counted" else out.cut_short).append(trial_row(t, round_))
        out.spaces.append((study.user_attrs.get("dlexp") or {}).get("space", {}))
    return out


def tested_trial_is_best(record: dict, best: dict | None) -> bool:
    """Whether a final-test ``record`` is of the ``best`` trial."""
    return bool(best) and record.get("trial") == {k: best[k] for k in ("round", "number")}


def write_outputs(plan: SearchPlan, c: Collected, status: str, elapsed: float) -> dict:
    """Write the four files; returns the summary."""
    keys = list(plan.base["search"])
    columns = ["number", "state", *keys, "val_acc", "val_loss", "epochs", "seconds", "round",
               "note"]
    rows = sorted(c.rows + c.cut_short, key=lambda r: (r["round"], r["number"]))
    write_csv(plan.dir / "trials.csv", [{**r, **r["params"]} for r in rows], columns)
    write_json(plan.dir / "curves.json",
               [{"round": r["round"], "number": r["number"], **r["curve"]} for r in c.rows])
    best = c.best
    if best is not None:
        cfg = config_to_dict(trial_config(plan.base, best["params"], "best trial"))
        write_yaml(plan.dir / "best.yaml", {**{k: v for k, v in cfg.items() if k != "search"},
                                            "name": f"{plan.base['name']}-best"})
    previous = read_summary(plan.dir) if plan.resumed else {}
    summary = {
        "status": status, "trials": plan.trials, "finished": len(c.rows),
        "states": c.states(), "not_counted": len(c.cut_short) + c.surplus,
        "cut_short": len(c.cut_short),
        "best": best and {k: best[k] for k in ("round", "number", "val_acc", "val_loss",
                                               "epochs", "params")},
        "params": keys,
        "rounds": [{"round": i + 1, "study": round_name(plan.study, i + 1), "quota": q,
                    "finished": sum(r["round"] == i + 1 for r in c.rows),
                    "space": c.spaces[i] if i < len(c.spaces) else None}
                   for i, q in enumerate(quotas(plan.trials, plan.rounds))],
        "pruning": pruning_saving(c.rows, plan.pruner),
        "sampler": plan.sampler, "seed": plan.seed, "keep": plan.keep,
        "study": plan.study, "storage": "journal.log" if plan.storage is None else "database",
        "workers": plan.workers,
        "seconds": round(elapsed + previous.get("seconds", 0.0), 2),
        "session_seconds": round(elapsed, 2),      # this start or resume alone
    }
    if "final_test" in previous:                  # a resumed search keeps its one test
        done = previous["final_test"]
        summary["final_test"] = {**done, "stale": not tested_trial_is_best(done, summary["best"])}
    write_json(plan.dir / "summary.json", summary)
    return summary


def pruning_saving(rows: list[dict], pruner: str) -> dict:
    """Counts, and the training time pruning saved (module docstring)."""
    pruned = [r for r in rows if r["state"] == "pruned" and r["evals"]]
    saved = sum(r["seconds"] / r["evals"] * (r["planned_evals"] - r["evals"]) for r in pruned)
    trained = sum(r["seconds"] or 0.0 for r in rows)
    return {"pruner": pruner, "pruned": len(pruned),
            "evals_run": sum(r["evals"] or 0 for r in rows),
            "evals_planned": sum(r["planned_evals"] or 0 for r in rows),
            "seconds_trained": round(trained, 2), "seconds_saved_est": round(saved, 2),
            "fraction_saved_est": round(saved / (saved + trained), 3) if trained else 0.0}


class LiveTable:
    """A live table of the ``top`` best finished trials, called with each snapshot; not on
    a terminal (a log, a pipe): a plain progress line per finished trial."""

    def __init__(self, total: int, keys: list[str], top: int = 10,
                 console: Console | None = None) -> None:
        self.total, self.keys, self.top = total, keys, top
        self.live = Live(console=console or Console(stderr=True), auto_refresh=False)
        self.terminal = self.live.console.is_terminal
        self.first: int | None = None               # trials finished before this start
        self.printed = -1                           # trials finished at the last line

    def __enter__(self) -> "LiveTable":
        if self.terminal:
            self.live.start()
        return self

    def __exit__(self, *exc) -> None:
        self.live.stop()                            # (nothing if never started)

    def __call__(self, c: Collected, elapsed: float) -> None:
        if self.first is None:
            self.first = len(c.rows)
        states = ", ".join(f"{n} {s}" for s, n in c.states().items() if n)
        left = time_left(elapsed, len(c.rows) - self.first, self.total - self.first)
        line = Text(f"{len(c.rows)}/{self.total} trials finished ({states or 'none yet'}"
                    f"{_cut_short(len(c.cut_short))}), {c.running} running · "
                    f"{clock(elapsed)} elapsed, ~{clock(left)} left")
        if self.terminal:
            ranked = sorted((r for r in c.rows if r["val_acc"] is not None),
                            key=rank_key)[:self.top]
            short = [k.rsplit(".", 1)[-1] for k in self.keys]      # lr, l2 when unambiguous
            table = Table(title=f"best {len(ranked)} trials so far", title_justify="left")
            for col in ("rank", "round", "trial",
                        *(short if len(set(short)) == len(short) else self.keys),
                        "val acc", "epochs", "state"):
                table.add_column(col, justify="right" if col != "state" else "left")
            for i, r in enumerate(ranked, 1):
                table.add_row(str(i), str(r["round"]), str(r["number"]),
                              *(fmt(r["params"].get(k)) for k in self.keys),
                              fmt(r["val_acc"]), fmt(r["epochs"]), r["state"])
            self.live.update(Group(line, table), refresh=True)
        elif len(c.rows) != self.printed:
            self.printed = len(c.rows)
            self.live.console.print(line, highlight=False, soft_wrap=True)


def print_summary(summary: dict, console: Console | None = None) -> None:
    """The end-of-search table."""
    t = Table(title="search summary", show_header=False)
    t.add_row("status", summary["status"])
    t.add_row("trials", f"{summary['finished']}/{summary['trials']}  " +
              ", ".join(f"{n} {s}" for s, n in summary["states"].items() if n) +
              _cut_short(summary.get("cut_short", 0)))
    best = summary.get("best")
    if best:
        t.add_row("best val acc", f"{fmt(best['val_acc'])} (round {best['round']}, "
                                  f"trial {best['number']}, {fmt(best.get('epochs'))} epochs)")
        for k, v in best["params"].items():
            t.add_row(f"  {k}", fmt(v))
    for r in summary["rounds"]:
        if len(summary["rounds"]) > 1 and r["space"]:
            t.add_row(f"round {r['round']} ranges", "  ".join(
                f"{k} " + ("{" + ", ".join(map(str, s["choices"])) + "}" if "choices" in s
                           else f"[{fmt(s['low'])}, {fmt(s['high'])}]")
                for k, s in r["space"].items()))
    p = summary["pruning"]
    if p["pruner"] != "none":
        t.add_row("pruning", f"{p['pruned']} trials pruned, ~{seconds(p['seconds_saved_est'])}"
                             f" of {seconds(p['seconds_trained'] + p['seconds_saved_est'])} "
                             "training time saved")
    t.add_row("time", _times(summary))
    final = summary.get("final_test")
    if final and final.get("test_acc") is not None:
        took = (f", {seconds(final['seconds'])} of wall time"
                if final.get("seconds") is not None and not final.get("earlier") else "")
        t.add_row("test acc", f"{fmt(final['test_acc'])} (best config retrained on "
                              f"train + validation for {fmt(final.get('epochs'))} epochs"
                              f"{took})"
                  if not final.get("stale") else
                  f"{fmt(final['test_acc'])} of trial {final['trial']['number']} (round "
                  f"{final['trial']['round']}), tested before the search went on: no longer "
                  "the best")
    (console or Console()).print(t)


def _times(summary: dict) -> str:
    """This run's wall time, all runs' (if resumed), the trials' training time."""
    n = summary["workers"]
    final = summary.get("final_test") or {}
    retrain = final.get("seconds") or 0 if not final.get("earlier") else 0
    text = (f"took {seconds(summary['session_seconds'] + retrain)} of wall time (this run, "
            f"{n} worker{'s' if n != 1 else ''}{', with the final test' if retrain else ''})")
    if summary["seconds"] > summary["session_seconds"]:
        text += f", {seconds(summary['seconds'])} over all runs of this search"
    return (text + "; trials' training time adds up to "
            f"{seconds(summary['pruning']['seconds_trained'])}")


def _cut_short(n: int) -> str:
    return f"; {n} cut short (failed in trials.csv; not counted, so run again)" if n else ""
