"""What a trial reports to the pruner: accuracy, with ties broken by loss only."""

from __future__ import annotations

import math

from dlexp.search.worker import ReportToTrial
from dlexp.train.loop import FitState


class FakeTrial:
    def __init__(self) -> None:
        self.reported: list[float] = []

    def report(self, value: float, step: int) -> None:
        self.reported.append(value)

    def should_prune(self) -> bool:
        return False


def reported(acc: float, loss: float | None, n_val: int = 100) -> float:
    trial = FakeTrial()
    state = FitState(total_steps=1, steps_per_epoch=1)
    record = {"val_acc": acc, "val_loss": loss}
    state.history.append(record)
    ReportToTrial(trial, n_val).on_eval(state, record)
    return trial.reported[0]


def test_equal_accuracies_are_ordered_by_loss():
    assert reported(0.05, 2.29) > reported(0.05, 2.30)


def test_a_higher_accuracy_always_reports_higher_whatever_the_losses():
    for n_val in (10, 100, 10_000):
        step = 1 / n_val
        assert reported(0.5 + step, 1e9, n_val) > reported(0.5, 0.0, n_val)
        assert reported(0.5 + step, math.inf, n_val) > reported(0.5, 0.0, n_val)
        assert reported(0.5 + step, None, n_val) > reported(0.5, 0.0, n_val)


def test_no_validation_accuracy_reports_nothing():
    trial = FakeTrial()
    state = FitState(total_steps=1, steps_per_epoch=1)
    ReportToTrial(trial, 100).on_eval(state, {"val_acc": None, "val_loss": None})
    assert trial.reported == []
