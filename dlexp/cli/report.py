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
    day, cells = None, []
    for f in folders:
        date, clock = local_time(f.started)
        if date != day:
            table.add_row(f"[bold]{date}[/bold]")
            day = date
        status = f"{f.status}\n{f.note}" if f.note else f.status
        cells.append([f.path.name, f.kind, clock, status, fmt(f.runs) if f.runs else "",
                      fmt(f.val_acc), fmt(f.test_acc)])
        table.add_row(*cells[-1])
    narrow_numbers(table, cells)
    print_titled(f"runs in {root}", table, _unwrapped_first_column(table, cells))
    if any(f.kind == "compare" for f in folders):
        Console().print("a comparison's sub-runs: dlexp runs --runs-dir <its folder>",
                        soft_wrap=True, highlight=False, style="dim")


def _unwrapped_first_column(table: Table, cells: list[list[str]], floor: int = 6) -> Console:
    """A console on which the first column's cells (folder names) stay on one line each,
    so `dlexp runs | grep NAME` finds whole names. That column gets the width of the
    longest name. On a terminal the other columns fold to make room (to no less than
    ``floor`` characters each, else the console is widened); into a pipe or a file the
    console is as wide as the table, so each row stays on its line(s) whole."""
    column = table.columns[0]
    column.no_wrap = True
    column.width = max([len(row[0]) for row in cells] + [len("yyyy-mm-dd")])
    console = Console()
    if console.is_terminal:
        natural = [max([len(w) for w in str(c.header).split()] +
                       [len(line) for row in cells for line in row[i].splitlines()])
                   for i, c in enumerate(table.columns) if i]
        need = column.width + sum(min(n, floor) for n in natural) + 2 * len(natural)
    else:
        need = Console(width=10_000).measure(table).maximum
    return console if need <= console.width else Console(width=need)


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
