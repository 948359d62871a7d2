"""What ``dlexp search`` does, end to end, for the thin CLI to call:

    plan    a new search folder for a config, or the one ``--resume`` names
    run     the workers, with the live table unless quiet (:mod:`dlexp.search.runner`)
    plots   the figures, drawn from the folder's files by the ``draw`` the CLI passes
    test    with ``--final-test``, once the search is complete (:mod:`dlexp.search.final`)
    report  the summary, what to do next on stderr, and the exit code

Nothing here trains or plots by itself; it only puts those pieces in order.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Sequence

from dlexp.errors import ConfigError
from dlexp.experiments.tables import say
from dlexp.search.searchdir import SearchOptions, SearchPlan


def plan_search(config: Path | None, sets: Sequence[str], opts: SearchOptions,
                resume: Path | None, runs_dir: Path, final_test: bool) -> SearchPlan | None:
    """The search to run: resumed from ``resume`` or new (the book's config when
    ``config`` is None); None when a resumed search has nothing left to do."""
    from dlexp.config import load_config
    from dlexp.search.searchdir import new_search, resume_search
    if resume is not None:
        if sets and config is None:
            raise ConfigError("--set with --resume: a search keeps the config it started "
                              "with; start a new search to change it")
        plan = resume_search(resume, load_config(config, sets) if config else None, opts)
        if plan.finished >= plan.trials:
            say(f"already {plan.finished} finished trials ≥ --trials {plan.trials}; "
                 + ("no trials to run" if final_test else "nothing to do"))
            if not final_test:
                return None
            plan = replace(plan, trials=plan.finished)     # the search is what has finished
        return plan
    if config is None:
        from dlexp.bundled import bundled
        config = bundled("search")                      # the book's search
    cfg = load_config(config, sets)
    if cfg.search is not None:
        from dlexp.config_space import refuse_searched_overrides
        refuse_searched_overrides(cfg.search, sets)
    plan = new_search(cfg, str(config), opts, runs_dir)
    say(f"search folder: {plan.dir}")
    return plan


def run_and_report(plan: SearchPlan, *, quiet: bool, final_test: bool,
                   draw: Callable[[Path], Any] | None = None) -> int:
    """Run ``plan``, ``draw`` its figures, test once if asked and allowed, print the summary;
    the exit code (0 completed, 1 incomplete or the test refused, 130 interrupted)."""
    from dlexp.search.live import LiveTable, print_summary
    from dlexp.search.runner import EXIT_CODES, run_search
    if quiet:
        result = run_search(plan)
    else:
        with LiveTable(plan.trials, list(plan.base["search"])) as live:
            result = run_search(plan, progress=live)
    if result.repaired:
        say(f"note: {result.repaired}")
    if result.reran:
        say(f"{result.reran} trial(s) left running by a stopped search were failed and "
             "run again")
    if result.problem:
        say(f"error: {result.problem}; continue with --resume {plan.dir}")
    summary = result.summary
    if draw is not None:
        draw(plan.dir)
    if final_test and result.status == "completed":
        from dlexp.search.final import final_test as run_final_test
        summary = {**summary, "final_test": run_final_test(plan)}
    print_summary(summary, plan.dir)
    if result.status == "interrupted":
        say(f"interrupted; continue with: dlexp search --resume {plan.dir}")
    code = EXIT_CODES[result.status]
    if final_test and result.status != "completed":
        say(f"--final-test skipped: the search is {result.status} ({summary['finished']}"
             f"/{summary['trials']} trials) and the test set waits for a complete one; "
             f"finish it and test with: dlexp search --resume {plan.dir} --final-test")
        code = code or 1
    return code
