"""``dlexp search``: validation-driven hyperparameter search (see :mod:`dlexp.search`)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from dlexp.cli.app import app, fail, handle_errors
from dlexp.cli.helptext import examples
from dlexp.cli.options import BOOK, SET_CONFIG, runs_dir_option


@app.command(epilog=examples("dlexp search --trials 100",
                             "dlexp search --trials 60 --rounds 3 --sampler tpe -j 2",
                             "dlexp search --resume runs/search-2026-01-01_1200 --final-test"))
@handle_errors
def search(
    config: Optional[Path] = typer.Option(
        None, "--config", help="Config with a search: section, a file or a bundled name "
                               "(default: the book's search, `dlexp configs show search`)."),
    set_: List[str] = SET_CONFIG, book_: bool = BOOK,
    trials: Optional[int] = typer.Option(
        None, "--trials", help="Finished trials in total, over all rounds (default 100)."),
    sampler: Optional[str] = typer.Option(
        None, "--sampler", help="How trials are chosen (default random, as in the book)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Sampler seed (default: config's)."),
    rounds: Optional[int] = typer.Option(
        None, "--rounds", help="Rounds; each narrows the ranges to its best trials (default 1)."),
    keep: Optional[float] = typer.Option(
        None, "--keep", help="Next round's ranges: the span of this fraction of the best "
                             "trials so far, all rounds (0.2)."),
    pruner: Optional[str] = typer.Option(
        None, "--pruner", help="Stop poor trials early (default none)."),
    workers: Optional[int] = typer.Option(
        None, "--workers", "--jobs", "-j", min=1,
        help="Worker processes on this machine (default 1; with --resume, as many as the "
             "search last ran with)."),
    storage: Optional[str] = typer.Option(
        None, "--storage", help="Database URL shared by several machines, e.g. "
                                "postgresql://user@host/db (default: a journal file)."),
    study: Optional[str] = typer.Option(
        None, "--study", help="Study name in the storage (default: the config's name)."),
    resume: Optional[Path] = typer.Option(
        None, "--resume", help="Continue the search in this folder until --trials."),
    final_test: bool = typer.Option(
        False, "--final-test", help="Once the search is complete: retrain the best config on "
                                    "train+validation for the epochs it ran; test once."),
    runs_dir: Path = runs_dir_option("Where search folders go."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No live table."),
    no_plots: bool = typer.Option(False, "--no-plots", help="Skip the figures."),
) -> None:
    """Search hyperparameters on validation accuracy (§6.5).

    Trials sample the config's search: ranges (log scale where it says so); the test set
    is used only by --final-test, once."""
    from dlexp.search.searchdir import SearchOptions
    from dlexp.search.runner import plan_search, run_and_report
    opts = SearchOptions(trials=trials, sampler=sampler, seed=seed, rounds=rounds, keep=keep,
                         pruner=pruner, storage=storage, study=study, workers=workers)
    from dlexp.bundled import config_path
    from dlexp.experiments.book import with_book
    if book_ and resume is not None:
        raise fail("--book with --resume: a search keeps the config it started with")
    plan = plan_search(config and config_path(config), with_book("search", set_, book_),
                       opts, resume, runs_dir, final_test)
    if plan is None:
        raise typer.Exit(0)                            # a resumed search with nothing to do
    raise typer.Exit(run_and_report(plan, quiet=quiet, final_test=final_test,
                                    draw=None if no_plots else _plot_search))


def _plot_search(folder: Path) -> None:
    from dlexp.plots.search import plot_search       # matplotlib: once the search is over
    plot_search(folder)
