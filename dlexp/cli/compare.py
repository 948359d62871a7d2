"""``dlexp compare`` and ``dlexp optimizer-paths``.

A comparison command parses its options, loads the base config, builds its
:class:`~dlexp.experiments.sweep.Sweep` and exits with the code of
:func:`~dlexp.experiments.report.run_and_report` (run, then plot, then print).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, List, Optional

import typer

from dlexp.cli.app import app, fail, handle_errors
from dlexp.cli.options import SET, comparison_options, runs_dir_option

if TYPE_CHECKING:
    from dlexp.experiments.sweep import CompareOptions


@app.command()
@handle_errors
@comparison_options(seeds=1)
def compare(
    config: Path = typer.Argument(..., metavar="CONFIG",
                                 help="Base YAML config (see configs/)."),
    vary: List[str] = typer.Option([], "--vary", metavar="KEY=V1,V2",
                                   help="Values of a key to vary; several --vary make a "
                                        "grid, e.g. --vary optimizer.name=sgd,adam"),
    set_: List[str] = SET, *, opts: CompareOptions,
) -> None:
    """Train variants of CONFIG side by side: a grid of --vary values × --seeds."""
    from dlexp.experiments.report import load_base, run_and_report, vary_sweep
    base = load_base(config, None, set_, opts)
    raise typer.Exit(run_and_report(base, vary_sweep(config, base, vary, opts.seeds), opts))


@app.command("optimizer-paths")
@handle_errors
def optimizer_paths(
    function: str = typer.Option("anisotropic", "--function", help="anisotropic (the "
                                 "book's x²/20 + y²), rotated or rosenbrock."),
    optimizers: Optional[str] = typer.Option(None, "--optimizers",
                                             help="Comma-separated (default: all six)."),
    lr: List[str] = typer.Option([], "--lr", help="NAME=RATE, e.g. --lr sgd=0.9 (repeatable)."),
    steps: Optional[int] = typer.Option(None, "--steps", min=1, help="Updates (default: 30; "
                                        "rosenbrock 300)."),
    start: Optional[str] = typer.Option(None, "--start", help="X,Y, e.g. --start=-7,2."),
    runs_dir: Path = runs_dir_option("Where the run folder goes."),
) -> None:
    """Paths of the optimizers on a 2-D function, over its contours (book §6.1)."""
    from dlexp.experiments.optimizers import parse_optimizers
    from dlexp.cli.quick import paths_report
    names = tuple(parse_optimizers(optimizers)) if optimizers else None
    rates = dict(_number_pair(item, "--lr", "NAME=RATE, e.g. --lr sgd=0.9") for item in lr)
    point = None
    if start is not None:
        x, sep, y = start.partition(",")
        if not sep:
            raise fail(f"--start {start!r}: expected X,Y, e.g. --start=-7,2")
        point = (_float(x, "--start", start), _float(y, "--start", start))
    paths_report(function, names, rates, steps, point, runs_dir)


def _number_pair(item: str, option: str, example: str) -> tuple[str, float]:
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise fail(f"{option} {item!r}: expected {example}")
    return key.strip(), _float(value, option, item)


def _float(text: str, option: str, item: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise fail(f"{option} {item!r}: {text.strip()!r} is not a number") from None
