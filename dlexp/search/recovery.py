"""Trials a stopped search left behind, and running them again — with Optuna's retry.

A search stopped by Ctrl-C, SIGTERM or a killed process leaves trials *cut short*:
failed, not counted (:func:`dlexp.search.study.counts`). Trials still marked RUNNING
in the journal when the search is resumed belong to a process that is gone
(:func:`fail_running`); on a database, Optuna's heartbeat fails another machine's trial
once it has stopped beating (:func:`fail_stale`, ``optuna.storages.fail_stale_trials``).
Either way the trial is run again by Optuna's own
``RetryHeartbeatStaleTrialCallback``: a copy with its parameters is enqueued (state
WAITING, the system attribute ``failed_trial`` naming the original), so the next trial
runs it, and the random sampler does not count re-runs as draws
(:func:`dlexp.search.sampler.draw_index`). What dlexp adds (:func:`retry_if_whole`):
only a trial that had drawn every key is re-run (one killed before that has no whole
set of parameters), at most :data:`MAX_RETRY` times. The database storage calls it in
the one process whose update failed the trial, so two machines never both re-run it;
a search on its journal file calls it on resume, under the folder lock
(:func:`requeue_cut_short`).
"""

from __future__ import annotations

import warnings
from typing import Callable, Collection

import optuna
from optuna.trial import FrozenTrial, TrialState

from dlexp.search.study import counts, outcome

MAX_RETRY = 3                   # a trial that kills its process every time is given up

with warnings.catch_warnings():
    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
    RETRY = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRY)


def fail_running(study: optuna.Study) -> int:
    """Mark the RUNNING trials of ``study`` failed (their process is gone); how many."""
    left = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    for t in left:
        study.tell(t.number, state=TrialState.FAIL, skip_if_finished=True)
    return len(left)


def cut_short(t: FrozenTrial) -> bool:
    """A trial that was stopped or killed while it trained (not a surplus trial)."""
    return t.state == TrialState.FAIL and not counts(t) and outcome(t) != "surplus"


def retry_if_whole(keys: Collection[str]) -> Callable[[optuna.Study, FrozenTrial], None]:
    """Optuna's retry of a trial cut short, for one that had drawn every key in ``keys``."""
    def retry(study: optuna.Study, t: FrozenTrial) -> None:
        if cut_short(t) and set(t.params) == set(keys):
            RETRY(study, t)
    return retry


def requeue_cut_short(study: optuna.Study, keys: Collection[str]) -> None:
    """Retry every trial cut short that no later trial runs again (journal, on resume)."""
    trials = study.get_trials(deepcopy=False)
    again = {n for t in trials for n in t.system_attrs.get("retry_history", [])}
    retry = retry_if_whole(keys)
    for t in trials:
        if t.number not in again:
            retry(study, t)


def fail_stale(study: optuna.Study) -> None:
    """RDB storage: fail running trials whose heartbeat stopped (a killed process); the
    storage's callback retries them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
