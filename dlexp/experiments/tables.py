"""Tables printed to a terminal or a log: readable in 80 columns, numbers through ``fmt``.

Rich fits a table to the console: the terminal's width, or 80 columns when stdout is a
pipe or a file (``$COLUMNS`` overrides both). Every column here *folds*: text that does
not fit wraps onto the next line of its cell (at spaces where it can) instead of being
cut with an ellipsis, so a logged table loses nothing. Headers are short words, which
wrap at their spaces. A mean over seeds with its spread prints as ``0.229 ± 0.016``
(3 decimals each); other numbers as :func:`dlexp.fmt.fmt` shows them (None: ``—``).
"""

from __future__ import annotations

import numbers
import sys
from pathlib import Path
from typing import Any, Mapping, Sequence

from rich import box
from rich.console import Console
from rich.table import Table

from dlexp.fmt import fmt, fmt_column
from dlexp.train.rundir import has_weight_decay, train_evals


def cell(value: Any, std: Any = None) -> str:
    """``value`` as table text; ``value ± std`` when there is a spread, the spread in the
    mean's own fixed decimals when the mean has them (``0.929 ± 0.001``, not 6.8e-04:
    a spread is read against its mean)."""
    if value is None or std is None:
        return fmt(value)
    mean = fmt(value, 3)
    fixed = "e" not in mean and isinstance(std, numbers.Real)
    return f"{mean} ± {float(std):.3f}" if fixed else f"{mean} ± {fmt(std, 3)}"


def header(column: str) -> str:
    """A column key as a header: the last part of a dotted key, ``_`` as spaces."""
    return column.rsplit(".", 1)[-1].replace("_", " ")


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
    """A table of dict rows: ``columns`` in order, headed ``headers[c]`` or
    :func:`header`; numbers right-aligned; ``c_std`` in a row adds a ``± std``."""
    names = [(headers or {}).get(c) or header(c) for c in columns]
    numeric = [name for name, c in zip(names, columns)
               if all(_is_number(r.get(c)) for r in rows)]
    by_column = [fmt_column([r.get(c) for r in rows])
                 if not any(r.get(f"{c}_std") is not None for r in rows)
                 else [cell(r.get(c), r.get(f"{c}_std")) for r in rows] for c in columns]
    cells = [list(row) for row in zip(*by_column)] if rows else []
    table = new_table(names, right=numeric)
    for row in cells:
        table.add_row(*row)
    narrow_numbers(table, cells)
    print_titled(title, table, console)


def narrow_numbers(table: Table, cells: Sequence[Sequence[str]]) -> None:
    """Make each right-aligned (number) column as wide as its widest cell, or the longest
    word of its header: the header wraps, and the width goes to the text columns."""
    for i, col in enumerate(table.columns):
        if col.justify == "right":
            words = max(len(w) for w in str(col.header).split())
            col.max_width = max([words, *(len(row[i]) for row in cells if i < len(row))])


def _is_number(value: Any) -> bool:
    return value is None or (isinstance(value, numbers.Real) and not isinstance(value, bool))


SUMMARY_ROWS = (("status", "status"), ("stop_reason", "stopped"), ("epochs", "epochs"),
                ("steps", "updates"), ("best_val_acc", "best val acc"),
                ("best_epoch", "best epoch"), ("final_train_acc", "final train acc"),
                ("test_acc", "test acc"), ("test_loss", "test loss"),
                ("train_seconds", "train seconds"))


def print_run_summary(run_dir: Path, summary: dict) -> None:
    """The run folder on one line of its own (never wrapped), then key numbers."""
    console = Console()
    console.print(f"run [bold]{run_dir}[/bold]", soft_wrap=True, highlight=False)
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim", no_wrap=True)
    table.add_column()
    for key, label in SUMMARY_ROWS:
        if summary.get(key) is not None:
            table.add_row(label, fmt(summary[key]))
    console.print(table, highlight=False)


def say(line: str) -> None:
    """One line on stderr, flushed (what to do next, a folder, a warning)."""
    print(line, file=sys.stderr, flush=True)


RUN_LINE = (("final_train_loss", "train loss"), ("best_val_acc", "best val acc"),
            ("test_acc", "test acc"))
TRAIN_EVAL = {"full": "(whole set)", "running": "since last eval"}


def run_line(r: dict, train_loss: str = "train loss") -> str:
    """A finished sub-run in one line: status, losses and accuracies named, seconds;
    ``train_loss`` names its final train loss (:func:`train_loss_name`)."""
    names = {**dict(RUN_LINE), "final_train_loss": train_loss}
    parts = [r["status"]] + [f"{names[key]} {fmt(r[key])}" for key, _ in RUN_LINE
                             if r.get(key) is not None]
    if r.get("train_seconds") is not None:
        parts.append(f"updates took {fmt(r['train_seconds'], 1)} s")
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


def train_loss_name(run_dir: Path) -> str:
    """What a run's ``final_train_loss`` is, from its config.yaml: ``train loss`` or, with
    weight decay, ``train objective``; then ``(whole set)`` or ``since last eval``."""
    what = "objective" if has_weight_decay([run_dir]) else "loss"
    (mode,) = train_evals([run_dir])
    return f"train {what} {TRAIN_EVAL.get(mode, '')}".strip()


def short(text: Any, n: int = 90) -> str:
    """``text`` on one line, cut to ``n`` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[:n - 1] + "…"
