"""The chapter's measurements that are not comparisons (``step-fade``, ``adam-bias``,
``search-methods``), and ``reproduce``, which runs the whole chapter into one report."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from dlexp.cli.app import CONFIG, JOBS, SET, app, runs_dir_option

RUNS_DIR = runs_dir_option("Where the run folder goes.")


def _show(name: str, out: Path, rows: list[dict], columns: list[str], title: str) -> None:
    """Draw experiment ``name``'s figures from ``out``, print ``rows``, then ``out``."""
    from dlexp.experiments.tables import print_rows
    from dlexp.plots.chapter_figures import draw_experiment
    draw_experiment(name, out)
    print_rows(rows, columns, title=title)
    print(out, flush=True)


def _flat(result: dict, key: str) -> list[dict]:
    """``{source: {name: row}}`` → rows with ``source`` and ``key`` columns first."""
    return [{"source": src, key: name, **row} for src, by in result.items()
            for name, row in by.items()]


@app.command("step-fade", "dlexp step-fade", "dlexp step-fade --iterations 1000")
def step_fade(
    iterations: int = typer.Option(5000, "--iterations", min=10, help="MNIST updates."),
    steps: int = typer.Option(300, "--steps", min=10, help="Updates on x²/20 + y²."),
    set_: List[str] = SET, runs_dir: Path = RUNS_DIR,
) -> None:
    """AdaGrad's steps fade, RMSProp's do not: ‖Δθ‖ per update on MNIST and η/√h on
    x²/20 + y² (§6.1.5)."""
    from dlexp.experiments.step_fade import NAME, run_step_fade
    from dlexp.train.rundir import new_run_dir
    out = new_run_dir(runs_dir, NAME)
    rows = _flat(run_step_fade(out, iterations, steps, sets=set_), "optimizer")
    _show(NAME, out, rows, ["source", "optimizer", "lr", "measure", "early", "late", "fade"],
          "late / early: medians of the last and first 10 % of updates")


@app.command("adam-bias", "dlexp adam-bias", "dlexp adam-bias --iterations 100 --seeds 1")
def adam_bias(
    iterations: int = typer.Option(300, "--iterations", min=10, help="MNIST updates."),
    steps: int = typer.Option(30, "--steps", min=10, help="Updates on x²/20 + y²."),
    seeds: int = typer.Option(3, "--seeds", min=1, help="MNIST seeds per variant."),
    set_: List[str] = SET, runs_dir: Path = RUNS_DIR,
) -> None:
    """Adam with and without bias correction: the first steps and the loss, on MNIST and
    x²/20 + y² (§6.1.6)."""
    from dlexp.experiments.adam_bias import NAME, run_adam_bias
    from dlexp.train.rundir import new_run_dir
    out = new_run_dir(runs_dir, NAME)
    rows = _flat(run_adam_bias(out, iterations, steps, seeds, set_), "variant")
    _show(NAME, out, rows, ["source", "variant", "early_step", "mean_loss",
                            "first_step_over_lr", "final_f"],
          "early step: median over the first 10 updates")


@app.command("search-methods", "dlexp search-methods",
             "dlexp search-methods --side 4 --searches 5")
def search_methods(
    side: int = typer.Option(10, "--side", min=2, help="Grid values per key: side² "
                             "trials for every method."),
    searches: int = typer.Option(5, "--searches", min=1, help="Search seeds per method."),
    jobs: Optional[int] = JOBS, config: Optional[Path] = CONFIG, set_: List[str] = SET,
    runs_dir: Path = RUNS_DIR,
) -> None:
    """Grid against random and TPE search at equal budget, over several search seeds
    (§6.5)."""
    from dlexp.config import apply_overrides, read_yaml_mapping
    from dlexp.experiments import search_methods as preset
    from dlexp.experiments.sweep import preset_config
    from dlexp.train.rundir import new_run_dir
    base = apply_overrides(read_yaml_mapping(config or preset_config(preset.CONFIG)), set_)
    preset.search_space(base)                     # checked before the folder is made
    out = new_run_dir(runs_dir, preset.NAME)
    summary = preset.run_search_methods(out, base, side, searches, jobs)
    short = lambda key: key.rsplit(".", 1)[-1]  # noqa: E731
    rows = [{"method": m, **{k: s[k] for k in ("best_mean", "best_min", "best_max")},
             **{f"distinct {short(k)}": v for k, v in s["distinct"].items()},
             **{f"importance {short(k)}": v for k, v in s["importances"].items()}}
            for m, s in summary.items()]
    _show(preset.NAME, out, rows, list(rows[0]),
          f"best validation accuracy after {side ** 2} trials")


@app.command("reproduce", "dlexp reproduce --quick", "dlexp reproduce",
             "dlexp reproduce --resume runs/reproduce-20260101-120000")
def reproduce(
    quick: bool = typer.Option(False, "--quick", help="Smaller budgets (a few minutes), "
                               "same verdict rules; the report says so."),
    resume: Optional[Path] = typer.Option(None, "--resume", metavar="DIR", help="Finish "
                                          "an interrupted reproduce folder (its own mode)."),
    jobs: Optional[int] = JOBS,
    runs_dir: Path = runs_dir_option("Where the reproduce folder goes."),
) -> None:
    """Every experiment of chapter 6, then report.html and report.md: each claim with
    the numbers measured and a verdict computed by a stated rule."""
    from dlexp.experiments.reproduce import reproduce as run
    from dlexp.plots.chapter_figures import draw_experiment
    from dlexp.plots.page import write_report
    out = run(runs_dir, quick, jobs, resume, draw=draw_experiment)
    write_report(out)
    print(out / "report.html", flush=True)
