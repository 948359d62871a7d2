"""A search worker: trains trials, round after round, until each round's budget is met.

Every worker — in the ``dlexp search`` process, in a process it spawned, or on another
machine — runs the same loop, so workers may join or leave at any time::

    for each round r (budget q_r):
        study, space ← open_round(r)                 # narrowed from round r−1 if new
        loop:  c, u ← counted, running trials of the round
               c ≥ q_r and (u = 0 or last round)  → next round
               c + u < q_r                         → run one trial
               otherwise                            → wait for the running ones

Before a round's trials are all finished nobody narrows it. A trial that finds itself
beyond the budget (two workers started the last one at once) is failed as ``surplus``
and not counted, so the number of counted trials is exact.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import optuna

from dlexp.config import config_from_dict
from dlexp.data import Splits
from dlexp.errors import DlexpError, WriteError
from dlexp.search.journal import JOURNAL
from dlexp.search.objective import Objective, planned_evals
from dlexp.search.rounds import open_round
from dlexp.search.recovery import fail_stale, retry_if_whole
from dlexp.search.study import (PRUNERS, SAMPLERS, find_study, open_storage,
                                round_study_name, tally)
from dlexp.train.runner import load_splits
from dlexp.train import signals

POLL_SECONDS = 0.5


@dataclass(frozen=True)
class WorkerJob:
    """Everything a worker needs; plain data, so it can be sent to another process."""

    storage: str | None          # SQLAlchemy URL, or None: the journal in search_dir
    search_dir: str
    study: str                   # round 1's study name
    base: dict                   # the base config as plain data (``search:`` = the space)
    quotas: tuple[int, ...]      # counted trials per round
    keep: float
    sampler: str
    seed: int
    pruner: str
    worker: int = 0              # index among this machine's workers


def search_data(base: dict) -> Splits:
    """Training and validation images of the base config; the test set left out."""
    cfg = config_from_dict(base, "search")
    s = load_splits(cfg, progress=False)
    return dataclasses.replace(s, x_test=s.x_test[:0], y_test=s.y_test[:0])


def run_worker(job: WorkerJob, on_trial_end: Callable[[], None] | None = None) -> None:
    """Run trials of every round until the budgets are met or a stop is requested
    (:mod:`~dlexp.train.signals`: the current trial is then cut short)."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    storage = open_storage(job.storage, Path(job.search_dir),
                           on_stale=retry_if_whole(job.base["search"]))
    data = search_data(job.base)                    # loaded once per worker process
    n_evals = planned_evals(config_from_dict(job.base, "search"), data.x_train.shape[0])
    callbacks = [lambda study, trial: on_trial_end()] if on_trial_end else []
    last = len(job.quotas)
    for round_, quota in enumerate(job.quotas, start=1):
        words = (job.worker, _n_trials(storage, round_study_name(job.study, round_)))
        if job.storage is not None:      # other machines' workers have the same index
            words += (socket.gethostname(), os.getpid())
        study, space = open_round(storage, job.study, job.base, job.keep, round_,
                                  SAMPLERS[job.sampler](job.seed, round_, words),
                                  PRUNERS[job.pruner](n_evals))
        objective = Objective(job.base, space, data, quota, prune=job.pruner != "none",
                              round_=round_)
        while True:
            if signals.requested():
                return
            t = tally(study.get_trials(deepcopy=False))
            if t.counted >= quota and (t.running == 0 or round_ == last):
                break
            if t.counted + t.running < quota:
                _optimize_one(study, objective, callbacks, job)
                continue
            if round_ == last and job.storage is None:
                break                    # this machine's other workers finish the rest
            if job.storage is not None:
                fail_stale(study)        # a killed machine's trials, once its heartbeat stops
            time.sleep(POLL_SECONDS)


def _optimize_one(study: optuna.Study, objective: Objective, callbacks: list,
                  job: WorkerJob) -> None:
    """One trial; a failed write of the journal (disk full) becomes a WriteError naming
    it, whatever Optuna made of it (it may raise an AssertionError in its place)."""
    try:
        study.optimize(objective, n_trials=1, catch=(Exception,), callbacks=callbacks)
        cause = objective.write_failed
    except Exception as e:  # noqa: BLE001 — looked through for the OSError behind it
        cause = _os_error(e)
        if cause is None:
            raise
    if cause is not None:
        where = Path(job.search_dir) / JOURNAL if job.storage is None else "--storage"
        raise WriteError(where, cause) from None


def _os_error(e: BaseException | None) -> OSError | None:
    """The OSError ``e`` is, or was raised while handling (or from), if any."""
    seen = 0
    while e is not None and seen < 20:
        if isinstance(e, OSError):
            return e
        e, seen = e.__cause__ or e.__context__, seen + 1
    return None


def _n_trials(storage: optuna.storages.BaseStorage, name: str) -> int:
    """Trials already in a study (so a resumed TPE worker does not replay its first draws)."""
    study = find_study(storage, name)
    return len(study.get_trials(deepcopy=False)) if study is not None else 0


def worker_main(job: WorkerJob, shared) -> None:
    """Entry point of a spawned worker process: shares the parent's stop record
    (``shared``) and dies with it. (Its trials train on one BLAS thread:
    :func:`dlexp.train.setup.train_model` sees to that.)"""
    signals.install(shared)
    signals.stop_with_parent()
    try:
        run_worker(job)
    except DlexpError as e:             # one line, as the command line prints it
        print(f"error: {e}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
