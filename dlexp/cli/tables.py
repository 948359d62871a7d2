"""The tables of ``dlexp runs`` and ``dlexp data``."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from dlexp.experiments.folders import list_folders, local_time
from dlexp.experiments.tables import narrow_numbers, new_table, print_titled
from dlexp.fmt import fmt


def print_runs_table(root: Path) -> None:
    """One row per folder dlexp wrote under ``root``, oldest first, grouped by date.

    Into a pipe each row stays on one line, so `dlexp runs | grep NAME` finds whole
    names; on a narrow terminal the names fold in their column, the other words stay
    whole."""
    folders, console = list_folders(root), Console()
    if not folders:
        console.print(f"no runs in {root} yet; start one with `dlexp train CONFIG`",
                      soft_wrap=True, highlight=False)
        return
    table = new_table(["run", "kind", "started", "status", "runs", "val acc", "test acc"],
                      right=["runs", "val acc", "test acc"])
    table.padding = 0                                 # the box's one space between columns
    day, cells = None, []
    for f in folders:
        date, clock = local_time(f.started)
        if date != day:
            table.add_row(f"[bold]{date}[/bold]")
            day = date
        cells.append([f.path.name, f.kind, clock[:5], f"{f.status}\n{f.note}".strip(),
                      fmt(f.runs) if f.runs else "", fmt(f.val_acc), fmt(f.test_acc)])
        table.add_row(*cells[-1])
    narrow_numbers(table, cells)
    for column in table.columns[1:4]:                 # kind, started, status
        column.no_wrap = True
    table.columns[0].min_width = len("yyyy-mm-dd")
    if not console.is_terminal:                       # into a pipe: each row on one line
        console = Console(width=10_000)
    print_titled(f"runs in {root}", table, console)
    if any(f.kind in ("compare", "reproduce") for f in folders):
        console.print("what a comparison or reproduce folder holds: dlexp runs --runs-dir "
                      "<its folder>",
                      soft_wrap=True, highlight=False, style="dim")


def print_data_report(folder: Path, checks: list) -> bool:
    """A row per MNIST file (size and checksums against the official ones); True if all ok."""
    table = new_table(["file", "bytes", "MD5", "SHA-256"])
    bad = "[bold red]{}[/]".format
    for c in checks:
        if not c.present:
            table.add_row(c.name, bad("missing"), "—", "—")
            continue
        size = "unreadable" if c.size is None else str(c.size)
        table.add_row(c.name, size if c.size_ok else bad(size),
                      "ok" if c.md5_ok else bad("BAD"), "ok" if c.sha256_ok else bad("BAD"))
    console = Console()
    print_titled(f"MNIST in {folder}", table, console)
    failed = [c for c in checks if not c.ok]
    which = ("is not an official MNIST file; replace it" if len(failed) == 1 else
             "are not official MNIST files; replace them")
    console.print(f"{len(failed)} of the {len(checks)} files {which}, or unset "
                  "DLEXP_DATA_DIR and run `dlexp data --download`"
                  if failed else "all files match the official sizes and checksums",
                  highlight=False, soft_wrap=True)
    return not failed
