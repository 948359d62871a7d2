"""Trials a stopped search left behind, and running them again.

A search stopped by Ctrl-C, SIGTERM or a killed process leaves trials *cut short*:
failed, not counted (:func:`dlexp.search.study.counts`). Trials still marked RUNNING
in the journal when the search is resumed belong to a process that is gone
(:func:`fail_running`); on a database, another machine's trial is given up once its
heartbeat has stopped (:func:`fail_stale`). On resume, the parameters of every trial
cut short are enqueued (:func:`requeue_cut_short`), so the next trials run them again
— and the random sampler does not count those re-runs as draws
(:func:`dlexp.search.sampler.draw_index`). A search on its journal file does this on
resume, under the folder lock. Machines sharing a database each run on their own: a
trial whose heartbeat stopped is failed by whichever worker notices first
(:func:`fail_stale`), and only that worker enqueues its parameters
(:func:`requeue_stale`, the storage's callback for stale trials), so it is re-run once.
"""

from __future__ import annotations

import warnings
from typing import Callable, Collection

import optuna
from optuna.trial import FrozenTrial, TrialState

from dlexp.search.sampler import RERUN_OF
from dlexp.search.study import counts, outcome


def fail_running(study: optuna.Study) -> int:
    """Mark the RUNNING trials of ``study`` failed (their process is gone); how many."""
    left = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    for t in left:
        study.tell(t.number, state=TrialState.FAIL, skip_if_finished=True)
    return len(left)


def cut_short(t: FrozenTrial) -> bool:
    """A trial that was stopped or killed while it trained (not a surplus trial)."""
    return t.state == TrialState.FAIL and not counts(t) and outcome(t) != "surplus"


def rerunnable(t: FrozenTrial, keys: Collection[str]) -> bool:
    """A trial cut short after it had drawn every key in ``keys`` (a trial killed
    before that is not re-run: its draws are incomplete)."""
    return cut_short(t) and set(t.params) == set(keys)


def requeue(study: optuna.Study, t: FrozenTrial) -> None:
    """Enqueue ``t``'s parameters; the re-run carries the user attribute ``rerun_of``."""
    study.enqueue_trial(t.params, user_attrs={RERUN_OF: t.number})


def requeue_cut_short(study: optuna.Study, keys: Collection[str]) -> int:
    """Enqueue the parameters of every trial cut short that no later trial runs again,
    so the next trials retry them under new numbers; how many were enqueued."""
    trials = study.get_trials(deepcopy=False)
    again = {t.user_attrs.get(RERUN_OF) for t in trials}
    todo = [t for t in trials if rerunnable(t, keys) and t.number not in again]
    for t in todo:
        requeue(study, t)
    return len(todo)


def requeue_stale(keys: Collection[str]) -> Callable[[optuna.Study, FrozenTrial], None]:
    """The database storage's callback for a trial it failed because its heartbeat
    stopped: enqueue its parameters. Optuna calls it only in the process whose update
    failed the trial, so two machines never both re-run one trial."""
    def on_stale(study: optuna.Study, t: FrozenTrial) -> None:
        if rerunnable(t, keys):
            requeue(study, t)
    return on_stale


def fail_stale(study: optuna.Study) -> None:
    """RDB storage: fail running trials whose heartbeat stopped (a killed process)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
