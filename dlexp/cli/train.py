"""``dlexp train``, ``dlexp data``, ``dlexp runs`` and ``dlexp plot``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, List, Optional

import typer

from dlexp.cli.app import app, handle_errors
from dlexp.cli.helptext import examples
from dlexp.cli.options import SET_CONFIG, runs_dir_option

if TYPE_CHECKING:
    from dlexp.config import Config


@app.command(epilog=examples("dlexp train baseline",
                             "dlexp train baseline --set training.epochs=2 --set optimizer.lr=0.01",
                             "dlexp train my-config.yaml --print-config"))
@handle_errors
def train(
    config: Path = typer.Argument(..., metavar="CONFIG", help="A YAML file, or a bundled "
                                  "config's name (`dlexp configs`)."),
    set_: List[str] = SET_CONFIG,
    print_config: bool = typer.Option(False, "--print-config",
                                      help="Print the resolved config and exit."),
    runs_dir: Path = runs_dir_option("Where run folders go."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
) -> None:
    """Train one model from a config into a new run folder.

    CONFIG is a YAML file or the name of a bundled config (`dlexp configs` lists them).
    The folder, runs/NAME-TIME/, holds the resolved config, metrics.jsonl and
    plots/; the last line printed is its path."""
    from dlexp.bundled import config_path
    from dlexp.config import config_to_dict, load_config
    path = config_path(config)
    cfg = load_config(path, set_)
    if set_ and not any(s.split("=", 1)[0].strip() == "name" for s in set_):
        cfg = load_config(path, [*set_, f"name={_name_with(cfg.name, set_)}"])
    if print_config:
        import yaml
        typer.echo(yaml.safe_dump(config_to_dict(cfg), sort_keys=False), nl=False)
        return
    raise typer.Exit(train_and_report(cfg, runs_dir, quiet))


def _name_with(name: str, sets: List[str]) -> str:
    """The run's name with its overrides, so its folder tells it apart from a run
    without them: ``baseline`` + ``--set optimizer.lr=0.01`` -> ``baseline+lr=0.01``."""
    import re
    parts = []
    for item in sets:
        key, _, value = item.partition("=")
        value = re.sub(r"[\s\[\]{}()'\"]", "", value)         # [8, 4] -> 8,4
        parts.append(f"{key.strip().rsplit('.', 1)[-1]}={value}")
    return re.sub(r"[^A-Za-z0-9_.,+=@-]", "_", "+".join([name, *parts]))[:80]


def train_and_report(cfg: Config, runs_root: Path, quiet: bool) -> int:
    """Train ``cfg`` into a new folder under ``runs_root`` (a progress display unless
    ``quiet``), draw its figures from the folder's files once training is over, print
    the summary; the exit code (0 completed, 1 diverged, 130 interrupted)."""
    from dlexp.experiments.tables import print_run_summary
    from dlexp.train.progress import RichProgress
    from dlexp.train.runner import EXIT_CODES, train_run
    callbacks = () if quiet else (RichProgress(cfg.name),)
    result = train_run(cfg, runs_root=runs_root, callbacks=callbacks, progress=not quiet)
    from dlexp.plots.runs import plot_run      # after training: the data is freed by now
    plot_run(result.dir)
    print_run_summary(result.dir, result.summary)
    return EXIT_CODES[result.summary["status"]]


@app.command(epilog=examples("dlexp data", "dlexp data --download"))
@handle_errors
def data(
    download: bool = typer.Option(False, "--download", help="Fetch missing files now."),
) -> None:
    """Show where MNIST is found and verify its checksums.

    The four files are read from $DLEXP_DATA_DIR if set, else from the cache folder
    (~/.cache/dlexp/mnist); --download fetches the missing ones there."""
    from dlexp.cli.report import print_data_report
    from dlexp.data import locate_mnist, verify_mnist
    folder = locate_mnist(download=download)
    ok = print_data_report(folder, verify_mnist(folder))
    raise typer.Exit(0 if ok else 1)


@app.command(epilog=examples("dlexp runs", "dlexp runs --runs-dir runs/compare-optimizers-2026-01-01_1200"))
@handle_errors
def runs(
    runs_dir: Path = runs_dir_option("Where run folders are."),
) -> None:
    """List the runs, comparisons and searches in a folder.

    One row per folder dlexp wrote: kind, start time, status, sub-runs, best validation
    and test accuracy."""
    from dlexp.cli.report import print_runs_table
    print_runs_table(runs_dir)


@app.command(epilog=examples("dlexp plot runs/baseline-* --metric val_loss",
                             "dlexp plot runs/a runs/b -o overlay.pdf"))
@handle_errors
def plot(
    run: List[Path] = typer.Argument(..., help="Run folders to overlay."),
    metric: str = typer.Option("val_acc", help="The curve to overlay."),
    runs_dir: Path = runs_dir_option("Where the figure goes by default."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output figure; .png, .pdf "
                                       "or .svg (default: RUNS_DIR/overlay-METRIC.png)."),
) -> None:
    """Overlay one metric of several runs in one figure."""
    from dlexp.plots.runs import plot_overlay
    path, skipped = plot_overlay(run, out or runs_dir / f"overlay-{metric}.png", metric)
    for d in skipped:
        typer.echo(f"note: {d} has no evaluation of {metric} yet; left out", err=True)
    typer.echo(str(path))
