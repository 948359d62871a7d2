"""``dlexp compare``, ``dlexp compare-optimizers`` and ``dlexp optimizer-paths``.

A comparison command parses its options, loads the base config, builds its
:class:`~dlexp.experiments.report.Plan` and exits with the code of
:func:`~dlexp.experiments.report.run_and_report` (run, then plot, then print).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, List, Optional

import typer

from dlexp.cli.app import app, fail, handle_errors
from dlexp.cli.helptext import examples
from dlexp.cli.options import BOOK, CONFIG, SET, comparison_options, runs_dir_option
from dlexp.bundled import config_path
from dlexp.experiments import book

if TYPE_CHECKING:
    from dlexp.experiments.sweep import CompareOptions


@app.command(epilog=examples("dlexp compare baseline --vary optimizer.name=sgd,adam --seeds 3",
                             "dlexp compare baseline --vary optimizer.lr=0.01,0.1 --vary model.hidden=[50],[100]"))
@handle_errors
@comparison_options(seeds=1)
def compare(
    config: Path = typer.Argument(..., metavar="CONFIG",
                                 help="Base config: a YAML file or a bundled name."),
    vary: List[str] = typer.Option([], "--vary", metavar="KEY=V1,V2",
                                   help="Values of a key to vary; several --vary make a "
                                        "grid, e.g. --vary optimizer.name=sgd,adam"),
    set_: List[str] = SET, *, opts: CompareOptions,
) -> None:
    """Train a grid of config variants side by side.

    Every combination of the --vary values is trained with each of --seeds seeds; the
    folder gets a summary table and loss and validation-accuracy figures."""
    from dlexp.experiments.report import load_base, run_and_report, vary_sweep
    config = config_path(config)
    base = load_base(config, None, set_, opts)
    raise typer.Exit(run_and_report(base, vary_sweep(config, base, vary, opts.seeds), opts))


@app.command("compare-optimizers",
             epilog=examples("dlexp compare-optimizers",
                             "dlexp compare-optimizers --optimizers sgd,adam --epochs 1 --seeds 1",
                             "dlexp compare-optimizers --hyper adam.lr=0.01"))
@handle_errors
@comparison_options(seeds=3)
def compare_optimizers(
    optimizers: str = typer.Option(book.OPTIMIZERS,
                                   "--optimizers", help="Comma-separated optimizer names."),
    hyper: List[str] = typer.Option([], "--hyper", help="One optimizer's setting, e.g. "
                                    "--hyper adam.lr=0.01 (repeatable)."),
    config: Optional[Path] = CONFIG, set_: List[str] = SET, book_: bool = BOOK, *,
    opts: CompareOptions,
) -> None:
    """Compare the book's optimizers on MNIST (§6.1).

    SGD, Momentum, AdaGrad and Adam as in the book, with RMSProp and Nesterov, each with
    --seeds seeds; the loss figure shows each optimizer's smoothed loss and its band."""
    from dlexp.experiments import optimizers as preset
    from dlexp.experiments.report import load_base, run_and_report
    from dlexp.experiments.variants import seeds_for
    base = load_base(config and config_path(config), preset.NAME,
                     book.with_book(preset.NAME, set_, book_), opts)
    names = preset.parse_optimizers(optimizers)
    plan = preset.plan(names, preset.parse_hyper(hyper, names), seeds_for(base, opts.seeds),
                       base, book_)
    raise typer.Exit(run_and_report(base, plan, opts))


@app.command("optimizer-paths",
             epilog=examples("dlexp optimizer-paths",
                             "dlexp optimizer-paths --function rosenbrock",
                             "dlexp optimizer-paths --optimizers sgd,adam --lr sgd=0.9"))
@handle_errors
def optimizer_paths(
    function: str = typer.Option("anisotropic", "--function", help="The function "
                                 "(anisotropic: the book's x²/20 + y²)."),
    optimizers: Optional[str] = typer.Option(None, "--optimizers",
                                             help="Comma-separated (default: all six)."),
    lr: List[str] = typer.Option([], "--lr", help="NAME=RATE, e.g. --lr sgd=0.9 (repeatable)."),
    steps: Optional[int] = typer.Option(None, "--steps", min=1, help="Updates (default: 30; "
                                        "rosenbrock 300)."),
    start: Optional[str] = typer.Option(None, "--start", help="X,Y, e.g. --start=-7,2."),
    runs_dir: Path = runs_dir_option("Where the run folder goes."),
) -> None:
    """Optimizer paths over a 2-D function's contours (§6.1)."""
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
