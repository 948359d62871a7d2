"""RunningMeans: the mean of the batch losses and the accuracy of the images seen since
the last record, as per-batch counting gives them; ties go to the first class."""

from __future__ import annotations

import numpy as np
import pytest

from dlexp.train.loop import RunningMeans


def test_matches_per_batch_counting_and_starts_anew_after_each_result():
    rng = np.random.default_rng(0)
    meter = RunningMeans()
    for _ in range(2):
        losses, correct, seen = [], 0, 0
        for step in range(5):
            n = 3 if step % 2 else 2
            y = rng.integers(0, 4, n)
            logits = rng.standard_normal((n, 4))
            logits[0, y[0]] += 5.0                                # some right, some wrong
            loss = float(rng.random())
            meter.add(loss, logits, y)
            losses.append(loss)
            correct += int(np.count_nonzero(logits.argmax(axis=1) == y))
            seen += n
        mean_loss, acc = meter.result()
        assert mean_loss == pytest.approx(np.mean(losses), rel=1e-15)
        assert acc == correct / seen and 0 < correct < seen


def test_ties_go_to_the_first_class_as_argmax_does():
    meter = RunningMeans()
    meter.add(0.5, np.zeros((3, 3)), np.array([0, 1, 2]))          # all logits tie
    assert meter.result() == (0.5, 1 / 3)
