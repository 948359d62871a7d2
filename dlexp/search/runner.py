"""Run a planned search: workers here (in this process, or N spawned processes sharing
the study), a live view of the best trials, and the result files at the end.

Ctrl-C or SIGTERM (:mod:`~dlexp.train.signals`, shared with the workers) cuts every
running trial short after its current update; the trials that finished are written out,
and ``--resume DIR`` continues. Trials left RUNNING in
the journal by a killed search are failed when it is resumed; they do not count, and
their parameters are enqueued so that the next trials run them again. When
``plan.trials`` trials have already finished no worker starts: only the files are
rewritten. This module never plots (see :mod:`dlexp.plots.search`).
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import multiprocessing.connection
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from dlexp.errors import WriteError
from dlexp.io import write_json
from dlexp.search.final import read_summary
from dlexp.search.journal import repair_journal
from dlexp.search.outputs import Collected, collect, write_outputs
from dlexp.search.rounds import open_round, quotas
from dlexp.search.searchdir import SearchPlan, hold_lock, record_resume
from dlexp.search.recovery import fail_running, requeue_cut_short
from dlexp.search.study import finished_count, open_storage, round_studies
from dlexp.search.worker import WorkerJob, run_worker, worker_main
from dlexp.train import signals

if TYPE_CHECKING:
    import optuna

EXIT_CODES = {"completed": 0, "incomplete": 1, "failed": 1, "interrupted": 130}
Progress = Callable[[Collected, float], None]


@dataclass(frozen=True)
class SearchResult:
    """How a search run ended, and the summary it wrote."""

    dir: Path
    summary: dict
    status: str                      # completed, incomplete (a worker died) or interrupted
    reran: int = 0                   # trials left running by a stopped search, now failed
    problem: str | None = None
    repaired: str | None = None      # what was done to a journal damaged by a crash


def run_search(plan: SearchPlan, progress: Progress | None = None) -> SearchResult:
    """Run ``plan`` with ``plan.workers`` processes until every round has its trials;
    write the result files."""
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    started, workers = time.perf_counter(), plan.workers
    with hold_lock(plan.dir):
        repaired = repair_journal(plan.dir) if plan.storage is None else None
        if plan.resumed:
            read_summary(plan.dir)           # a damaged one is refused before any work
            record_resume(plan)
        storage = open_storage(plan.storage, plan.dir)
        open_round(storage, plan.study, plan.base, plan.keep, 1)   # refuses a foreign study
        reran = _fail_left_running(storage, plan) if plan.storage is None else 0
        job = WorkerJob(storage=plan.storage, search_dir=str(plan.dir), study=plan.study,
                        base=plan.base, quotas=quotas(plan.trials, plan.rounds),
                        keep=plan.keep, sampler=plan.sampler, seed=plan.seed,
                        pruner=plan.pruner)

        def show() -> None:
            if progress is not None:
                progress(collect(storage, plan), time.perf_counter() - started)

        problem = None
        with signals.stoppable():
            show()
            if finished_count(storage, plan.study, plan.rounds) >= plan.trials:
                pass                                         # nothing left to run
            elif workers == 1:
                try:
                    _in_this_process(job, show)
                except WriteError as e:              # disk full: the files say so if they can
                    _failed(plan, storage, e, time.perf_counter() - started, workers)
                    raise
            else:
                problem = _in_processes(job, workers, show)
            c = collect(storage, plan)
            status = ("completed" if len(c.rows) >= plan.trials else  # even after a Ctrl-C
                      "incomplete" if problem or not signals.requested() else "interrupted")
            summary = write_outputs(plan, c, status, time.perf_counter() - started, workers)
    return SearchResult(plan.dir, summary, status, reran, problem, repaired)


def _failed(plan: SearchPlan, storage, error: WriteError, seconds: float, workers: int) -> None:
    """Write the result files of a search stopped by ``error``, status ``failed`` (and
    the reason), if the disk takes them; the trials finished so far stay in the journal
    and ``--resume`` continues once space is freed."""
    try:
        summary = write_outputs(plan, collect(storage, plan), "failed", seconds, workers)
        write_json(plan.dir / "summary.json", {**summary, "error": str(error)})
    except (WriteError, OSError):
        pass


def _fail_left_running(storage: optuna.storages.BaseStorage, plan: SearchPlan) -> int:
    """Journal storage, under the folder lock: no trial can still be running. Fail those
    left RUNNING (how many), and enqueue every trial cut short to run again first."""
    left = 0
    for study in round_studies(storage, plan.study, plan.rounds):
        left += fail_running(study)
        requeue_cut_short(study, plan.base["search"])
    return left


def _in_this_process(job: WorkerJob, show: Callable[[], None]) -> None:
    run_worker(job, on_trial_end=show)       # each trial's fit runs on one BLAS thread


def _in_processes(job: WorkerJob, n: int, show: Callable[[], None]) -> str | None:
    """Spawn ``n`` workers sharing this process's stop record and watch them until all
    have ended; a message if one died, else None."""
    ctx = multiprocessing.get_context("spawn")
    shared = ctx.Value("i", 0)
    with signals.sharing(shared):
        procs = [ctx.Process(target=worker_main, args=(dataclasses.replace(job, worker=i), shared),
                             name=f"dlexp-search-{i}") for i in range(n)]
        for p in procs:
            p.start()
        while True:
            alive = [p for p in procs if p.is_alive()]
            dead = [p for p in procs if p.exitcode not in (None, 0)]
            if dead:
                _stop(procs)
                return (f"worker {dead[0].name} stopped with exit code {dead[0].exitcode}; "
                        "the search stopped too")
            if not alive:
                return None
            show()
            multiprocessing.connection.wait([p.sentinel for p in alive], timeout=1.0)


def _stop(procs: list) -> None:
    """SIGTERM each live worker (it cuts its current trial short and exits), then wait."""
    for p in procs:
        if p.is_alive():
            try:
                os.kill(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    for p in procs:
        p.join(timeout=60)
        if p.is_alive():
            p.kill()
            p.join()
