"""What ``dlexp search`` shows: a live table of the best trials while it runs, and a
summary at the end (rich, on stderr and stdout respectively). Numbers go through
:func:`dlexp.fmt.fmt`; durations read "7.9 s" (one decimal; whole seconds from 1000 s).

The summary's time line tells three durations apart: the wall time of this start or
resume (with its workers), the wall time of all of them together when resumed, and
the trials' own training time added up (more than the wall time with several workers,
or less with the overhead of loading data and starting processes)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from dlexp.fmt import fmt
from dlexp.search.outputs import Collected
from dlexp.fmt import rank_key
from dlexp.train.progress import clock, time_left


class LiveTable:
    """A rich Live display of the ``top`` best finished trials; call it with each snapshot.
    Not on a terminal (a log file, a pipe): a plain progress line per finished trial."""

    def __init__(self, total: int, keys: list[str], top: int = 10,
                 console: Console | None = None) -> None:
        self.total, self.keys, self.top = total, keys, top
        self.live = Live(console=console or Console(stderr=True), auto_refresh=False,
                         transient=False)
        self.terminal = self.live.console.is_terminal
        self.first: int | None = None               # trials finished before this start
        self.printed = -1

    def __enter__(self) -> "LiveTable":
        if self.terminal:
            self.live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.terminal:
            self.live.__exit__(*exc)

    def __call__(self, c: Collected, seconds: float) -> None:
        if self.first is None:
            self.first = len(c.rows)
        if self.terminal:
            self.live.update(self.render(c, seconds), refresh=True)
        elif len(c.rows) != self.printed:
            self.printed = len(c.rows)
            self.live.console.print(self.progress_line(c, seconds), highlight=False,
                                    soft_wrap=True)

    def render(self, c: Collected, seconds: float) -> Group:
        """A progress line over the table of the best finished trials."""
        ranked = sorted((r for r in c.rows if r["val_acc"] is not None),
                        key=rank_key)[:self.top]
        table = trials_table(ranked, self.keys, title=f"best {len(ranked)} trials so far")
        return Group(self.progress_line(c, seconds), table)

    def progress_line(self, c: Collected, seconds: float) -> Text:
        """Trials finished (by state), running, wall time elapsed and left."""
        states = ", ".join(f"{n} {s}" for s, n in _states(c).items() if n)
        first = self.first or 0
        left = time_left(seconds, len(c.rows) - first, self.total - first)
        return Text(f"{len(c.rows)}/{self.total} trials finished ({states or 'none yet'}"
                    f"{_cut_short(len(c.cut_short))}), {c.running} running · "
                    f"{clock(seconds)} elapsed, ~{clock(left)} left")


def trials_table(rows: list[dict], keys: list[str], title: str) -> Table:
    """One line per trial row (as :func:`dlexp.search.outputs.collect` gives them)."""
    table = Table(title=title, title_justify="left")
    for col in ("rank", "round", "trial", *_headers(keys), "val acc", "epochs", "state"):
        table.add_column(col, justify="right" if col != "state" else "left")
    for i, r in enumerate(rows, 1):
        table.add_row(str(i), str(r["round"]), str(r["number"]),
                      *(fmt(r["params"].get(k)) for k in keys),
                      fmt(r["val_acc"]), fmt(r["epochs"]), r["state"])
    return table


def print_summary(summary: dict, search_dir: Path, console: Console | None = None) -> None:
    """The end-of-search table: counts, the best trial, pruning's saving, the test result."""
    console = console or Console()
    t = Table(title=f"search {search_dir}", show_header=False)
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
                f"{k} {_range(s)}" for k, s in r["space"].items()))
    p = summary["pruning"]
    if p["pruner"] != "none":
        t.add_row("pruning", f"{p['pruned']} trials pruned, ~{_seconds(p['seconds_saved_est'])}"
                             f" of {_seconds(p['seconds_trained'] + p['seconds_saved_est'])} "
                             "training time saved")
    t.add_row("time", _times(summary))
    final = summary.get("final_test")
    if final and final.get("test_acc") is not None:
        took = (f", {_seconds(final['seconds'])} of wall time"
                if final.get("seconds") is not None and not final.get("repeated") else "")
        t.add_row("test acc", f"{fmt(final['test_acc'])} (best config retrained on "
                              f"train + validation for {fmt(final.get('epochs'))} epochs"
                              f"{took})"
                  if not final.get("stale") else
                  f"{fmt(final['test_acc'])} of trial {final['trial']['number']} (round "
                  f"{final['trial']['round']}), tested before the search went on: no longer "
                  "the best")
    console.print(t)


def _times(summary: dict) -> str:
    """This run's wall time, all runs' (if resumed), the trials' training time added up."""
    n = summary["workers"]
    final = summary.get("final_test") or {}
    retrain = final.get("seconds") or 0 if not final.get("repeated") else 0
    text = (f"took {_seconds(summary['session_seconds'] + retrain)} of wall time (this run, "
            f"{n} worker{'s' if n != 1 else ''}{', with the final test' if retrain else ''})")
    if summary["seconds"] > summary["session_seconds"]:
        text += f", {_seconds(summary['seconds'])} over all runs of this search"
    return (text + "; trials' training time adds up to "
            f"{_seconds(summary['pruning']['seconds_trained'])}")


def _seconds(x: float) -> str:
    return f"{fmt(round(x, 1), 1) if x < 1e3 else fmt(round(x))} s"


def _cut_short(n: int) -> str:
    """The trials stopped part-way, said after the counts of those that finished."""
    return f"; {n} cut short (failed in trials.csv; not counted, so run again)" if n else ""


def _headers(keys: list[str]) -> list[str]:
    """The last part of each key (``lr``, ``l2``) when that is unambiguous."""
    short = [k.rsplit(".", 1)[-1] for k in keys]
    return short if len(set(short)) == len(short) else keys


def _states(c: Collected) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in c.rows:
        out[r["state"]] = out.get(r["state"], 0) + 1
    return out


def _range(s: dict) -> str:
    if "choices" in s:
        return "{" + ", ".join(map(str, s["choices"])) + "}"
    return f"[{fmt(s['low'])}, {fmt(s['high'])}]"
