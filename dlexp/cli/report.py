"""Tables the CLI prints with rich: a run's summary, the list of runs, the data check."""

from __future__ import annotations

import json
from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table

from dlexp.errors import RunError


def _fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.4f}"
    return str(v)


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
            table.add_row(label, _fmt(summary[key]))
    console.print(table, highlight=False)


def print_runs_table(root: Path) -> None:
    """One row per run folder under ``root`` (oldest first)."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise RunError(f"{root}: not a folder; pass the runs folder with --runs-dir")
    rows = []
    for d in root.glob("*/") if root.is_dir() else ():
        if not (d / "meta.json").is_file():
            continue
        meta = _read(d / "meta.json")
        s = _read(d / "summary.json") if (d / "summary.json").is_file() else {}
        started = str(meta.get("started", ""))[:16].replace("T", " ")
        rows.append((started, d.name, s.get("status", "running?"),
                     _fmt(s.get("best_val_acc")), _fmt(s.get("test_acc"))))
    if not rows:
        Console().print(f"no runs in {root} yet; start one with `dlexp train CONFIG`",
                        soft_wrap=True, highlight=False)
        return
    table = _table()
    table.add_column("run", overflow="fold")          # a long name folds; the rest never do
    table.add_column("started", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("val acc", justify="right", no_wrap=True)
    table.add_column("test acc", justify="right", no_wrap=True)
    for started, name, status, val, test in sorted(rows):
        table.add_row(name, started, str(status), val, test)
    _print_titled(Console(), f"runs in {root}", table)


def print_data_report(folder: Path, checks: list) -> bool:
    """A row per MNIST file (size and checksums against the official ones); True if all ok."""
    table = _table()
    for col in ("file", "bytes", "MD5", "SHA-256"):
        table.add_column(col, no_wrap=True)
    mark = lambda ok: "ok" if ok else "[bold red]BAD[/]"  # noqa: E731
    for c in checks:
        if not c.present:
            table.add_row(c.name, "[bold red]missing[/]", "—", "—")
            continue
        size = _size(Path(folder) / c.name)
        table.add_row(c.name, f"{size}" if c.size_ok else f"[bold red]{size}[/]",
                      mark(c.md5_ok), mark(c.sha256_ok))
    console = Console()
    _print_titled(console, f"MNIST in {folder}", table)
    bad = [c for c in checks if not c.ok]
    if bad:
        console.print(f"{len(bad)} of {len(checks)} files are not the official MNIST files; "
                      "replace them, or unset DLEXP_DATA_DIR and run `dlexp data --download`",
                      highlight=False, soft_wrap=True)
    else:
        console.print("all files match the official sizes and checksums", highlight=False)
    return not bad


def _table() -> Table:
    """A borderless table: fits 80 columns, reads well in a log file."""
    return Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)


def _print_titled(console: Console, title: str, table: Table) -> None:
    """The title on a line of its own (a long path is never wrapped), then the table."""
    console.print(f"[bold]{title}[/bold]", soft_wrap=True, highlight=False)
    console.print(table, highlight=False)


def _size(path: Path) -> str:
    try:
        return str(path.stat().st_size)
    except OSError:
        return "unreadable"


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def print_rows(rows: list[dict], columns: list[str], title: str = "") -> None:
    """A table of dict rows, numbers to 4 decimals."""
    table = Table(title=title or None)
    for col in columns:
        table.add_column(col)
    for r in rows:
        table.add_row(*(_fmt(r.get(c)) for c in columns))
    Console().print(table)
