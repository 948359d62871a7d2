"""A trial whose machine died, on a database shared by several machines: once its
heartbeat has stopped for the grace period, the worker that fails it enqueues its
parameters, so it is run again exactly once — with the same draws, as a journal
``--resume`` does. (SQLite stands in for the database; no server needed.)"""

from __future__ import annotations

import time

import optuna
import pytest
from optuna.trial import TrialState

from dlexp.search import study as study_module
from dlexp.search.study import retry_if_whole
from dlexp.search.study import RERUN_OF

fail_stale = optuna.storages.fail_stale_trials     # as a waiting worker calls it
KEYS = {"optimizer.lr": None, "regularization.l2": None}    # the search: section's keys
pytestmark = pytest.mark.filterwarnings(      # trials asked by hand, not by optimize()
    "ignore:Heartbeat of storage is supposed to be used with Study.optimize")


def _draw(trial: optuna.Trial, keys) -> None:
    for key in keys:
        trial.suggest_float(key, 1e-6, 1e-2, log=True)


@pytest.fixture
def machines(tmp_path, monkeypatch):
    """Two machines' views of one SQLite study, heartbeat every 1 s, stale after 1 s."""
    monkeypatch.setattr(study_module, "HEARTBEAT_SECONDS", 1)
    monkeypatch.setattr(study_module, "GRACE_SECONDS", 1)
    url = f"sqlite:///{tmp_path / 'study.db'}"
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    views = []
    for _ in range(2):
        storage = study_module.open_storage(url, tmp_path, on_stale=retry_if_whole(KEYS))
        views.append(optuna.create_study(storage=storage, study_name="s", load_if_exists=True))
    return views


def test_a_dead_machines_trial_is_rerun_once_with_its_draws(machines) -> None:
    first, second = machines
    dead = first.ask()
    _draw(dead, KEYS)                                     # drew everything, then died
    early = first.ask()
    _draw(early, ["optimizer.lr"])                        # died before drawing l2
    for t in (dead, early):
        first._storage.record_heartbeat(t._trial_id)
    time.sleep(2.2)                                       # the grace period passes
    fail_stale(second)
    fail_stale(first)                                     # the other machine notices too
    trials = second.get_trials(deepcopy=False)
    assert {t.number: t.state for t in trials if t.number < 2} == {
        0: TrialState.FAIL, 1: TrialState.FAIL}
    waiting = [t for t in trials if t.state == TrialState.WAITING]
    assert len(waiting) == 1                              # once, not once per machine
    assert waiting[0].system_attrs[RERUN_OF] == dead.number     # Optuna's retry record
    rerun = first.ask()                                   # the next trial runs it again
    _draw(rerun, KEYS)
    assert rerun.params == first.trials[dead.number].params


def test_a_running_trial_with_a_heartbeat_is_left_alone(machines) -> None:
    first, second = machines
    alive = first.ask()
    _draw(alive, KEYS)
    first._storage.record_heartbeat(alive._trial_id)
    fail_stale(second)                                    # within the grace period
    states = [t.state for t in second.get_trials(deepcopy=False)]
    assert states == [TrialState.RUNNING]
