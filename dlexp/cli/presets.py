"""The comparison commands: each asks its module of :mod:`dlexp.experiments` for the sweep
and exits with the code of :func:`~dlexp.experiments.report.run_and_report`."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Callable, List, Optional, Sequence

import typer

from dlexp import book
from dlexp.bundled import config_path
from dlexp.cli.app import BOOK, CONFIG, JOBS, QUIET, RUNS_DIR, SET, app
from dlexp.book import with_book

if TYPE_CHECKING:
    from dlexp.experiments.sweep import CompareOptions, Sweep

# The options every comparison takes, handed to it as one CompareOptions.
SHARED: tuple[tuple[str, object, typer.models.OptionInfo], ...] = (
    ("iterations", Optional[int], typer.Option(None, "--iterations", min=1,
                                               help="Updates per run (not the config's).")),
    ("epochs", Optional[int], typer.Option(None, "--epochs", min=1,
                                           help="Epochs per run instead.")),
    ("smooth", int, typer.Option(50, "--smooth", min=1, help="Span W of the smoothed loss: "
                                 "an exponential average with β = 1 − 2/(W+1).")),
    ("name", Optional[str], typer.Option(None, "--name", help="The folder's name (default: "
                                         "the command's).")),
    ("jobs", Optional[int], JOBS),
    ("runs_dir", Path, RUNS_DIR),
    ("band", str, typer.Option("minmax", "--band", help="The band over seeds: min–max, or "
                               "mean ± 1 std.")),
    ("quiet", bool, QUIET),
    ("resume", Optional[Path], typer.Option(None, "--resume", metavar="DIR", help="Finish "
                                            "the interrupted comparison in DIR (the same "
                                            "command and options).")),
)


def comparison(name: str, *examples: str, preset: str | None = None, book: str | None = None,
               seeds: int = 3, exclude: Sequence[str] = ()) -> Callable:
    """Register comparison ``name``: the function's own options, then ``--config`` (the
    bundled ``preset`` by default, unless the function takes CONFIG itself), ``--set``,
    ``--book`` (the book's overrides for ``book``, if given), ``--seeds`` (default
    ``seeds``) and :data:`SHARED` minus ``exclude``. The function gets the base mapping,
    its variants' seeds, the options (and ``book_`` if it asks) and returns the Sweep."""
    seeds_option = typer.Option(seeds, "--seeds", min=1, help="Seeds per variant (the base "
                                "seed, +1, …); bands show their spread.")
    shared = [(k, kind, option) for k, kind, option in [("seeds", int, seeds_option), *SHARED]
              if k not in exclude]

    def decorate(fn: Callable) -> Callable:
        own = [p for p in inspect.signature(fn).parameters.values()
               if p.name not in ("base", "seeds", "opts", "book_")]
        base_options = [("set_", List[str], SET), *[("book_", bool, BOOK)] * bool(book)]
        if preset is not None:
            base_options.insert(0, ("config", Optional[Path], CONFIG))
        params = [inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, default=option,
                                    annotation=kind)
                  for key, kind, option in [*base_options, *shared]]

        def command(**kwargs) -> None:
            from dlexp.experiments.report import load_base, run_and_report
            from dlexp.experiments.sweep import CompareOptions
            from dlexp.experiments.variants import seeds_for
            from dlexp.fmt import check_band
            opts = CompareOptions(**{k: kwargs.pop(k) for k, _, _ in shared}, draw=_draw)
            check_band(opts.band)
            as_book = kwargs.pop("book_", False)
            sets = with_book(book, kwargs.pop("set_"), as_book)
            config = kwargs.pop("config") if preset is not None else kwargs["config"]
            base = load_base(config and config_path(config), preset, sets, opts)
            if "book_" in inspect.signature(fn).parameters:
                kwargs["book_"] = as_book
            sweep = fn(**kwargs, base=base, seeds=seeds_for(base, opts.seeds), opts=opts)
            raise typer.Exit(run_and_report(base, sweep, opts))

        command.__name__, command.__doc__ = fn.__name__, fn.__doc__
        command.__signature__ = inspect.Signature([*own, *params])
        command.__annotations__ = {p.name: p.annotation for p in [*own, *params]}
        return app.command(name, *examples)(command)

    return decorate


