"""``dlexp search`` end to end (docs/search.md): plan a new search or a ``--resume``, run
its workers (here, or N long-lived spawned processes watched every second), write the
files, draw, and test once: ``--final-test`` retrains the best config on train +
validation for the epochs the best trial ran; a later best is never tested.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import signal
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Mapping, NamedTuple, Sequence

import optuna

from dlexp.bundled import bundled
from dlexp.config import load_config
from dlexp.config_space import refuse_searched_overrides
from dlexp.errors import ConfigError, RunError, WriteError
from dlexp.book import with_book
from dlexp.fmt import say
from dlexp.io import folder_lock, write_json
from dlexp.search.report import (LiveTable, collect, print_summary, tested_trial_is_best,
                                 write_outputs)
from dlexp.search.rounds import open_round
from dlexp.search.searchdir import (SearchPlan, new_search, read_summary, record_resume,
                                    resume_search)
from dlexp.search.study import open_storage, repair_journal, requeue_left, round_studies
from dlexp.search.worker import run_worker, trial_config, worker_main
from dlexp.train import signals
from dlexp.train.runner import train_run

EXIT_CODES = {"completed": 0, "incomplete": 1, "failed": 1, "interrupted": 130}


class SearchResult(NamedTuple):
    """How a search run ended, and the summary it wrote."""

    dir: Path
    summary: dict
    status: str                      # completed, incomplete (a worker died) or interrupted


def run_search(plan: SearchPlan, progress: Callable | None = None) -> SearchResult:
    """Run ``plan`` with ``plan.workers`` processes until every round has its trials;
    write the result files. ``progress(collected, seconds)`` is called as trials end."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    started = time.perf_counter()
    with folder_lock(plan.dir, "search"), signals.stoppable():
        repaired = repair_journal(plan.dir) if plan.storage is None else None
        if repaired:
            say(f"note: {repaired}")
        if plan.resumed:
            read_summary(plan.dir)           # a damaged one is refused before any work
            record_resume(plan)
        storage = open_storage(plan.storage, plan.dir)
        open_round(storage, plan.study, plan.base, plan.keep, 1)   # refuses a foreign study
        if plan.storage is None:
            reran = sum(requeue_left(s, plan.base["search"])
                        for s in round_studies(storage, plan.study, plan.rounds))
            if reran:
                say(f"{reran} trial(s) left running by a stopped search were failed and "
                    "run again")

        def write(status: str) -> dict:
            return write_outputs(plan, collect(storage, plan), status,
                                 time.perf_counter() - started)

        def show() -> None:
            if progress is not None:
                progress(collect(storage, plan), time.perf_counter() - started)

        show()
        problem = None
        if len(collect(storage, plan).rows) >= plan.trials:
            pass                                         # nothing left to run
        elif plan.workers > 1:
            problem = _in_processes(plan, show)
        else:
            try:
                run_worker(plan, on_trial_end=show)
            except WriteError as e:          # disk full: the files say so if they can
                with contextlib.suppress(OSError, WriteError):
                    write_json(plan.dir / "summary.json", {**write("failed"), "error": str(e)})
                raise
        if problem:
            say(f"error: {problem}; continue with --resume {plan.dir}")
        status = ("completed" if len(collect(storage, plan).rows) >= plan.trials else
                  "incomplete" if problem or not signals.requested() else "interrupted")
        return SearchResult(plan.dir, write(status), status)     # even after a Ctrl-C


def _in_processes(plan: SearchPlan, show: Callable[[], None]) -> str | None:
    """Spawn the workers sharing this process's stop record, watch them until all have
    ended; a message if one failed (the others are then stopped), else None."""
    ctx = multiprocessing.get_context("spawn")
    shared = ctx.Value("i", 0)
    with signals.sharing(shared):
        procs = [ctx.Process(target=worker_main, args=(plan, i, shared), name=f"worker {i}")
                 for i in range(plan.workers)]
        for p in procs:
            p.start()
        while True:
            alive = [p for p in procs if p.is_alive()]        # (before looking for the dead)
            dead = next((p for p in procs if p.exitcode not in (None, 0)), None)
            if dead is not None:
                shared.value = shared.value or signal.SIGTERM   # the others cut their trial short
                for p in procs:
                    p.join(timeout=60)
                    p.kill()                                    # (a no-op once it has ended)
                return f"{dead.name} stopped with exit code {dead.exitcode}; the search stopped too"
            if not alive:
                return None
            show()
            multiprocessing.connection.wait([p.sentinel for p in alive], timeout=1.0)


