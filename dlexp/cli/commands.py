"""``dlexp train``, ``search``, and the commands that look around: ``data``, ``runs``,
``plot``, ``configs``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import List, Optional

import typer

from dlexp.bundled import bundled, config_path, describe, folder, names
from dlexp.cli.app import BOOK, CONFIG, QUIET, RUNS_DIR, SET, App, app, examples, fail


@app.command("train", "dlexp train baseline",
             "dlexp train baseline --set training.epochs=2 --set optimizer.lr=0.01",
             "dlexp train my-config.yaml --print-config")
def train(
    config: Path = typer.Argument(..., metavar="CONFIG", help="A YAML file, or a bundled "
                                  "config's name (`dlexp configs`)."),
    set_: List[str] = SET,
    print_config: bool = typer.Option(False, "--print-config",
                                      help="Print the resolved config and exit."),
    runs_dir: Path = RUNS_DIR,
    quiet: bool = QUIET,
) -> None:
    """Train one model from a config into a new run folder.

    The folder, runs/NAME-TIME/, holds the resolved config, metrics.jsonl and plots/;
    progress goes to stderr, and the last line on stdout is the folder's path."""
    from dlexp.config import config_to_dict, load_config
    from dlexp.experiments.tables import print_run_summary
    from dlexp.train.progress import RichProgress
    from dlexp.train.runner import EXIT_CODES, train_run
    cfg = load_config(config_path(config), set_)
    if set_ and not any(s.split("=", 1)[0].strip() == "name" for s in set_):
        cfg = load_config(config_path(config), [*set_, f"name={_name_with(cfg.name, set_)}"])
    if print_config:
        import yaml
        typer.echo(yaml.safe_dump(config_to_dict(cfg), sort_keys=False), nl=False)
        return
    result = train_run(cfg, runs_root=runs_dir, progress=not quiet,
                       callbacks=() if quiet else (RichProgress(cfg.name),))
    from dlexp.plots.runs import plot_run      # after training: the data is freed by now
    plot_run(result.dir)
    print_run_summary(result.dir, result.summary)
    raise typer.Exit(EXIT_CODES[result.summary["status"]])


def _name_with(name: str, sets: List[str]) -> str:
    """The run's name with its overrides, so its folder tells it apart from a run
    without them: ``baseline`` + ``--set optimizer.lr=0.01`` -> ``baseline+lr=0.01``;
    a ``.name`` key by its section: ``optimizer.name=sgd`` -> ``optimizer=sgd``."""
    parts = []
    for item in sets:
        key, _, value = item.partition("=")
        value = re.sub(r"[\s\[\]{}()'\"]", "", value)         # [8, 4] -> 8,4
        *_, section, last = ["", *key.strip().split(".")]
        parts.append(f"{section if last == 'name' and section else last}={value}")
    return re.sub(r"[^A-Za-z0-9_.,+=@-]", "_", "+".join([name, *parts]))[:80]


@app.command("search", "dlexp search --trials 100",
             "dlexp search --trials 60 --rounds 3 --sampler tpe -j 2",
             "dlexp search --resume runs/search-20261208-001408 --final-test")
def search(
    config: Optional[Path] = CONFIG, set_: List[str] = SET, book_: bool = BOOK,
    trials: Optional[int] = typer.Option(None, help="Finished trials in total, over all "
                                         "rounds (default 100)."),
    sampler: Optional[str] = typer.Option(None, help="How trials are chosen (default "
                                          "random, as in the book)."),
    seed: Optional[int] = typer.Option(None, help="Sampler seed (default: the config's)."),
    rounds: Optional[int] = typer.Option(None, help="Rounds; each narrows the ranges to "
                                         "its best trials (default 1)."),
    keep: Optional[float] = typer.Option(None, help="Next round's ranges: the span of this "
                                         "fraction of the best trials so far (0.2)."),
    pruner: Optional[str] = typer.Option(None, help="Stop poor trials early (default none)."),
    workers: Optional[int] = typer.Option(None, "--workers", "--jobs", "-j", min=1,
                                          help="Worker processes on this machine (default "
                                          "1; with --resume, as the search last ran)."),
    storage: Optional[str] = typer.Option(None, help="Database URL shared by several "
                                          "machines, e.g. postgresql://user@host/db "
                                          "(default: a journal file)."),
    study: Optional[str] = typer.Option(None, help="Study name in the storage (default: "
                                        "the config's name)."),
    resume: Optional[Path] = typer.Option(None, metavar="DIR", help="Continue the search "
                                          "in DIR until --trials."),
    final_test: bool = typer.Option(False, "--final-test", help="Once the search is "
                                    "complete: retrain the best config on train+validation "
                                    "for the epochs it ran; test once."),
    runs_dir: Path = RUNS_DIR, quiet: bool = QUIET,
    no_plots: bool = typer.Option(False, "--no-plots", help="Skip the figures."),
) -> None:
    """Search hyperparameters on validation accuracy (§6.5).

    Trials sample the config's search: ranges (log scale where it says so); the test set
    is used only by --final-test, once."""
    from dlexp.search.runner import search_and_report
    opts = dict(trials=trials, sampler=sampler, seed=seed, rounds=rounds, keep=keep,
                pruner=pruner, storage=storage, study=study, workers=workers)
    raise typer.Exit(search_and_report(config and config_path(config), set_, opts, book=book_,
                                       resume=resume, runs_dir=runs_dir, final_test=final_test,
                                       quiet=quiet, draw=None if no_plots else _plot_search))


