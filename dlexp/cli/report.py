"""Tables the CLI prints with rich: a run's summary, the list of runs, the data check."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table


def _fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.4f}"
    return str(v)


def print_run_summary(run_dir: Path, summary: dict) -> None:
    table = Table(title=f"run {run_dir}", show_header=False)
    for key in ("status", "stop_reason", "epochs", "steps", "best_val_acc", "final_train_acc",
                "test_acc", "test_loss", "train_seconds"):
        if summary.get(key) is not None:
            table.add_row(key, _fmt(summary[key]))
    Console().print(table)


def print_runs_table(root: Path) -> None:
    table = Table(title=f"runs in {root}")
    for col in ("run", "started", "status", "best val acc", "test acc"):
        table.add_column(col)
    for d in sorted(Path(root).glob("*/")):
        summary_path = d / "summary.json"
        meta_path = d / "meta.json"
        if not meta_path.is_file():
            continue
        meta = _read(meta_path)
        s = _read(summary_path) if summary_path.is_file() else {"status": "running?"}
        table.add_row(d.name, str(meta.get("started", "")), str(s.get("status")),
                      _fmt(s.get("best_val_acc")), _fmt(s.get("test_acc")))
    Console().print(table)


def print_data_report(folder: Path, checks: list) -> bool:
    table = Table(title=f"MNIST in {folder}")
    for col in ("file", "present", "size", "md5", "sha256", "note"):
        table.add_column(col)
    ok = True
    for c in checks:
        mark = lambda b: "ok" if b else "BAD"  # noqa: E731
        table.add_row(c.name, mark(c.present), mark(c.size_ok), mark(c.md5_ok),
                      mark(c.sha256_ok), c.message or "")
        ok = ok and c.present and c.size_ok and c.md5_ok and c.sha256_ok
    Console().print(table)
    return ok


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
