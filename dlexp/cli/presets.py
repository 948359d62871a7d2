"""The book's chapter 6 experiments, one command each: ``compare-optimizers`` (§6.1),
``compare-inits`` (§6.2), ``batchnorm`` (§6.3), ``overfit-weight-decay``,
``overfit-dropout`` and ``ensemble`` (§6.4).

Each reads its base config (``configs/<preset>.yaml``, or ``--config``) with ``--set``
overrides, asks the section's module in :mod:`dlexp.experiments` for its
:class:`~dlexp.experiments.sweep.Sweep` (variants, analyses, figures) and exits with the
code of :func:`~dlexp.experiments.report.run_and_report`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, List, Optional

import typer

from dlexp.cli.app import app, handle_errors
from dlexp.cli.options import CONFIG, SET, comparison_options
from dlexp.experiments import book

if TYPE_CHECKING:
    from dlexp.experiments.sweep import CompareOptions


@app.command("compare-optimizers")
@handle_errors
@comparison_options(seeds=3)
def compare_optimizers(
    optimizers: str = typer.Option(book.OPTIMIZERS,
                                   "--optimizers", help="Comma-separated optimizer names."),
    hyper: List[str] = typer.Option([], "--hyper", help="One optimizer's setting, e.g. "
                                    "--hyper adam.lr=0.01 (repeatable)."),
    config: Optional[Path] = CONFIG, set_: List[str] = SET, *, opts: CompareOptions,
) -> None:
    """The book's MNIST comparison of SGD, Momentum, AdaGrad, Adam (+ RMSProp, Nesterov)."""
    from dlexp.experiments import optimizers as preset
    from dlexp.experiments.report import load_base, run_and_report
    from dlexp.experiments.variants import seeds_for
    base = load_base(config, preset.NAME, set_, opts)
    names = preset.parse_optimizers(optimizers)
    plan = preset.plan(names, preset.parse_hyper(hyper, names), seeds_for(base, opts.seeds),
                       base)
    raise typer.Exit(run_and_report(base, plan, opts))


@app.command("compare-inits")
@handle_errors
@comparison_options(seeds=3)
def compare_inits(
    inits: str = typer.Option(book.INITS, "--inits",
                              help="Comma-separated initializers; normal as normal=STD."),
    config: Optional[Path] = CONFIG, set_: List[str] = SET, *, opts: CompareOptions,
) -> None:
    """Std 0.01, 'Xavier' (lecun_normal), He and zeros initial weights on MNIST (§6.2)."""
    from dlexp.experiments import inits as preset
    from dlexp.experiments.report import load_base, run_and_report
    from dlexp.experiments.variants import seeds_for
    base = load_base(config, preset.NAME, set_, opts)
    plan = preset.plan(preset.parse_inits(inits), seeds_for(base, opts.seeds))
    raise typer.Exit(run_and_report(base, plan, opts))


@app.command("batchnorm")
@handle_errors
@comparison_options(seeds=3)
def batchnorm(
    scales: int = typer.Option(book.WEIGHT_SCALES, "--scales", min=1, help="Weight "
                               "scales, log-spaced from --high to --low (the book: 16 from "
                               "1 to 1e-4)."),
    high: float = typer.Option(book.HIGH_STD, "--high", help="Largest weight std."),
    low: float = typer.Option(book.LOW_STD, "--low", help="Smallest weight std."),
    target: float = typer.Option(book.BN_TARGET, "--target", help="Training accuracy whose "
                                 "epoch count gives the speed-up."),
    config: Optional[Path] = CONFIG, set_: List[str] = SET, *, opts: CompareOptions,
) -> None:
    """Training accuracy with and without batch norm across weight scales (§6.3)."""
    from dlexp.experiments import batchnorm as preset
    from dlexp.experiments.report import load_base, run_and_report
    from dlexp.experiments.variants import seeds_for
    preset.check_target(target)
    base = load_base(config, preset.NAME, set_, opts)
    plan = preset.plan(preset.weight_scales(scales, high, low), target,
                       seeds_for(base, opts.seeds))
    raise typer.Exit(run_and_report(base, plan, opts))


@app.command("overfit-weight-decay")
@handle_errors
@comparison_options(seeds=3)
def overfit_weight_decay(
    l2: str = typer.Option(book.L2, "--l2", help="Comma-separated L2 strengths λ."),
    l1: str = typer.Option("", "--l1", help="Comma-separated L1 strengths, each a variant "
                           "of its own (e.g. --l1 0.001)."),
    config: Optional[Path] = CONFIG, set_: List[str] = SET, *, opts: CompareOptions,
) -> None:
    """Training vs validation accuracy on 300 images, with and without weight decay (§6.4)."""
    from dlexp.experiments import overfit as preset
    from dlexp.experiments.report import load_base, run_and_report
    from dlexp.experiments.variants import seeds_for
    base = load_base(config, preset.CONFIG, set_, opts)
    variants = preset.decay_variants(preset.parse_values(l2, "--l2"),
                                     preset.parse_values(l1, "--l1"),
                                     seeds_for(base, opts.seeds))
    raise typer.Exit(run_and_report(base, preset.plan(preset.DECAY, variants), opts))


@app.command("overfit-dropout")
@handle_errors
@comparison_options(seeds=3)
def overfit_dropout(
    dropout: str = typer.Option(book.DROPOUTS, "--dropout", help="Comma-separated dropout "
                                "probabilities."),
    config: Optional[Path] = CONFIG, set_: List[str] = SET, *, opts: CompareOptions,
) -> None:
    """Training vs validation accuracy on 300 images, with and without dropout (§6.4)."""
    from dlexp.experiments import overfit as preset
    from dlexp.experiments.report import load_base, run_and_report
    from dlexp.experiments.variants import seeds_for
    base = load_base(config, preset.CONFIG, set_, opts)
    variants = preset.dropout_variants(preset.parse_values(dropout, "--dropout", high=1.0),
                                       seeds_for(base, opts.seeds))
    raise typer.Exit(run_and_report(base, preset.plan(preset.DROPOUT, variants), opts))


@app.command("ensemble")
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
    """Average the softmax outputs of N networks; compare with one dropout network (§6.4)."""
    from dlexp.experiments import ensemble as preset
    from dlexp.experiments.report import load_base, run_and_report
    base = load_base(config, preset.CONFIG, set_, opts)
    raise typer.Exit(run_and_report(base, preset.plan(base, members, dropout), opts))
