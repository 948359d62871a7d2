"""The benchmark's implementations do the work they claim (timings are never asserted).

On a small synthetic data set: the book-style baseline and dlexp in float64 train to
the same weights from the same start and batch order; the NumPy floor makes exactly the
products of a training step; paired ratios are taken round by round.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import impl_book, impl_dlexp, impl_floor, report
from benchmarks.common import BATCH, Data


@pytest.fixture(scope="module")
def data() -> Data:
    rng = np.random.default_rng(3)
    x = lambda n: rng.random((n, 784)).astype(np.float32)            # noqa: E731
    y = lambda n: rng.integers(0, 10, n)                              # noqa: E731
    return Data(x(250), y(250), x(60), y(60), (x(40), y(40), x(10), y(10)))


@pytest.mark.parametrize("workload", ["sgd", "bn_adam"])
def test_book_style_and_dlexp_float64_train_alike(data, workload):
    book, ours = impl_book.Impl(data), impl_dlexp.Impl(data, dtype="float64")
    for impl in (book, ours):
        impl.setup(workload)
    a, b = book.epoch(), ours.epoch()
    assert a["weight_norm"] == pytest.approx(b["weight_norm"], rel=1e-10)
    assert a["acc"] == b["acc"]
    # the book adds 1e-7 inside its logarithm: losses agree to about that
    assert a["loss"] == pytest.approx(b["loss"], abs=1e-5)
    ea, eb = book.evaluate(), ours.evaluate()
    assert ea["acc"] == eb["acc"]


def test_floor_step_makes_the_products_of_backpropagation(data):
    impl = impl_floor.Impl(data)
    impl.setup("sgd")
    net = impl.net
    x = data.x_train[:BATCH]
    net.step(x)
    W = [w.astype(np.float64) for w in net.W]
    hs, h = [], x.astype(np.float64)
    for w in W:
        h = h @ w
        hs.append(h)
    d = net.delta.astype(np.float64)
    for i in range(len(W) - 1, -1, -1):
        inp = x.astype(np.float64) if i == 0 else hs[i - 1]
        ref = inp.T @ d                                  # float32 sums: scale-relative check
        np.testing.assert_allclose(net.dW[i], ref, atol=1e-5 * np.abs(ref).max())
        d = d @ W[i].T
    np.testing.assert_allclose(net.h[-1], hs[-1], atol=1e-5 * np.abs(hs[-1]).max())


def test_the_sweeps_two_engines_train_alike(data):
    """From the same weights and batch order, dlexp's fit and the sweep's PyTorch loop
    reach the same weights (float64), so their times are for the same work."""
    pytest.importorskip("torch")
    from benchmarks import sweep
    ours, theirs = sweep.Impl(data, "dlexp"), sweep.Impl(data, "torch")
    for impl in (ours, theirs):
        impl.setup("float64")
        cpu, wall = impl.run(3)                              # 3 batches of 100
        assert cpu > 0 and wall > 0
    for i, lin in enumerate(m for m in theirs.net if hasattr(m, "weight")):
        np.testing.assert_allclose(ours.model.params[f"W{i + 1}"],
                                   lin.weight.detach().numpy().T, rtol=1e-9, atol=1e-12)
    assert not np.allclose(ours.model.params["W1"], theirs.model.params["W1"])


def test_ratios_are_paired_round_by_round():
    r = report._paired([1.0, 4.0, 3.0], [2.0, 2.0, 6.0])
    assert r == {"median": 0.5, "min": 0.5, "max": 2.0, "n": 3}


def test_ab_pairs_each_round_base_new_new_base():
    """The A/B ratio of a round is NEW's two epochs over BASE's two, taken in the order
    BASE, NEW, NEW, BASE (so a steady drift of the machine cancels), after a warm-up."""
    from benchmarks.ab import compare

    class Fake:
        def __init__(self, name, times):
            self.name, self.times = name, iter(times)

        def epoch(self):
            return next(self.times), 0.5

    drift = iter(range(100))                  # the machine slows by 1 % per epoch
    clock = lambda s: s * (1 + next(drift) / 100)                        # noqa: E731
    base = Fake("base", (clock(1.0) for _ in range(100)))
    new = Fake("new", (clock(0.8) for _ in range(100)))
    r = compare(base, new, rounds=5)
    assert r["ratio"] == pytest.approx(0.8, rel=1e-12)           # the drift cancels
    assert r["low"] == pytest.approx(0.8) and r["high"] == pytest.approx(0.8)
    assert r["first_loss"] == {"base": 0.5, "new": 0.5}
