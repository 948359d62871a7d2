"""The chapter's experiments that are not comparisons: ``activations``,
``optimizer-paths``, ``step-fade``, ``adam-bias`` and ``search-methods``; and
``reproduce``, which runs the whole chapter into one report."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, List, Optional

import typer

from dlexp.bundled import bundled, config_path
from dlexp.cli.app import CONFIG, JOBS, RUNS_DIR, SET, app, fail


def _show(name: str, out: Path, rows: list[dict], columns: list[str], title: str,
          headers: dict | None = None, note: str = "") -> None:
    """Draw experiment ``name``'s figures from ``out``, print ``rows`` (and ``note``), then
    ``out``."""
    from dlexp.experiments.tables import print_rows
    from dlexp.plots.chapter import draw_experiment
    draw_experiment(name, out)
    print_rows(rows, columns, title=title, headers=headers)
    if note:
        print(f"note: {note}")
    print(out, flush=True)


def _per_source(name: str, runs_dir: Path, run: Callable[[Path], dict], key: str,
                columns: list[str], title: str) -> None:
    """A new folder for experiment ``name``; ``run(folder)`` gives ``{source: {name: row}}``,
    shown as rows with ``source`` and ``key`` first, after its figures."""
    from dlexp.train.rundir import new_run_dir
    out = new_run_dir(runs_dir, name)
    rows = [{"source": src, key: k, **row} for src, by in run(out).items()
            for k, row in by.items()]
    _show(name, out, rows, ["source", key, *columns], title)


@app.command("activations", "dlexp activations --grid",
             "dlexp activations --activation relu --init he_normal",
             "dlexp activations --init normal --std 0.01")
def activations(
    activation: str = typer.Option("sigmoid", help="Activation of the hidden layers."),
    init: str = typer.Option("normal", help="Weight initialiser."),
    std: Optional[float] = typer.Option(None, help="Std for --init normal (default 1)."),
    grid: bool = typer.Option(False, "--grid", help="All initialisers × this activation."),
    samples: int = typer.Option(1000, min=1, help="Random inputs."),
    units: int = typer.Option(100, min=1, help="Units per layer (and input size)."),
    layers: int = typer.Option(5, min=1, help="Hidden layers."),
    seed: int = typer.Option(0, min=0, help="Seed of the inputs and weights."),
    runs_dir: Path = RUNS_DIR,
) -> None:
    """Activation and gradient histograms per layer (§6.2).

    Random inputs pass through --layers hidden layers of --units units; the figure shows
    each layer's activations and the gradients flowing back, under one initialiser or,
    with --grid, under each."""
    from dlexp.experiments.activations import run_activations
    from dlexp.experiments.tables import print_rows
    out, rows = run_activations(activation, init, std, grid=grid, samples=samples, units=units,
                                layers=layers, seed=seed, runs_root=runs_dir)
    from dlexp.plots.chapter import plot_activations
    plot_activations(out)
    headers = {"act_mean": "mean h", "act_std": "std h",
               "saturated_or_zero": "saturated or 0", "delta_abs_mean": "mean |δ|"}
    print_rows(rows, ["init", "layer", *headers], headers=headers,
               title=f"{activation}: per-layer statistics (saturated or 0: share of the "
               "layer's outputs over all inputs; δ = dL/da)")
    print(out, flush=True)


@app.command("optimizer-paths", "dlexp optimizer-paths",
             "dlexp optimizer-paths --function rosenbrock",
             "dlexp optimizer-paths --optimizers sgd,adam --lr sgd=0.9")
def optimizer_paths(
    function: str = typer.Option("anisotropic", help="The function (the book's: x²/20 + y²)."),
    optimizers: Optional[str] = typer.Option(None, help="Comma-separated (default: all six)."),
    lr: List[str] = typer.Option([], "--lr", help="NAME=RATE, e.g. --lr sgd=0.9 (repeatable)."),
    steps: Optional[int] = typer.Option(None, min=1, help="Updates (default 30; rosenbrock 300)."),
    start: str = typer.Option("", "--start", help="X,Y, e.g. --start=-7,2 (default: the "
                              "function's own)."),
    runs_dir: Path = RUNS_DIR,
) -> None:
    """Optimizer paths over a 2-D function's contours (§6.1)."""
    from dlexp.experiments.optimizers import parse_optimizers
    from dlexp.experiments.paths import run_paths
    from dlexp.io import read_json
    from dlexp.surfaces import get_function
    names = tuple(parse_optimizers(optimizers)) if optimizers else None
    rates = dict(_pair(item, "--lr", "=", "NAME=RATE, e.g. --lr sgd=0.9") for item in lr)
    point = _pair(start, "--start", ",", "X,Y, e.g. --start=-7,2", float) if start else None
    out = run_paths(function, names, rates, steps, point, runs_dir)
    info = read_json(out / "paths.json")
    rows = [{"optimizer": name, "lr": info["lrs"][name], **e,
             "note": "" if e.get("diverged_at") is None else
             f"diverged at update {e['diverged_at']}"} for name, e in info["final"].items()]
    columns = ["optimizer", "lr", "x", "y", "f", "distance"]
    _show("optimizer-paths", out, rows,
          [*columns, "note"] if any(r["note"] for r in rows) else columns,
          f"{info['formula']}: after {info['steps']} updates",
          {"f": "f(x,y)", "distance": "distance to minimum"},
          get_function(function).note if (names, rates, steps, point) == (None, {}, None, None)
          else "")                  # the note speaks of the default run only


