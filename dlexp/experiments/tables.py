"""Tables printed to a terminal or a log, through rich: fitted to the console (80 columns
when stdout is not a terminal), every column *folds* (a long cell wraps, never cut), a
mean over seeds with its spread prints as ``0.229 ± 0.016``, other numbers as
:func:`dlexp.fmt.fmt` shows them (None: ``—``).
"""

from __future__ import annotations

import numbers
from pathlib import Path
from typing import Any, Mapping, Sequence

from rich import box
from rich.console import Console
from rich.table import Table

from dlexp.fmt import fmt, seconds

TRAIN_EVAL = {"full": "(whole set)", "running": "since last eval"}


def new_table(columns: Sequence[str], right: Sequence[str] = ()) -> Table:
    """A borderless table whose columns fold; ``right``: the columns to right-align."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    for col in columns:
        table.add_column(col, overflow="fold", justify="right" if col in right else "left")
    return table


def print_titled(title: str, table: Table, console: Console | None = None) -> None:
    """The title on a line of its own (a long path is never wrapped), then the table."""
    console = console or Console()
    if title:
        console.print(f"[bold]{title}[/bold]", soft_wrap=True, highlight=False)
    console.print(table, highlight=False)


def print_rows(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], title: str = "",
               headers: Mapping[str, str] | None = None, console: Console | None = None
               ) -> None:
    """A table of dict rows: ``columns`` in order, headed ``headers[c]`` or the last part
    of the key with ``_`` as spaces; numbers right-aligned; ``c_std`` adds a ``± std``
    (``0.929 ± 0.001``)."""
    names = [(headers or {}).get(c) or c.rsplit(".", 1)[-1].replace("_", " ") for c in columns]
    numeric = [name for name, c in zip(names, columns) if all(
        r.get(c) is None or isinstance(r.get(c), numbers.Real) and not isinstance(r.get(c), bool)
        for r in rows)]
    by_column = [[fmt(r.get(c)) for r in rows]
                 if not any(r.get(f"{c}_std") is not None for r in rows)
                 else [_spread(r.get(c), r.get(f"{c}_std")) for r in rows] for c in columns]
    cells = [list(row) for row in zip(*by_column)] if rows else []
    table = new_table(names, right=numeric)
    for row in cells:
        table.add_row(*row)
    narrow_numbers(table, cells)
    print_titled(title, table, console)


def _spread(value: Any, std: Any) -> str:
    if value is None or std is None:
        return fmt(value)
    return f"{fmt(value)} ± {fmt(std)}"


def narrow_numbers(table: Table, cells: Sequence[Sequence[str]]) -> None:
    """Each right-aligned (number) column as wide as its widest cell, or the longest word
    of its header: the header wraps, and the width goes to the text columns."""
    for i, col in enumerate(table.columns):
        if col.justify == "right":
            words = max(len(w) for w in str(col.header).split())
            col.max_width = max([words, *(len(row[i]) for row in cells if i < len(row))])


SUMMARY_ROWS = (("status", "status"), ("stop_reason", "stopped"), ("epochs", "epochs"),
                ("steps", "updates"), ("best_val_acc", "best val acc"),
                ("best_epoch", "best epoch"), ("final_train_acc", "final train acc"),
                ("test_acc", "test acc"), ("test_loss", "test loss"),
                ("train_seconds", "train seconds"))


def print_run_summary(run_dir: Path, summary: dict) -> None:
    """Key numbers, then the run folder alone on the last line (``| tail -1``)."""
    console = Console()
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim", no_wrap=True)
    table.add_column()
    for key, label in SUMMARY_ROWS:
        if summary.get(key) is not None:
            value = summary[key]
            table.add_row(label, seconds(value) if key == "train_seconds" else fmt(value))
    console.print(table, highlight=False)
    print(run_dir, flush=True)


def run_line(r: dict, train_loss: str = "train loss") -> str:
    """A finished sub-run in one line: status, losses and accuracies named, seconds;
    ``train_loss`` names its final train loss (:func:`comparison_loss_name`)."""
    parts = [r["status"]] + [f"{name} {fmt(r[key])}" for key, name in (
        ("final_train_loss", train_loss), ("best_val_acc", "best val acc"),
        ("test_acc", "test acc")) if r.get(key) is not None]
    if r.get("train_seconds") is not None:
        parts.append(f"updates took {seconds(r['train_seconds'])}")
    if r["status"] != "completed" and r.get("error"):
        parts.append(short(r["error"]))
    return "  ".join(parts)


def comparison_loss_name(configs: Sequence[Any]) -> str:
    """One name for the ``final_train_loss`` of every run of a comparison (its configs):
    ``train objective`` if any has weight decay, then how the runs measure it."""
    decay = any(c.regularization.l2 > 0 or c.regularization.l1 > 0 for c in configs)
    modes = {c.training.train_eval for c in configs}
    how = TRAIN_EVAL.get(modes.pop(), "") if len(modes) == 1 else ""
    return f"train {'objective' if decay else 'loss'} {how}".strip()


def short(text: Any, n: int = 90) -> str:
    """``text`` on one line, cut to ``n`` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[:n - 1] + "…"
