"""Tables the CLI prints with rich: the list of runs, the data check."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from dlexp.experiments.tables import narrow_numbers, new_table, print_titled
from dlexp.fmt import fmt

def print_runs_table(root: Path) -> None:
    """One row per folder dlexp wrote under ``root``, oldest first, grouped by date."""
    from dlexp.experiments.folders import list_folders, local_time
    folders = list_folders(root)
    if not folders:
        Console().print(f"no runs in {root} yet; start one with `dlexp train CONFIG`",
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
        status = f"{f.status}\n{f.note}" if f.note else f.status
        cells.append([f.path.name, f.kind, clock[:5], status, fmt(f.runs) if f.runs else "",
                      fmt(f.val_acc), fmt(f.test_acc)])
        table.add_row(*cells[-1])
    narrow_numbers(table, cells)
    print_titled(f"runs in {root}", table, _fit(table, cells))
    if any(f.kind == "compare" for f in folders):
        Console().print("a comparison's sub-runs: dlexp runs --runs-dir <its folder>",
                        soft_wrap=True, highlight=False, style="dim")


def _fit(table: Table, cells: list[list[str]]) -> Console:
    """A console the table fits. Every column but the first (folder names) keeps its
    words whole (``no_wrap``). Into a pipe or a file the console is as wide as the table,
    so each row stays on one line and `dlexp runs | grep NAME` finds whole names; on a
    terminal too narrow for the longest name, names fold in their column instead."""
    for column in table.columns[1:4]:                 # kind, started, status
        column.no_wrap = True
    natural = [max([len(w) for w in str(c.header).split()] +
                   [len(line) for row in cells for line in row[i].splitlines()])
               for i, c in enumerate(table.columns)]
    names = table.columns[0]
    names.width = max(natural[0], len("yyyy-mm-dd"))
    console = Console()
    if not console.is_terminal:
        return Console(width=max(console.width, names.width + sum(natural[1:]) + len(natural)))
    room = console.width - sum(natural[1:]) - (len(natural) - 1)
    if room < names.width:
        names.width = max(room, len("yyyy-mm-dd"))
    return console


def print_data_report(folder: Path, checks: list) -> bool:
    """A row per MNIST file (size and checksums against the official ones); True if all ok."""
    table = new_table(["file", "bytes", "MD5", "SHA-256"])
    mark = lambda ok: "ok" if ok else "[bold red]BAD[/]"  # noqa: E731
    for c in checks:
        if not c.present:
            table.add_row(c.name, "[bold red]missing[/]", "—", "—")
            continue
        size = _size(Path(folder) / c.name)
        table.add_row(c.name, f"{size}" if c.size_ok else f"[bold red]{size}[/]",
                      mark(c.md5_ok), mark(c.sha256_ok))
    console = Console()
    print_titled(f"MNIST in {folder}", table, console)
    bad = [c for c in checks if not c.ok]
    if bad:
        console.print(f"{len(bad)} of {len(checks)} files are not the official MNIST files; "
                      "replace them, or unset DLEXP_DATA_DIR and run `dlexp data --download`",
                      highlight=False, soft_wrap=True)
    else:
        console.print("all files match the official sizes and checksums", highlight=False)
    return not bad


def _size(path: Path) -> str:
    try:
        return str(path.stat().st_size)
    except OSError:
        return "unreadable"