def _pair(item: str, option: str, sep: str, example: str, key=str) -> tuple:
    """``KEY<sep>NUMBER`` → ``(key(KEY), NUMBER)``, or a one-line error citing ``example``."""
    first, found, value = item.partition(sep)
    try:
        if found and first.strip():
            return key(first.strip()), float(value)
    except ValueError:
        pass
    raise fail(f"{option} {item!r}: expected {example}")


@app.command("step-fade", "dlexp step-fade", "dlexp step-fade --iterations 1000")
def step_fade(
    iterations: int = typer.Option(5000, "--iterations", min=10, help="MNIST updates."),
    steps: int = typer.Option(300, "--steps", min=10, help="Updates on x²/20 + y²."),
    set_: List[str] = SET, runs_dir: Path = RUNS_DIR,
) -> None:
    """AdaGrad's steps fade, RMSProp's do not: ‖Δθ‖ per update on MNIST and η/√h on
    x²/20 + y² (§6.1.5)."""
    from dlexp.experiments.step_sizes import STEP_FADE, run_step_fade
    _per_source(STEP_FADE, runs_dir, lambda out: run_step_fade(out, iterations, steps, sets=set_),
                "optimizer", ["lr", "measure", "early", "late", "fade"],
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
    from dlexp.experiments.step_sizes import ADAM_BIAS, run_adam_bias
    _per_source(ADAM_BIAS, runs_dir, lambda out: run_adam_bias(out, iterations, steps, seeds, set_),
                "variant", ["early_step", "mean_loss", "first_step_over_lr", "final_f"],
                "early step: median over the first 10 updates")


@app.command("search-methods", "dlexp search-methods",
             "dlexp search-methods --side 4 --searches 5")
def search_methods(
    side: int = typer.Option(10, min=2, help="Grid values per key: side² trials a method."),
    searches: int = typer.Option(5, min=1, help="Search seeds per method."),
    jobs: Optional[int] = JOBS, config: Optional[Path] = CONFIG, set_: List[str] = SET,
    runs_dir: Path = RUNS_DIR,
) -> None:
    """Grid against random and TPE search at equal budget, over several search seeds
    (§6.5)."""
    from dlexp.config import apply_overrides, read_yaml_mapping
    from dlexp.experiments import search_methods as preset
    from dlexp.io import read_json
    base = apply_overrides(read_yaml_mapping(config_path(config) if config else
                                             bundled(preset.CONFIG)), set_)
    out = preset.run_search_methods(base, side, searches, jobs, runs_dir)
    summary = read_json(out / "search_methods.json")
    rows = [{"method": m, **{k: s[k] for k in ("best_mean", "best_min", "best_max")},
             **{f"distinct {k.rsplit('.', 1)[-1]}": v for k, v in s["distinct"].items()},
             **{f"importance {k.rsplit('.', 1)[-1]}": v for k, v in s["importances"].items()}}
            for m, s in summary.items()]
    _show(preset.NAME, out, rows, list(rows[0]),
          f"best validation accuracy after {side ** 2} trials")


@app.command("reproduce", "dlexp reproduce --quick", "dlexp reproduce",
             "dlexp reproduce --quick --book",
             "dlexp reproduce --resume runs/reproduce-20260101-120000")
def reproduce(
    quick: bool = typer.Option(False, "--quick", help="Smaller budgets (minutes), the "
                               "same verdict rules."),
    resume: Optional[Path] = typer.Option(None, metavar="DIR", help="Finish an "
                                          "interrupted reproduce folder (its own mode)."),
    book_too: bool = typer.Option(False, "--book", help="Also run each preset that has "
                                  "the book's settings that way; both verdicts shown."),
    jobs: Optional[int] = JOBS,
    runs_dir: Path = RUNS_DIR,
) -> None:
    """Every experiment of chapter 6, then report.html and report.md: each claim with
    the numbers measured and a verdict computed by a stated rule."""
    from dlexp.experiments.reproduce import reproduce as run
    from dlexp.plots.chapter import draw_experiment
    from dlexp.plots.page import write_report
    out = run(runs_dir, quick, jobs, resume, draw=draw_experiment, book_too=book_too)
    write_report(out)
    print(out / "report.html", flush=True)
