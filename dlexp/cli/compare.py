"""``dlexp compare``, ``dlexp compare-optimizers`` and ``dlexp optimizer-paths``.

A preset comparison in another CLI module is: read its base config, make its variants
(:mod:`dlexp.experiments.variants`), then call :func:`run_comparison`, which runs,
plots, prints the summary table and exits with the comparison's code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, List, Optional, Sequence

import typer

from dlexp.cli import app, fail, handle_errors

SET_HELP = "Override a base config value, e.g. --set training.iterations=500 (repeatable)."
SEEDS_HELP = "Seeds per variant (base seed, +1, …); bands show their spread."
JOBS_HELP = "Worker processes (default: all cores); each uses one BLAS thread."
SMOOTH_HELP = "Moving-average window (updates) for the smoothed loss."
BAND_HELP = "Band over seeds: minmax or std (±1 std)."
RUNS_HELP = "Where the comparison folder goes."


def run_comparison(base: dict, variants: Sequence, *, name: str, runs_dir: Path,
                   jobs: Optional[int], smooth: int, band: str, label_column: str = "variant",
                   report_keys: Sequence[str] = (), quiet: bool = False,
                   after: Optional[Callable[[Any], Any]] = None,
                   report: Optional[Callable[[Any], None]] = None,
                   columns: Optional[Sequence[str]] = None, sub_runs: bool = True,
                   expected: Sequence[str] = ()) -> None:
    """Run ``variants`` of the raw ``base`` config, plot, print the table; exit 0, 1 when a
    run did not complete (naming it), 130 when interrupted.

    For presets: ``after(result) -> result`` runs once the comparison is plotted (not when
    interrupted) — its own analysis, files and figures — and the table printed is the
    summary it returns, restricted to ``columns`` (None: all; empty: no table);
    ``report(result)`` prints more after the table. ``sub_runs=False`` skips each
    sub-run's own plots. Runs whose status is in ``expected`` (``diverged``, when that is
    the result being shown) are named on stderr but do not make the exit code 1."""
    from dlexp.experiments.compare import run_compare
    from dlexp.plots.compare import BANDS, plot_compare
    if band not in BANDS:
        raise fail(f"--band {band!r}: choose one of {', '.join(BANDS)}")
    total = len(variants)
    count = [0]

    def progress(record: dict) -> None:
        count[0] += 1
        typer.echo(f"[{count[0]}/{total}] {record['run']}: {_run_line(record)}", err=True)

    result = run_compare(base, variants, runs_root=runs_dir, name=name, jobs=jobs,
                         window=smooth, label_column=label_column, report_keys=report_keys,
                         on_done=None if quiet else progress)
    if result.status != "interrupted":
        plot_compare(result.dir, band, sub_runs=sub_runs)
        if after is not None:
            result = after(result)
    _print_summary(result, label_column, columns)
    if report is not None and result.status != "interrupted":
        report(result)
    typer.echo(str(result.dir))
    if result.status == "interrupted":
        typer.echo("interrupted", err=True)
        raise typer.Exit(130)
    failed = [r for r in result.failed if r["status"] not in expected]
    if len(failed) < len(result.failed):
        typer.echo(f"as expected, {_names(r for r in result.failed if r not in failed)}",
                   err=True)
    if failed:
        raise fail(f"{len(failed)} of {len(result.runs)} runs did not complete: "
                   f"{_names(failed)}", 1)


def _names(runs) -> str:
    return "; ".join(f"{r['run']} ({r['status']}: {_short(r.get('error'))})" for r in runs)


@app.command()
@handle_errors
def compare(
    config: Path = typer.Argument(..., help="Base YAML config (see configs/)."),
    vary: List[str] = typer.Option([], "--vary", help="KEY=V1,V2,… to vary; several make a "
                                   "grid, e.g. --vary optimizer.name=sgd,adam"),
    set_: List[str] = typer.Option([], "--set", help=SET_HELP),
    seeds: int = typer.Option(1, "--seeds", help=SEEDS_HELP),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", help=JOBS_HELP),
    name: Optional[str] = typer.Option(None, "--name", help="Folder name (default: "
                                       "compare-<config name>)."),
    runs_dir: Path = typer.Option(Path("runs"), "--runs-dir", help=RUNS_HELP),
    smooth: int = typer.Option(50, "--smooth", help=SMOOTH_HELP),
    band: str = typer.Option("minmax", "--band", help=BAND_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No line per finished run."),
) -> None:
    """Train variants of CONFIG side by side: a grid of --vary values × --seeds."""
    from dlexp.config import apply_overrides, read_yaml_mapping
    from dlexp.errors import ConfigError
    from dlexp.experiments.variants import grid, parse_vary, seeds_for
    base = apply_overrides(read_yaml_mapping(config), set_)
    if not vary and seeds < 2:
        raise ConfigError("nothing to compare: give --vary KEY=V1,V2 (or --seeds N > 1)")
    variants = grid(parse_vary(vary), seeds_for(base, seeds))
    default = config.stem if config.stem.startswith("compare") else f"compare-{config.stem}"
    run_comparison(base, variants, name=name or default, runs_dir=runs_dir,
                   jobs=jobs, smooth=smooth, band=band, quiet=quiet)


@app.command("compare-optimizers")
@handle_errors
def compare_optimizers(
    optimizers: str = typer.Option("sgd,momentum,adagrad,adam,rmsprop,nesterov",
                                   "--optimizers", help="Comma-separated optimizer names."),
    hyper: List[str] = typer.Option([], "--hyper", help="One optimizer's setting, e.g. "
                                    "--hyper adam.lr=0.01 (repeatable)."),
    config: Optional[Path] = typer.Option(None, "--config", help="Base config (default: "
                                          "configs/compare-optimizers.yaml)."),
    set_: List[str] = typer.Option([], "--set", help=SET_HELP),
    iterations: Optional[int] = typer.Option(None, "--iterations", help="Updates per run."),
    epochs: Optional[int] = typer.Option(None, "--epochs", help="Epochs per run instead."),
    seeds: int = typer.Option(3, "--seeds", help=SEEDS_HELP),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", help=JOBS_HELP),
    runs_dir: Path = typer.Option(Path("runs"), "--runs-dir", help=RUNS_HELP),
    smooth: int = typer.Option(50, "--smooth", help=SMOOTH_HELP),
    band: str = typer.Option("minmax", "--band", help=BAND_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No line per finished run."),
) -> None:
    """The book's MNIST comparison of SGD, Momentum, AdaGrad, Adam (+ RMSProp, Nesterov)."""
    from dlexp.config import apply_overrides, read_yaml_mapping
    from dlexp.experiments import optimizers as preset
    from dlexp.experiments.compare import preset_config
    from dlexp.experiments.variants import seeds_for
    base = apply_overrides(read_yaml_mapping(config or preset_config(preset.NAME)),
                           [*set_, *length_overrides(iterations, epochs)])
    names = preset.parse_optimizers(optimizers)
    variants = preset.optimizer_variants(names, preset.parse_hyper(hyper, names),
                                         seeds_for(base, seeds), base)
    run_comparison(base, variants, name=preset.NAME, runs_dir=runs_dir, jobs=jobs,
                   smooth=smooth, band=band, label_column=preset.LABEL_COLUMN,
                   report_keys=preset.REPORT_KEYS, quiet=quiet)


