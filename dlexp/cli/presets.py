"""The book's §6.2–6.4 experiments as comparison presets: ``compare-inits``,
``batchnorm``, ``overfit-weight-decay``, ``overfit-dropout`` and ``ensemble``.

Each reads its base config (``configs/<preset>.yaml``, or ``--config``) with ``--set``
overrides, makes its variants (:mod:`dlexp.experiments.inits`, ``batchnorm``,
``overfit``, ``ensemble``) and calls :func:`~dlexp.cli.compare.run_comparison` with the
preset's own analysis and figures to run after training.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from dlexp.cli import app, handle_errors
from dlexp.cli.compare import (BAND_HELP, JOBS_HELP, RUNS_HELP, SEEDS_HELP, SET_HELP,
                               SMOOTH_HELP, length_overrides, run_comparison)

CONFIG = typer.Option(None, "--config", help="Base config (default: the preset's, in "
                      "configs/).")
SET = typer.Option([], "--set", help=SET_HELP)
EPOCHS = typer.Option(None, "--epochs", help="Epochs per run.")
SEEDS = typer.Option(3, "--seeds", help=SEEDS_HELP)
JOBS = typer.Option(None, "--jobs", "-j", help=JOBS_HELP)
RUNS_DIR = typer.Option(Path("runs"), "--runs-dir", help=RUNS_HELP)
BAND = typer.Option("minmax", "--band", help=BAND_HELP)
QUIET = typer.Option(False, "--quiet", "-q", help="No line per finished run.")
SMOOTH = 50                                  # updates; the loss plots of epoch presets
OVERFIT_COLUMNS = ("final_train_acc", "final_val_acc", "test_acc", "gap_val", "gap_test")


def _base(config: Optional[Path], preset: str, set_: List[str], length: List[str]) -> dict:
    from dlexp.config import apply_overrides, read_yaml_mapping
    from dlexp.experiments.compare import preset_config
    return apply_overrides(read_yaml_mapping(config or preset_config(preset)), [*set_, *length])


@app.command("compare-inits")
@handle_errors
def compare_inits(
    inits: str = typer.Option("normal=0.01,lecun_normal,he_normal,zeros", "--inits",
                              help="Comma-separated initializers; normal as normal=STD."),
    config: Optional[Path] = CONFIG, set_: List[str] = SET,
    iterations: Optional[int] = typer.Option(None, "--iterations", help="Updates per run."),
    epochs: Optional[int] = EPOCHS,
    seeds: int = SEEDS, jobs: Optional[int] = JOBS,
    runs_dir: Path = RUNS_DIR, smooth: int = typer.Option(50, "--smooth", help=SMOOTH_HELP),
    band: str = BAND, quiet: bool = QUIET,
) -> None:
    """Std 0.01, 'Xavier' (lecun_normal), He and zeros initial weights on MNIST (§6.2)."""
    from dlexp.experiments import inits as preset
    from dlexp.experiments.variants import seeds_for
    base = _base(config, preset.NAME, set_, length_overrides(iterations, epochs))
    variants = preset.init_variants(preset.parse_inits(inits), seeds_for(base, seeds))
    run_comparison(base, variants, name=preset.NAME, runs_dir=runs_dir, jobs=jobs,
                   smooth=smooth, band=band, label_column=preset.LABEL_COLUMN, quiet=quiet,
                   after=preset.report_symmetry,
                   columns=("status", "final_loss", "best_val_acc", "test_acc",
                            "unit_spread", "distinct_units"))


@app.command("batchnorm")
@handle_errors
def batchnorm(
    scales: int = typer.Option(16, "--scales", help="Weight scales, log-spaced from "
                               "--high to --low (the book: 16 from 1 to 1e-4)."),
    high: float = typer.Option(1.0, "--high", help="Largest weight std."),
    low: float = typer.Option(1e-4, "--low", help="Smallest weight std."),
    target: float = typer.Option(0.9, "--target", help="Training accuracy whose epoch "
                                 "count gives the speed-up."),
    config: Optional[Path] = CONFIG, set_: List[str] = SET, epochs: Optional[int] = EPOCHS,
    seeds: int = SEEDS, jobs: Optional[int] = JOBS,
    runs_dir: Path = RUNS_DIR, band: str = BAND, quiet: bool = QUIET,
) -> None:
    """Training accuracy with and without batch norm across weight scales (§6.3)."""
    from dlexp.experiments import batchnorm as preset
    from dlexp.experiments.variants import seeds_for
    preset.check_target(target)
    base = _base(config, preset.NAME, set_, length_overrides(None, epochs))
    variants = preset.bn_variants(preset.weight_scales(scales, high, low),
                                  seeds_for(base, seeds))

    def after(result):
        from dlexp.plots.batchnorm import plot_bn_grid, plot_bn_summary
        result = preset.report_speedup(result, target)
        plot_bn_grid(result.dir, band)
        plot_bn_summary(result.dir)
        return result

    run_comparison(base, variants, name=preset.NAME, runs_dir=runs_dir, jobs=jobs,
                   smooth=SMOOTH, band=band, label_column=preset.LABEL_COLUMN, quiet=quiet,
                   after=after, report=_report_speedup, columns=(), sub_runs=False,
                   expected=preset.EXPECTED)


def _report_speedup(result) -> None:
    import json

    from dlexp.cli.report import print_rows
    from dlexp.experiments.aggregate import read_csv
    s = json.loads((result.dir / "summary.json").read_text())["batchnorm"]
    rows = [_row(r) for r in read_csv(result.dir / "batchnorm.csv")]
    print_rows(rows, list(rows[0]) if rows else [], title=f"training accuracy per weight "
               f"scale: final, and epochs to {s['target']:g} (— never)")
    speed = (f"; where both did, batch norm needed {s['median_speedup']:.2f}× fewer "
             "epochs (median)" if s["median_speedup"] else "")
    typer.echo(f"reached {s['target']:g}: batch norm at {s['bn_reached']} of {s['scales']} "
               f"scales, without at {s['plain_reached']}{speed}")
    if s["fastest_speedup"]:
        typer.echo(f"at each one's best scale: batch norm {s['bn_fastest_epochs']} epochs "
                   f"(w={s['bn_fastest_scale']:.3g}), without {s['plain_fastest_epochs']} "
                   f"(w={s['plain_fastest_scale']:.3g}): {s['fastest_speedup']:.2f}× fewer")


@app.command("overfit-weight-decay")
@handle_errors
def overfit_weight_decay(
    l2: str = typer.Option("0,0.1", "--l2", help="Comma-separated L2 strengths λ."),
    l1: str = typer.Option("", "--l1", help="Comma-separated L1 strengths, each a variant "
                           "of its own (e.g. --l1 0.001)."),
    config: Optional[Path] = CONFIG, set_: List[str] = SET, epochs: Optional[int] = EPOCHS,
    seeds: int = SEEDS, jobs: Optional[int] = JOBS,
    runs_dir: Path = RUNS_DIR, band: str = BAND, quiet: bool = QUIET,
) -> None:
    """Training vs validation accuracy on 300 images, with and without weight decay (§6.4)."""
    from dlexp.experiments import overfit as preset
    from dlexp.experiments.variants import seeds_for
    base = _base(config, preset.CONFIG, set_, length_overrides(None, epochs))
    variants = preset.decay_variants(preset.parse_values(l2, "--l2"),
                                     preset.parse_values(l1, "--l1"), seeds_for(base, seeds))
    _run_overfit(base, variants, preset.DECAY, jobs, runs_dir, band, quiet)


@app.command("overfit-dropout")
@handle_errors
def overfit_dropout(
    dropout: str = typer.Option("0,0.15,0.2", "--dropout", help="Comma-separated dropout "
                                "probabilities."),
    config: Optional[Path] = CONFIG, set_: List[str] = SET, epochs: Optional[int] = EPOCHS,
    seeds: int = SEEDS, jobs: Optional[int] = JOBS,
    runs_dir: Path = RUNS_DIR, band: str = BAND, quiet: bool = QUIET,
) -> None:
    """Training vs validation accuracy on 300 images, with and without dropout (§6.4)."""
    from dlexp.experiments import overfit as preset
    from dlexp.experiments.variants import seeds_for
    base = _base(config, preset.CONFIG, set_, length_overrides(None, epochs))
    variants = preset.dropout_variants(preset.parse_values(dropout, "--dropout", high=1.0),
                                       seeds_for(base, seeds))
    _run_overfit(base, variants, preset.DROPOUT, jobs, runs_dir, band, quiet)


def _run_overfit(base: dict, variants: list, name: str, jobs: Optional[int], runs_dir: Path,
                 band: str, quiet: bool) -> None:
    from dlexp.experiments import overfit as preset

    def after(result):
        from dlexp.plots.overfit import plot_train_val
        result = preset.report_gaps(result)
        plot_train_val(result.dir, name, band=band)
        return result

    run_comparison(base, variants, name=name, runs_dir=runs_dir, jobs=jobs, smooth=SMOOTH,
                   band=band, label_column=preset.LABEL_COLUMN, quiet=quiet, after=after,
                   columns=("status", *OVERFIT_COLUMNS))


@app.command("ensemble")
@handle_errors
def ensemble(
    members: int = typer.Option(5, "--members", help="Networks averaged (seeds seed…)."),
    dropout: float = typer.Option(0.2, "--dropout", help="Dropout of the networks compared "
                                  "(as many seeds; 0: none)."),
    config: Optional[Path] = CONFIG, set_: List[str] = SET, epochs: Optional[int] = EPOCHS,
    jobs: Optional[int] = JOBS, runs_dir: Path = RUNS_DIR, band: str = BAND,
    quiet: bool = QUIET,
) -> None:
    """Average the softmax outputs of N networks; compare with one dropout network (§6.4)."""
    from dlexp.config import config_from_dict
    from dlexp.experiments import ensemble as preset
    from dlexp.experiments.variants import variant_config
    base = _base(config, preset.CONFIG, set_, length_overrides(None, epochs))
    variants = preset.ensemble_variants(members, dropout,
                                        config_from_dict(base, "base config").seed)
    preset.check_same_split([variant_config(base, v) for v in variants])

    def after(result):
        from dlexp.experiments.overfit import report_gaps
        from dlexp.plots.ensemble import plot_ensemble
        from dlexp.plots.overfit import plot_train_val
        result = preset.evaluate_ensembles(report_gaps(result))
        plot_ensemble(result.dir)
        plot_train_val(result.dir, preset.NAME, band=band)
        return result

    run_comparison(base, variants, name=preset.NAME, runs_dir=runs_dir, jobs=jobs,
                   smooth=SMOOTH, band=band, label_column=preset.LABEL_COLUMN, quiet=quiet,
                   after=after, columns=("members", "member_val_acc", "ensemble_val_acc",
                                         "test_acc", "ensemble_test_acc", "gap_test"))


def _row(r: dict[str, str]) -> dict:
    """A batchnorm.csv row as printed: short headers, the scale to 3 digits, whole epochs."""
    num = lambda k: float(r[k]) if r[k] else None  # noqa: E731
    whole = lambda k: str(int(float(r[k]))) if r[k] else None  # noqa: E731
    notes = [f"{side} {r[f'{side}_status']}" for side in ("bn", "plain")
             if r[f"{side}_status"] != "completed"]
    return {"w": f"{float(r['init_std']):.3g}", "bn acc": num("bn_final_acc"),
            "plain acc": num("plain_final_acc"), "bn epochs": whole("bn_epochs"),
            "plain epochs": whole("plain_epochs"), "speed-up": num("speedup"),
            "note": ", ".join(notes)}