def _plot_search(folder: Path) -> None:
    from dlexp.plots.search import plot_search       # matplotlib: once the search is over
    plot_search(folder)


@app.command("data", "dlexp data", "dlexp data --download")
def data(download: bool = typer.Option(False, "--download", help="Fetch missing files now.")
         ) -> None:
    """Show where MNIST is found and verify its checksums.

    The four files are read from $DLEXP_DATA_DIR if set, else from the cache folder
    (~/.cache/dlexp/mnist); --download fetches the missing ones there."""
    from dlexp.cli.tables import print_data_report
    from dlexp.data.mnist import locate_mnist, verify_mnist
    mnist_dir = locate_mnist(download=download)
    raise typer.Exit(0 if print_data_report(mnist_dir, verify_mnist(mnist_dir)) else 1)


@app.command("runs", "dlexp runs",
             "dlexp runs --runs-dir runs/compare-optimizers-20261208-001408")
def runs(runs_dir: Path = RUNS_DIR) -> None:
    """List the runs, searches and experiments in a folder.

    One row per folder dlexp wrote: kind, start time, status, sub-runs, best validation
    and test accuracy."""
    from dlexp.cli.tables import print_runs_table
    print_runs_table(runs_dir)


@app.command("plot", "dlexp plot runs/baseline-* --metric val_loss",
             "dlexp plot runs/a runs/b -o overlay.pdf")
def plot(
    run: List[Path] = typer.Argument(..., help="Run folders to overlay."),
    metric: str = typer.Option("val_acc", help="The curve to overlay."),
    runs_dir: Path = RUNS_DIR,
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output figure; .png, .pdf "
                                       "or .svg (default: RUNS_DIR/overlay-METRIC.png)."),
) -> None:
    """Overlay one metric of several runs in one figure.

    Given with run folders (`dlexp plot runs/*`), other files and folders are left out."""
    from dlexp.plots.runs import plot_overlay
    if any((r / "metrics.jsonl").is_file() for r in run):
        for r in run:
            if r.exists() and not (r / "metrics.jsonl").is_file():
                typer.echo(f"note: {r} is not a run folder; left out", err=True)
        run = [r for r in run if (r / "metrics.jsonl").is_file() or not r.exists()]
    path, skipped = plot_overlay(run, out or runs_dir / f"overlay-{metric}.png", metric)
    for d in skipped:
        typer.echo(f"note: {d} has no evaluation of {metric} yet; left out", err=True)
    typer.echo(str(path))


configs_app = App(rich_markup_mode=None, epilog=examples(
    "dlexp configs", "dlexp configs show baseline", "dlexp configs copy baseline my.yaml",
    "dlexp train my.yaml"))


@configs_app.callback(invoke_without_command=True)
def configs(ctx: typer.Context) -> None:
    """List the bundled configs; show one, or copy it out to edit."""
    if ctx.invoked_subcommand is None:
        from dlexp.experiments.tables import new_table, print_titled
        table = new_table(["name", "what it is"])
        for name in names():
            table.add_row(name, describe(name))
        print_titled(f"bundled configs in {folder()}", table)


app.add_typer(configs_app, name="configs", short_help=configs.__doc__.splitlines()[0])


@configs_app.command("show", "dlexp configs show search")
def show(name: str = typer.Argument(..., help="A bundled config's name.")) -> None:
    """Print a bundled config."""
    typer.echo(bundled(name).read_text(encoding="utf-8"), nl=False)


@configs_app.command("copy", "dlexp configs copy baseline",
                     "dlexp configs copy search my-search.yaml")
def copy(
    name: str = typer.Argument(..., help="A bundled config's name."),
    dest: Optional[Path] = typer.Argument(None, help="File or folder to write (default: "
                                          "NAME.yaml here)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing file."),
) -> None:
    """Copy a bundled config out, to edit and run: `dlexp train NAME.yaml`."""
    from dlexp.io import atomic_write_text
    source = bundled(name)
    target = dest if dest is not None else Path(source.name)
    if target.is_dir():
        target = target / source.name
    if target.exists() and not force:
        raise fail(f"{target}: already exists; give another DEST or --force")
    atomic_write_text(target, source.read_text(encoding="utf-8"))
    typer.echo(str(target))