def _plan(config: Path | None, sets: Sequence[str], opts: Mapping[str, Any], book: bool,
          resume: Path | None, runs_dir: Path, final_test: bool) -> SearchPlan | None:
    """The search to run: resumed from ``resume`` or new (the book's config when
    ``config`` is None); None when a resumed search has nothing left to do."""
    if resume is None:
        config = config or bundled("search")                 # the book's search
        sets = with_book("search", sets, book)
        cfg = load_config(config, sets)
        if cfg.search is not None:
            refuse_searched_overrides(cfg.search, sets)
        plan = new_search(cfg, str(config), opts, runs_dir)
        say(f"search folder: {plan.dir}")
        return plan
    if book:
        raise ConfigError("--book with --resume: a search keeps the config it started with")
    if sets and config is None:
        raise ConfigError("--set with --resume: a search keeps the config it started "
                          "with; start a new search to change it")
    plan = resume_search(resume, load_config(config, sets) if config else None, opts)
    if plan.finished < plan.trials:
        return plan
    say(f"already {plan.finished} finished trials ≥ --trials {plan.trials}; "
        + ("no trials to run" if final_test else "nothing to do"))
    return replace(plan, trials=plan.finished) if final_test else None


def search_and_report(config: Path | None, sets: Sequence[str], opts: Mapping[str, Any],
                      *, book: bool, resume: Path | None, runs_dir: Path, final_test: bool,
                      quiet: bool, draw: Callable[[Path], Any] | None = None) -> int:
    """``dlexp search``: plan, run, ``draw`` the figures, test once if asked and allowed,
    print the summary; the exit code (0 completed or nothing to do, 1 incomplete or the
    test refused, 130 interrupted)."""
    plan = _plan(config, sets, opts, book, resume, runs_dir, final_test)
    if plan is None:
        return 0
    if quiet:
        result = run_search(plan)
    else:
        with LiveTable(plan.trials, list(plan.base["search"])) as live:
            result = run_search(plan, progress=live)
    summary = result.summary
    if draw is not None:
        draw(plan.dir)
    if final_test and result.status == "completed":
        with folder_lock(plan.dir, "search"):
            summary = {**summary, "final_test": _final_test(plan)}
    if "final_test" in result.summary:         # an earlier run's: its time is not this run's
        summary = {**summary, "final_test": {**summary["final_test"], "earlier": True}}
    print_summary(summary)
    print(plan.dir, flush=True)                       # the last line: `| tail -1`
    if result.status == "interrupted":
        say(f"interrupted; continue with: dlexp search --resume {plan.dir}")
    code = EXIT_CODES[result.status]
    if final_test and result.status != "completed":
        say(f"--final-test skipped: the search is {result.status} ({summary['finished']}"
            f"/{summary['trials']} trials) and the test set waits for a complete one; "
            f"finish it and test with: dlexp search --resume {plan.dir} --final-test")
        code = code or 1
    return code


def _final_test(plan: SearchPlan) -> dict:
    """Retrain the best trial on train + validation, test it once; the record written
    (or the one written before)."""
    summary = read_summary(plan.dir)
    best = summary.get("best")
    if "final_test" in summary:
        done = summary["final_test"]
        if not tested_trial_is_best(done, best):
            was, now = done.get("trial", {}), best or {}
            raise RunError(
                f"{plan.dir}: the test set was already used, for trial {was.get('number')} of "
                f"round {was.get('round')} (test accuracy {done.get('test_acc')}); trial "
                f"{now.get('number')} of round {now.get('round')} is the best now, and a second "
                "test would let the test set choose; start a new search to test again")
        return done
    if best is None:
        raise RunError(f"{plan.dir}: no trial completed, so there is nothing to test")
    if not best.get("epochs"):
        raise RunError(f"{plan.dir}: summary.json does not say how many epochs the best "
                       f"trial ran; run `dlexp search --resume {plan.dir}` to rewrite it")
    cfg = trial_config(plan.base, {
        **best["params"], "data.val_size": 0, "training.epochs": best["epochs"],
        "training.iterations": None, "training.early_stopping.patience": None,
        "name": f"{plan.base['name']}-final"}, "final test")
    start = time.monotonic()
    run = train_run(cfg, run_dir=plan.dir / "final", progress=False)
    record = {**{k: run.summary[k] for k in ("status", "test_acc", "test_loss",
                                              "final_train_acc", "epochs")},
              "trial": {"round": best["round"], "number": best["number"]},
              "params": best["params"], "run": "final",
              "seconds": round(time.monotonic() - start, 2)}      # wall time of the retrain
    write_json(plan.dir / "summary.json", {**summary, "final_test": record})
    return record
