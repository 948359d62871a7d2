"""``dlexp search``: validation-driven hyperparameter search (see :mod:`dlexp.search`)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from dlexp.cli import app, handle_errors
from dlexp.cli.options import SET_CONFIG


@app.command()
@handle_errors
def search(
    config: Optional[Path] = typer.Option(
        None, "--config", help="Config with a search: section (default: the book's search, "
                               "configs/search.yaml)."),
    set_: List[str] = SET_CONFIG,
    trials: Optional[int] = typer.Option(
        None, "--trials", help="Finished trials in total, over all rounds (default 100)."),
    sampler: Optional[str] = typer.Option(
        None, "--sampler", help="random (default, as in the book) or tpe."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Sampler seed (default: config's)."),
    rounds: Optional[int] = typer.Option(
        None, "--rounds", help="Rounds; each narrows the ranges to its best trials (default 1)."),
    keep: Optional[float] = typer.Option(
        None, "--keep", help="Next round's ranges: the span of this fraction of the best "
                             "trials so far, all rounds (0.2)."),
    pruner: Optional[str] = typer.Option(
        None, "--pruner", help="none (default), median or hyperband."),
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
    runs_dir: Path = typer.Option(Path("runs"), "--runs-dir", help="Where search folders go."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No live table."),
    no_plots: bool = typer.Option(False, "--no-plots", help="Skip the figures."),
) -> None:
    """Search hyperparameters on validation accuracy; the test set only with --final-test."""
    from dlexp.config import load_config
    from dlexp.errors import ConfigError
    from dlexp.search.searchdir import SearchOptions, new_search, resume_search
    opts = SearchOptions(trials=trials, sampler=sampler, seed=seed, rounds=rounds, keep=keep,
                         pruner=pruner, storage=storage, study=study, workers=workers)
    if resume is not None:
        if set_ and config is None:
            raise ConfigError("--set with --resume: a search keeps the config it started "
                              "with; start a new search to change it")
        plan = resume_search(resume, load_config(config, set_) if config else None, opts)
        if plan.finished >= plan.trials:
            typer.echo(f"already {plan.finished} finished trials ≥ --trials {plan.trials}; "
                       + ("no trials to run" if final_test else "nothing to do"), err=True)
            if not final_test:
                raise typer.Exit(0)
            from dataclasses import replace
            plan = replace(plan, trials=plan.finished)      # the search is what has finished
    else:
        if config is None:
            from dlexp.experiments.compare import preset_config
            config = preset_config("search")                   # the book's search
        path = config
        cfg = load_config(path, set_)
        if cfg.search is not None:
            from dlexp.search.space import refuse_searched_overrides
            refuse_searched_overrides(cfg.search, set_)
        plan = new_search(cfg, str(path), opts, runs_dir)
        typer.echo(f"search folder: {plan.dir}", err=True)

    from dlexp.search.live import LiveTable, print_summary
    from dlexp.search.runner import EXIT_CODES, run_search
    if quiet:
        result = run_search(plan)
    else:
        with LiveTable(plan.trials, list(plan.base["search"])) as live:
            result = run_search(plan, progress=live)
    if result.reran:
        typer.echo(f"{result.reran} trial(s) left running by a stopped search were failed "
                   "and run again", err=True)
    if result.problem:
        typer.echo(f"error: {result.problem}; continue with --resume {plan.dir}", err=True)
    summary = result.summary
    if not no_plots:
        from dlexp.plots.search import plot_search
        plot_search(plan.dir)
    if final_test and result.status == "completed":
        from dlexp.search.final import final_test as run_final_test
        summary = {**summary, "final_test": run_final_test(plan)}
    print_summary(summary, plan.dir)
    if result.status == "interrupted":
        typer.echo(f"interrupted; continue with: dlexp search --resume {plan.dir}", err=True)
    code = EXIT_CODES[result.status]
    if final_test and result.status != "completed":
        typer.echo(f"--final-test skipped: the search is {result.status} ({summary['finished']}"
                   f"/{summary['trials']} trials) and the test set waits for a complete one; "
                   f"finish it and test with: dlexp search --resume {plan.dir} --final-test",
                   err=True)
        code = code or 1
    raise typer.Exit(code)