def _draw(names: Sequence[str], out_dir: Path, band: str, interrupted: bool) -> None:
    from dlexp.plots.compare import draw_figures     # matplotlib: only once training is over
    draw_figures(names, out_dir, band, interrupted)


@comparison("compare", "dlexp compare baseline --vary optimizer.name=sgd,adam --seeds 3",
            "dlexp compare baseline --vary optimizer.lr=0.01,0.1 --vary model.hidden=[50],[100]",
            seeds=1)
def compare(
    config: Path = typer.Argument(..., metavar="CONFIG",
                                  help="Base config: a YAML file or a bundled name."),
    vary: List[str] = typer.Option([], "--vary", metavar="KEY=V1,V2", help="Values of a "
                                   "key to vary; several --vary make a grid, e.g. --vary "
                                   "optimizer.name=sgd,adam"), *,
    base: dict, seeds: list[int] | None, opts: CompareOptions,
) -> Sweep:
    """Train a grid of config variants side by side.

    Every combination of the --vary values is trained with each of --seeds seeds; the
    folder gets a summary table and loss and validation-accuracy figures."""
    from dlexp.experiments.report import vary_sweep
    return vary_sweep(config_path(config), base, vary, opts.seeds)


@comparison("compare-optimizers", "dlexp compare-optimizers",
            "dlexp compare-optimizers --optimizers sgd,adam --epochs 1 --seeds 1",
            "dlexp compare-optimizers --hyper adam.lr=0.01",
            preset="compare-optimizers", book="compare-optimizers")
def compare_optimizers(
    optimizers: str = typer.Option(book.OPTIMIZERS, "--optimizers",
                                   help="Comma-separated optimizer names."),
    hyper: List[str] = typer.Option([], "--hyper", help="One optimizer's setting, e.g. "
                                    "--hyper adam.lr=0.01 (repeatable)."), *,
    base: dict, seeds: list[int] | None, opts: CompareOptions, book_: bool,
) -> Sweep:
    """Compare the book's optimizers on MNIST (§6.1).

    SGD, Momentum, AdaGrad and Adam as in the book, with RMSProp and Nesterov, each with
    --seeds seeds; the loss figure shows each optimizer's smoothed loss and its band."""
    from dlexp.experiments import optimizers as preset
    return preset.plan(base, seeds, optimizers, hyper, book_)


@comparison("compare-inits", "dlexp compare-inits",
            "dlexp compare-inits --inits normal=0.01,he_normal --epochs 1",
            preset="compare-inits", book="compare-inits")
def compare_inits(
    inits: str = typer.Option(book.INITS, "--inits",
                              help="Comma-separated initializers; normal as normal=STD."), *,
    base: dict, seeds: list[int] | None, opts: CompareOptions,
) -> Sweep:
    """Compare weight initialisers on MNIST (§6.2).

    The book's four: std 0.01, its 'Xavier' (lecun_normal), He and zeros, each with
    --seeds seeds."""
    from dlexp.experiments import inits as preset
    return preset.plan(base, seeds, inits)


@comparison("batchnorm", "dlexp batchnorm", "dlexp batchnorm --scales 4 --seeds 1",
            preset="batchnorm", book="batchnorm", exclude=("smooth",))   # no loss figure