@app.command("optimizer-paths")
@handle_errors
def optimizer_paths(
    function: str = typer.Option("anisotropic", "--function", help="anisotropic (the "
                                 "book's x²/20 + y²), rotated or rosenbrock."),
    optimizers: Optional[str] = typer.Option(None, "--optimizers",
                                             help="Comma-separated (default: all six)."),
    lr: List[str] = typer.Option([], "--lr", help="NAME=RATE, e.g. --lr sgd=0.9 (repeatable)."),
    steps: Optional[int] = typer.Option(None, "--steps", help="Updates (default: 30; "
                                        "rosenbrock 300)."),
    start: Optional[str] = typer.Option(None, "--start", help="X,Y, e.g. --start=-7,2."),
    runs_dir: Path = typer.Option(Path("runs"), "--runs-dir", help=RUNS_HELP),
) -> None:
    """Paths of the optimizers on a 2-D function, over its contours (book §6.1)."""
    from dlexp.experiments.paths import run_paths, save_paths
    from dlexp.experiments.optimizers import parse_optimizers
    from dlexp.plots.paths import plot_paths
    names = tuple(parse_optimizers(optimizers)) if optimizers else None
    rates = dict(_number_pair(item, "--lr", "NAME=RATE, e.g. --lr sgd=0.9") for item in lr)
    point = None
    if start is not None:
        x, sep, y = start.partition(",")
        point = (_float(x, "--start", start), _float(y, "--start", start)) if sep else None
        if point is None:
            raise fail(f"--start {start!r}: expected X,Y, e.g. --start=-7,2")
    result = run_paths(function, names, rates, steps, point)
    run_dir = save_paths(result, runs_dir)
    plot_paths(run_dir)
    _print_paths(run_dir)
    typer.echo(str(run_dir))


