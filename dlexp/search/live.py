"""What ``dlexp search`` shows: a live table of the best trials while it runs, and a
summary at the end (rich, on stderr and stdout respectively)."""

from __future__ import annotations

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from dlexp.search.outputs import Collected


class LiveTable:
    """A rich Live display of the ``top`` best finished trials; call it with each snapshot."""

    def __init__(self, total: int, keys: list[str], top: int = 10,
                 console: Console | None = None) -> None:
        self.total, self.keys, self.top = total, keys, top
        self.live = Live(console=console or Console(stderr=True), auto_refresh=False,
                         transient=False)

    def __enter__(self) -> "LiveTable":
        self.live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.live.__exit__(*exc)

    def __call__(self, c: Collected, seconds: float) -> None:
        self.live.update(self.render(c, seconds), refresh=True)

    def render(self, c: Collected, seconds: float) -> Group:
        ranked = sorted((r for r in c.rows if r["val_acc"] is not None),
                        key=lambda r: (-r["val_acc"], r["round"], r["number"]))[:self.top]
        table = trials_table(ranked, self.keys, title=f"best {len(ranked)} trials so far")
        states = ", ".join(f"{n} {s}" for s, n in _states(c).items() if n)
        line = Text(f"{len(c.rows)}/{self.total} trials finished ({states or 'none yet'}), "
                    f"{c.running} running · {seconds:.0f} s")
        return Group(line, table)


def trials_table(rows: list[dict], keys: list[str], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for col in ("rank", "round", "trial", *_headers(keys), "val acc", "epochs", "state"):
        table.add_column(col, justify="right" if col != "state" else "left")
    for i, r in enumerate(rows, 1):
        table.add_row(str(i), str(r["round"]), str(r["number"]),
                      *(_fmt(r["params"].get(k)) for k in keys),
                      _fmt(r["val_acc"]), str(r["epochs"]), r["state"])
    return table


def print_summary(summary: dict, search_dir, console: Console | None = None) -> None:
    """The end-of-search table: counts, the best trial, pruning's saving, the test result."""
    console = console or Console()
    t = Table(title=f"search {search_dir}", show_header=False)
    t.add_row("status", summary["status"])
    t.add_row("trials", f"{summary['finished']}/{summary['trials']}  " +
              ", ".join(f"{n} {s}" for s, n in summary["states"].items() if n))
    best = summary.get("best")
    if best:
        t.add_row("best val acc", f"{best['val_acc']:.4f} (round {best['round']}, "
                                  f"trial {best['number']})")
        for k, v in best["params"].items():
            t.add_row(f"  {k}", _fmt(v))
    for r in summary["rounds"]:
        if len(summary["rounds"]) > 1 and r["space"]:
            t.add_row(f"round {r['round']} ranges", "  ".join(
                f"{k} {_range(s)}" for k, s in r["space"].items()))
    p = summary["pruning"]
    if p["pruner"] != "none":
        t.add_row("pruning", f"{p['pruned']} trials pruned, ~{p['seconds_saved_est']:.1f} s "
                             f"of {p['seconds_trained'] + p['seconds_saved_est']:.1f} s saved")
    t.add_row("wall time", f"{summary['session_seconds']:.1f} s with {summary['workers']} "
                           f"worker(s); {summary['seconds']:.1f} s in all")
    final = summary.get("final_test")
    if final and final.get("test_acc") is not None:
        t.add_row("test acc", f"{final['test_acc']:.4f} (best config retrained on "
                              "train + validation)")
    console.print(t)


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
    return f"[{_fmt(s['low'])}, {_fmt(s['high'])}]"


def _fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.4f}" if 1e-2 <= abs(v) < 1e3 or v == 0 else f"{v:.2e}"
    return str(v)