def batchnorm(
    scales: int = typer.Option(book.WEIGHT_SCALES, "--scales", min=1, help="Weight "
                               "scales, log-spaced from --high to --low (the book: 16 from "
                               "1 to 1e-4)."),
    high: float = typer.Option(book.HIGH_STD, "--high", help="Largest weight std."),
    low: float = typer.Option(book.LOW_STD, "--low", help="Smallest weight std."),
    target: float = typer.Option(book.BN_TARGET, "--target", help="Training accuracy whose "
                                 "epoch count gives the speed-up."), *,
    base: dict, seeds: list[int] | None, opts: CompareOptions,
) -> Sweep:
    """Batch norm against none across weight scales (§6.3).

    For each weight std, training accuracy per epoch with and without batch norm, and
    the epochs each needs to reach --target."""
    from dlexp.experiments import batchnorm as preset
    return preset.plan(base, seeds, scales, high, low, target)


@comparison("overfit-weight-decay", "dlexp overfit-weight-decay",
            "dlexp overfit-weight-decay --l2 0,0.1 --l1 0.001",
            preset="overfit", book="overfit-weight-decay")
def overfit_weight_decay(
    l2: str = typer.Option(book.L2, "--l2", help="Comma-separated L2 strengths λ."),
    l1: str = typer.Option("", "--l1", help="Comma-separated L1 strengths, each a variant "
                           "of its own (e.g. --l1 0.001)."), *,
    base: dict, seeds: list[int] | None, opts: CompareOptions,
) -> Sweep:
    """Weight decay against overfitting 300 images (§6.4).

    Training against validation accuracy for each L2 (and L1) strength."""
    from dlexp.experiments import overfit as preset
    return preset.decay_plan(base, seeds, l2, l1)


@comparison("overfit-dropout", "dlexp overfit-dropout",
            "dlexp overfit-dropout --dropout 0,0.15,0.3",
            preset="overfit", book="overfit-dropout")
def overfit_dropout(
    dropout: str = typer.Option(book.DROPOUTS, "--dropout", help="Comma-separated dropout "
                                "probabilities."), *,
    base: dict, seeds: list[int] | None, opts: CompareOptions,
) -> Sweep:
    """Dropout against overfitting 300 images (§6.4).

    Training against validation accuracy for each dropout probability."""
    from dlexp.experiments import overfit as preset
    return preset.dropout_plan(base, seeds, dropout)


@comparison("ensemble", "dlexp ensemble", "dlexp ensemble --members 10 --dropout 0.2",
            preset="overfit", exclude=("seeds",))
def ensemble(
    members: int = typer.Option(book.ENSEMBLE_MEMBERS, "--members", "--seeds", min=1,
                                help="Networks averaged: seeds seed, seed+1, … (--seeds is "
                                "the same option: each member is one seed)."),
    dropout: float = typer.Option(book.ENSEMBLE_DROPOUT, "--dropout", help="Dropout of the "
                                  "networks compared (as many seeds; 0: none)."), *,
    base: dict, seeds: list[int] | None, opts: CompareOptions,
) -> Sweep:
    """Average N networks; compare with dropout (§6.4).

    Accuracy of the average of the members' softmax outputs as members are added,
    beside single networks with and without dropout."""
    from dlexp.experiments import overfit as preset
    return preset.ensemble_plan(base, seeds, members, dropout)


@comparison("lr-decay", "dlexp lr-decay", "dlexp lr-decay --seeds 1 --iterations 600",
            preset="compare-optimizers")
def lr_decay(*, base: dict, seeds: list[int] | None, opts: CompareOptions) -> Sweep:
    """Constant, step, exponential, inverse-time and cosine learning rates on one budget,
    SGD and Momentum (§6.1.5)."""
    from dlexp.experiments import optimizers as preset
    return preset.decay_plan(base, seeds)


@comparison("batchnorm-overfit", "dlexp batchnorm-overfit",
            "dlexp batchnorm-overfit --seeds 1 --epochs 100", preset="overfit")
def batchnorm_overfit(*, base: dict, seeds: list[int] | None, opts: CompareOptions) -> Sweep:
    """Plain, batch norm, dropout and both on the 300-image overfitting setup (§6.3)."""
    from dlexp.experiments import overfit as preset
    return preset.bn_overfit_plan(base, seeds)
