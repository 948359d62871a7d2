"""RunningAccuracy counts what per-batch argmax comparisons count, across buffer flushes."""

from __future__ import annotations

import numpy as np

from dlexp.train.accuracy import RunningAccuracy


def test_matches_per_batch_counting_across_flushes_and_resets():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 50)
    acc = RunningAccuracy(capacity=7, label_dtype=y.dtype)     # forces several flushes
    expected_correct, expected_seen = 0, 0
    for step in range(12):
        idx = rng.integers(0, 50, 3 if step % 4 else 2)
        yb = acc.gather_labels(y, idx)
        np.testing.assert_array_equal(yb, y[idx])
        logits = rng.standard_normal((idx.shape[0], 4)).astype(np.float32)
        logits[0, y[idx[0]]] += 5.0                             # some right, some wrong
        acc.add(logits)
        expected_correct += int(np.count_nonzero(logits.argmax(axis=1) == y[idx]))
        expected_seen += idx.shape[0]
        if step == 5:
            assert acc.result() == (expected_correct, expected_seen)
            acc.reset()
            expected_correct, expected_seen = 0, 0
    assert acc.result() == (expected_correct, expected_seen)
    assert 0 < expected_correct < expected_seen


def test_ties_go_to_the_first_class_as_argmax_does():
    y = np.array([0, 1, 2])
    acc = RunningAccuracy(capacity=8, label_dtype=y.dtype)
    acc.gather_labels(y, np.arange(3))
    acc.add(np.zeros((3, 3), np.float32))                       # all logits tie
    assert acc.result() == (1, 3)


def test_a_batch_whose_predictions_never_came_is_not_counted():
    y = np.array([1, 1, 1, 1])
    acc = RunningAccuracy(capacity=8, label_dtype=y.dtype)
    acc.gather_labels(y, np.array([0, 1]))
    acc.add(np.array([[0.0, 1.0], [0.0, 1.0]]))
    acc.gather_labels(y, np.array([2, 3]))                     # e.g. its loss diverged
    assert acc.result() == (2, 2)
