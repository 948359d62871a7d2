"""The book's §6.2–6.4 experiments as comparison presets: ``compare-inits``,
``batchnorm``, ``overfit-weight-decay``, ``overfit-dropout`` and ``ensemble``.

Each parses its options, reads its base config (``configs/<preset>.yaml``, or
``--config``) with ``--set`` overrides, asks the preset's module
(:mod:`dlexp.experiments.inits`, ``batchnorm``, ``overfit``, ``ensemble``) for its plan
and exits with the code of :func:`~dlexp.experiments.report.run_and_report`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, List, Optional

import typer

from dlexp.cli.app import app, handle_errors
from dlexp.cli.helptext import examples
from dlexp.cli.options import BOOK, CONFIG, SET, comparison_options
from dlexp.bundled import config_path
from dlexp.experiments import book

if TYPE_CHECKING:
    from dlexp.experiments.sweep import CompareOptions


@app.command("compare-inits",
             epilog=examples("dlexp compare-inits",
                             "dlexp compare-inits --inits normal=0.01,he_normal --epochs 1"))
@handle_errors
@comparison_options(seeds=3)
def compare_inits(
    inits: str = typer.Option(book.INITS, "--inits",
                              help="Comma-separated initializers; normal as normal=STD."),
    config: Optional[Path] = CONFIG, set_: List[str] = SET, book_: bool = BOOK, *,
    opts: CompareOptions,
) -> None:
    """Compare weight initialisers on MNIST (§6.2).

    The book's four: std 0.01, its 'Xavier' (lecun_normal), He and zeros, each with
    --seeds seeds."""
    from dlexp.experiments import inits as preset
    from dlexp.experiments.report import load_base, run_and_report
    from dlexp.experiments.variants import seeds_for
    base = load_base(config and config_path(config), preset.NAME,
                     book.with_book(preset.NAME, set_, book_), opts)
    plan = preset.plan(preset.parse_inits(inits), seeds_for(base, opts.seeds))
    raise typer.Exit(run_and_report(base, plan, opts))


@app.command("batchnorm",
             epilog=examples("dlexp batchnorm", "dlexp batchnorm --scales 4 --seeds 1"))
@handle_errors
@comparison_options(seeds=3, exclude=("smooth",))              # no loss figure to smooth
def batchnorm(
    scales: int = typer.Option(book.WEIGHT_SCALES, "--scales", min=1, help="Weight "
                               "scales, log-spaced from --high to --low (the book: 16 from "
                               "1 to 1e-4)."),
    high: float = typer.Option(book.HIGH_STD, "--high", help="Largest weight std."),
    low: float = typer.Option(book.LOW_STD, "--low", help="Smallest weight std."),
    target: float = typer.Option(book.BN_TARGET, "--target", help="Training accuracy whose "
                                 "epoch count gives the speed-up."),
    config: Optional[Path] = CONFIG, set_: List[str] = SET, book_: bool = BOOK, *,
    opts: CompareOptions,
) -> None:
    """Batch norm against none across weight scales (§6.3).

    For each weight std, training accuracy per epoch with and without batch norm, and
    the epochs each needs to reach --target."""
    from dlexp.experiments import batchnorm as preset
    from dlexp.experiments.report import load_base, run_and_report
    from dlexp.experiments.variants import seeds_for
    preset.check_target(target)
    base = load_base(config and config_path(config), preset.NAME,
                     book.with_book(preset.NAME, set_, book_), opts)
    plan = preset.plan(preset.weight_scales(scales, high, low), target,
                       seeds_for(base, opts.seeds))
    raise typer.Exit(run_and_report(base, plan, opts))


@app.command("overfit-weight-decay",
             epilog=examples("dlexp overfit-weight-decay", "dlexp overfit-weight-decay --l2 0,0.1 --l1 0.001"))
@handle_errors
@comparison_options(seeds=3)
def overfit_weight_decay(
    l2: str = typer.Option(book.L2, "--l2", help="Comma-separated L2 strengths λ."),
    l1: str = typer.Option("", "--l1", help="Comma-separated L1 strengths, each a variant "
                           "of its own (e.g. --l1 0.001)."),
    config: Optional[Path] = CONFIG, set_: List[str] = SET, book_: bool = BOOK, *,
    opts: CompareOptions,
) -> None:
    """Weight decay against overfitting 300 images (§6.4).

    Training against validation accuracy for each L2 (and L1) strength."""
    from dlexp.experiments import overfit as preset
    from dlexp.experiments.report import load_base, run_and_report
    from dlexp.experiments.variants import seeds_for
    base = load_base(config and config_path(config), preset.CONFIG,
                     book.with_book(preset.DECAY, set_, book_), opts)
    variants = preset.decay_variants(preset.parse_values(l2, "--l2"),
                                     preset.parse_values(l1, "--l1"),
                                     seeds_for(base, opts.seeds))
    raise typer.Exit(run_and_report(base, preset.plan(preset.DECAY, variants), opts))


@app.command("overfit-dropout",
             epilog=examples("dlexp overfit-dropout", "dlexp overfit-dropout --dropout 0,0.15,0.3"))
@handle_errors
@comparison_options(seeds=3)
def overfit_dropout(
    dropout: str = typer.Option(book.DROPOUTS, "--dropout", help="Comma-separated dropout "
                                "probabilities."),
    config: Optional[Path] = CONFIG, set_: List[str] = SET, book_: bool = BOOK, *,
    opts: CompareOptions,
) -> None:
    """Dropout against overfitting 300 images (§6.4).

    Training against validation accuracy for each dropout probability."""
    from dlexp.experiments import overfit as preset
    from dlexp.experiments.report import load_base, run_and_report
    from dlexp.experiments.variants import seeds_for
    base = load_base(config and config_path(config), preset.CONFIG,
                     book.with_book(preset.DROPOUT, set_, book_), opts)
    variants = preset.dropout_variants(preset.parse_values(dropout, "--dropout", high=1.0),
                                       seeds_for(base, opts.seeds))
    raise typer.Exit(run_and_report(base, preset.plan(preset.DROPOUT, variants), opts))


@app.command("ensemble",
             epilog=examples("dlexp ensemble", "dlexp ensemble --members 10 --dropout 0.2"))
@handle_errors
@comparison_options(exclude=("seeds",))
def ensemble(
    members: int = typer.Option(book.ENSEMBLE_MEMBERS, "--members", "--seeds", min=1,
                                help="Networks averaged: seeds seed, seed+1, … (--seeds is "
                                "the same option: each member is one seed)."),
    dropout: float = typer.Option(book.ENSEMBLE_DROPOUT, "--dropout", help="Dropout of the "
                                  "networks compared "
                                  "(as many seeds; 0: none)."),
    config: Optional[Path] = CONFIG, set_: List[str] = SET, *, opts: CompareOptions,
) -> None:
    """Average N networks; compare with dropout (§6.4).

    Accuracy of the average of the members' softmax outputs as members are added,
    beside single networks with and without dropout."""
    from dlexp.experiments import ensemble as preset
    from dlexp.experiments.report import load_base, run_and_report
    base = load_base(config and config_path(config), preset.CONFIG, set_, opts)
    raise typer.Exit(run_and_report(base, preset.plan(base, members, dropout), opts))
