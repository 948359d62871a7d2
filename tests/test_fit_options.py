"""fit's plain options for the book's scripts: minibatches drawn with replacement, and
each minibatch's loss recorded after its update (in inference mode, as the book does)."""

from __future__ import annotations

import numpy as np
import pytest

from dlexp.nn.model import MLP, ModelSpec
from dlexp.optim import build_optimizer
from dlexp.train.loop import fit

N, D = 30, 6


def data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, D))
    x[:, 0] = np.arange(N)                                     # each image's id
    return x, rng.integers(0, 3, N)


def model(**spec):
    return MLP(ModelSpec(hidden=(5,), **spec), D, 3, np.random.default_rng(1), np.float64)


def test_sampling_with_replacement_draws_each_batch_as_the_book_does():
    x, y = data()
    net, seen = model(), []
    original = net.loss

    def loss(xb, yb, training=True):
        seen.append(xb[:, 0].astype(int))
        return original(xb, yb, training)

    net.loss = loss
    state = fit(net, build_optimizer("sgd", 0.01), lambda t: 0.01, x, y, x[:0], y[:0],
                rng=np.random.default_rng(5), batch_size=8, epochs=2,
                sample_with_replacement=True)
    book = np.random.default_rng(5)                          # np.random.choice(30, 8) each step
    expected = [book.integers(0, N, 8) for _ in range(8)]
    assert state.steps_per_epoch == 4 and state.step == 8 and len(state.history) == 2
    assert len(seen) == 8
    for got, want in zip(seen, expected):
        np.testing.assert_array_equal(got, want)
    assert any(len(set(b)) < 8 for b in seen)               # repeats happen: with replacement


def test_loss_after_update_is_the_next_weights_loss():
    """Full-batch steps: the loss recorded after update k is the loss before update k + 1,
    and the last one is the final model's."""
    x, y = data()
    kw = dict(rng=np.random.default_rng(2), batch_size=N, epochs=6, l2=0.01)
    before, after = model(), model()
    s0 = fit(before, build_optimizer("sgd", 0.1), lambda t: 0.1, x, y, x[:0], y[:0], **kw)
    kw["rng"] = np.random.default_rng(2)
    s1 = fit(after, build_optimizer("sgd", 0.1), lambda t: 0.1, x, y, x[:0], y[:0],
             loss_after_update=True, **kw)
    np.testing.assert_allclose(s1.step_losses[:-1], s0.step_losses[1:], rtol=1e-12)
    assert s1.step_losses[-1] < s0.step_losses[-1]
    np.testing.assert_array_equal(after.flat_params, before.flat_params)   # same training


def test_loss_after_update_is_taken_in_inference_mode():
    x, y = data()
    net = model(dropout=0.5)
    state = fit(net, build_optimizer("sgd", 0.1), lambda t: 0.1, x, y, x[:0], y[:0],
                rng=np.random.default_rng(3), batch_size=N, epochs=3, loss_after_update=True)
    assert state.step_losses[-1] == pytest.approx(net.evaluate(x, y)[0], rel=1e-12)
