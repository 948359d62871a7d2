"""The chapter's remaining experiments as commands: ``step-fade``, ``lr-decay``,
``batchnorm-overfit``, ``search-methods`` and ``adam-bias`` (each a preset of
:mod:`dlexp.experiments`), and ``reproduce``, which runs the whole chapter into one
report (:mod:`dlexp.experiments.reproduce`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, List, Optional

import typer

from dlexp.cli.app import app, handle_errors
from dlexp.cli.helptext import examples
from dlexp.cli.options import CONFIG, SET, comparison_options, runs_dir_option

if TYPE_CHECKING:
    from dlexp.experiments.sweep import CompareOptions


@app.command("step-fade", epilog=examples("dlexp step-fade",
                                           "dlexp step-fade --iterations 1000"))
@handle_errors
def step_fade(
    iterations: int = typer.Option(5000, "--iterations", min=10, help="MNIST updates."),
    steps: int = typer.Option(300, "--steps", min=10, help="Updates on x²/20 + y²."),
    set_: List[str] = SET,
    runs_dir: Path = runs_dir_option("Where the run folder goes."),
) -> None:
    """AdaGrad's steps fade, RMSProp's do not: ‖Δθ‖ per update on MNIST and η/√h on
    x²/20 + y² (§6.1.5)."""
    from dlexp.experiments.step_fade import NAME, run_step_fade
    from dlexp.experiments.tables import print_rows
    from dlexp.train.rundir import new_run_dir
    out = new_run_dir(runs_dir, NAME)
    result = run_step_fade(out, iterations, steps, sets=set_)
    from dlexp.plots.chapter import plot_step_fade
    plot_step_fade(out)
    rows = [{"source": src, "optimizer": name, **r} for src, by in result.items()
            for name, r in by.items()]
    print_rows(rows, ["source", "optimizer", "lr", "measure", "early", "late", "fade"],
               title="late / early: medians of the last and first 10 % of updates")
    print(out, flush=True)


@app.command("lr-decay", epilog=examples("dlexp lr-decay",
                                          "dlexp lr-decay --seeds 1 --iterations 600"))
@handle_errors
@comparison_options(seeds=3)
def lr_decay(config: Optional[Path] = CONFIG, set_: List[str] = SET, *,
             opts: CompareOptions) -> None:
    """Constant, step, exponential, inverse-time and cosine learning rates on one budget,
    SGD and Momentum (§6.1.5)."""
    from dlexp.experiments import lr_decay as preset
    from dlexp.experiments.report import load_base, run_and_report
    from dlexp.experiments.variants import seeds_for
    base = load_base(config, preset.CONFIG, set_, opts)
    raise typer.Exit(run_and_report(base, preset.plan(base, seeds_for(base, opts.seeds)), opts))


@app.command("batchnorm-overfit", epilog=examples(
    "dlexp batchnorm-overfit", "dlexp batchnorm-overfit --seeds 1 --epochs 100"))
@handle_errors
@comparison_options(seeds=3)
def batchnorm_overfit(config: Optional[Path] = CONFIG, set_: List[str] = SET, *,
                      opts: CompareOptions) -> None:
    """Plain, batch norm, dropout and both on the 300-image overfitting setup (§6.3)."""
    from dlexp.experiments import overfit as preset
    from dlexp.experiments.report import load_base, run_and_report
    from dlexp.experiments.variants import seeds_for
    base = load_base(config, preset.CONFIG, set_, opts)
    plan = preset.bn_overfit_plan(seeds_for(base, opts.seeds))
    raise typer.Exit(run_and_report(base, plan, opts))


@app.command("search-methods", epilog=examples("dlexp search-methods",
                                                "dlexp search-methods --side 4 --searches 5"))
@handle_errors
def search_methods(
    side: int = typer.Option(10, "--side", min=2, help="Grid values per key: side² "
                             "trials for every method."),
    searches: int = typer.Option(5, "--searches", min=1, help="Search seeds per method."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, help="Worker "
                                       "processes (default: all cores)."),
    config: Optional[Path] = CONFIG, set_: List[str] = SET,
    runs_dir: Path = runs_dir_option("Where the run folder goes."),
) -> None:
    """Grid against random and TPE search at equal budget, over several search seeds
    (§6.5)."""
    from dlexp.config import apply_overrides, read_yaml_mapping
    from dlexp.experiments import search_methods as preset
    from dlexp.bundled import bundled
    from dlexp.experiments.tables import print_rows
    from dlexp.train.rundir import new_run_dir
    base = apply_overrides(read_yaml_mapping(config or bundled(preset.CONFIG)), set_)
    preset.search_space(base)
    out = new_run_dir(runs_dir, preset.NAME)
    summary = preset.run_search_methods(out, base, side, searches, jobs)
    from dlexp.plots.chapter import plot_search_methods
    plot_search_methods(out)
    rows = [{"method": m, **{k: s[k] for k in ("best_mean", "best_min", "best_max")},
             **{f"distinct {k.rsplit('.', 1)[-1]}": v for k, v in s["distinct"].items()},
             **{f"importance {k.rsplit('.', 1)[-1]}": v for k, v in s["importances"].items()}}
            for m, s in summary.items()]
    print_rows(rows, list(rows[0]), title=f"best validation accuracy after {side ** 2} trials")
    print(out, flush=True)


@app.command("reproduce", epilog=examples(
    "dlexp reproduce --quick", "dlexp reproduce",
    "dlexp reproduce --resume runs/reproduce-20260101-120000"))
@handle_errors
def reproduce(
    quick: bool = typer.Option(False, "--quick", help="Smaller budgets (a few minutes), "
                               "same verdict rules; the report says so."),
    resume: Optional[Path] = typer.Option(None, "--resume", metavar="DIR", help="Finish "
                                          "an interrupted reproduce folder (its own mode)."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, help="Worker processes "
                                       "(default: all cores)."),
    runs_dir: Path = runs_dir_option("Where the reproduce folder goes."),
) -> None:
    """Every experiment of chapter 6, then report.html and report.md: each claim with
    the numbers measured and a verdict computed by a stated rule."""
    from dlexp.experiments.reproduce import reproduce as run
    from dlexp.plots.chapter import draw_experiment
    from dlexp.plots.page import write_report
    out = run(runs_dir, quick, jobs, resume, draw=draw_experiment)
    write_report(out)
    print(out / "report.html", flush=True)


@app.command("adam-bias", epilog=examples("dlexp adam-bias",
                                           "dlexp adam-bias --iterations 100 --seeds 1"))
@handle_errors
def adam_bias(
    iterations: int = typer.Option(300, "--iterations", min=10, help="MNIST updates."),
    steps: int = typer.Option(30, "--steps", min=10, help="Updates on x²/20 + y²."),
    seeds: int = typer.Option(3, "--seeds", min=1, help="MNIST seeds per variant."),
    set_: List[str] = SET,
    runs_dir: Path = runs_dir_option("Where the run folder goes."),
) -> None:
    """Adam with and without bias correction: the first steps and the loss, on MNIST and
    x²/20 + y² (§6.1.6)."""
    from dlexp.experiments.adam_bias import NAME, run_adam_bias
    from dlexp.experiments.tables import print_rows
    from dlexp.train.rundir import new_run_dir
    out = new_run_dir(runs_dir, NAME)
    result = run_adam_bias(out, iterations, steps, seeds, set_)
    from dlexp.plots.chapter import plot_adam_bias
    plot_adam_bias(out)
    rows = [{"source": src, "variant": v, **r} for src, by in result.items()
            for v, r in by.items()]
    print_rows(rows, ["source", "variant", "early_step", "mean_loss", "first_step_over_lr",
                      "final_f"], title="early step: median over the first 10 updates")
    print(out, flush=True)