def length_overrides(iterations: Optional[int], epochs: Optional[int]) -> list[str]:
    """``--iterations`` / ``--epochs`` (at most one) as ``--set`` overrides."""
    from dlexp.errors import ConfigError
    if iterations is not None and epochs is not None:
        raise ConfigError("--iterations and --epochs: give one of them, not both")
    if epochs is not None:
        return [f"training.epochs={epochs}", "training.iterations=null"]
    return [f"training.iterations={iterations}"] if iterations is not None else []


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


def _short(text: Any, n: int = 90) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[:n - 1] + "…"


def _run_line(r: dict) -> str:
    parts = [r["status"]]
    for key, label in (("final_train_loss", "train loss"), ("best_val_acc", "best val"),
                       ("test_acc", "test")):
        if r.get(key) is not None:
            parts.append(f"{label} {r[key]:.4f}")
    if r.get("train_seconds") is not None:
        parts.append(f"{r['train_seconds']:.1f}s")
    if r["status"] != "completed" and r.get("error"):
        parts.append(_short(r["error"]))
    return "  ".join(parts)


def _print_summary(result, label_column: str, columns: Optional[Sequence[str]] = None) -> None:
    """The summary table; a key column that only repeats the label is left out."""
    from rich.console import Console
    from rich.table import Table
    rows = result.summary
    if not rows or (columns is not None and not columns):
        return
    keys = [k for k in rows[0] if k not in ("runs", "completed") and not k.endswith("_std")]
    if columns is not None:
        keys = [label_column, *(k for k in columns if k in rows[0] and k != label_column)]
    keys = [k for k in keys if k == label_column
            or any(_cell(r[k]) != str(r[label_column]) for r in rows)]
    table = Table(title=f"{result.dir}")
    for k in keys:
        table.add_column(k.rsplit(".", 1)[-1].replace("_", " "))
    for r in rows:
        table.add_row(*(_cell(r[k], r.get(f"{k}_std")) for k in keys))
    Console().print(table)


def _cell(value: Any, std: Optional[float] = None) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}" if std is None else f"{value:.3f}±{std:.3f}"
    return str(value)


def _print_paths(run_dir: Path) -> None:
    import json

    from rich.console import Console
    from rich.table import Table
    info = json.loads((run_dir / "paths.json").read_text(encoding="utf-8"))
    table = Table(title=f"{info['formula']}: after {info['steps']} updates")
    for col in ("optimizer", "lr", "x", "y", "f(x, y)", "distance to minimum"):
        table.add_column(col)
    for name, e in info["final"].items():
        table.add_row(name, f"{info['lrs'][name]:g}", f"{e['x']:.4f}", f"{e['y']:.4f}",
                      f"{e['f']:.4g}", f"{e['distance']:.4f}")
    Console().print(table)
