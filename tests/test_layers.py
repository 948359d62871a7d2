"""Layer-by-layer checks of the NumPy engine: central finite differences in float64
for every backward pass, plus the layers' documented statistical and edge-case rules."""

from __future__ import annotations

import numpy as np
import pytest

from dlexp.nn.batchnorm import BatchNorm
from dlexp.nn.layers import Affine, Dropout, ReLU, Sigmoid, Tanh
from dlexp.nn.loss import SoftmaxCrossEntropy, softmax
from gradcheck import assert_grad_close, numerical_grad
from tests.book_code import BatchNormalization

def away_from_zero(rng: np.random.Generator, shape, low: float = 0.1, high: float = 2.0):
    """Random values with |v| in [low, high] and random sign (no ReLU kink nearby)."""
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)


# --- Affine ---------------------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 5])
def test_affine_gradients(n):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 4))
    W, b = rng.standard_normal((4, 3)), rng.standard_normal(3)
    dW, db = np.zeros_like(W), np.zeros_like(b)
    layer = Affine(W, b, dW, db)
    R = rng.standard_normal((n, 3))

    def f():
        return float(np.sum(layer.forward(x, True) * R))

    y = layer.forward(x, True)
    np.testing.assert_allclose(y, x @ W + b, rtol=1e-13)
    dx = layer.backward(R.copy()).copy()
    dW_a, db_a = dW.copy(), db.copy()
    assert_grad_close(dx, numerical_grad(f, x))
    assert_grad_close(dW_a, numerical_grad(f, W))
    assert_grad_close(db_a, numerical_grad(f, b))


def test_affine_input_layer_skips_dx_but_fills_param_grads():
    rng = np.random.default_rng(1)
    x, W, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal(2)
    dW, db = np.zeros_like(W), np.zeros_like(b)
    layer = Affine(W, b, dW, db, need_dx=False)
    layer.forward(x, True)
    R = rng.standard_normal((3, 2))
    assert layer.backward(R.copy()) is None
    np.testing.assert_allclose(dW, x.T @ R, rtol=1e-13)
    np.testing.assert_allclose(db, R.sum(axis=0), rtol=1e-13)


# --- activations ------------------------------------------------------------------------

def _activation_check(layer, x, R, reference):
    y = layer.forward(x, True)
    np.testing.assert_allclose(y, reference(x), rtol=1e-12, atol=1e-15)

    def f():
        return float(np.sum(layer.forward(x, True) * R))

    layer.forward(x, True)
    dx = layer.backward(R.copy()).copy()
    assert_grad_close(dx, numerical_grad(f, x))


def test_relu_gradient_away_from_kink():
    rng = np.random.default_rng(2)
    x = away_from_zero(rng, (6, 5), low=1e-3 * 100)
    assert np.min(np.abs(x)) > 1e-3
    assert (x > 0).any() and (x < 0).any()
    _activation_check(ReLU(), x, rng.standard_normal((6, 5)),
                      lambda v: np.maximum(v, 0))


def test_sigmoid_gradient():
    rng = np.random.default_rng(3)
    x = 3 * rng.standard_normal((6, 5))
    _activation_check(Sigmoid(), x, rng.standard_normal((6, 5)),
                      lambda v: 1 / (1 + np.exp(-v)))


def test_sigmoid_extreme_inputs_finite():
    layer = Sigmoid()
    y = layer.forward(np.array([[-1e4, -800.0, 0.0, 800.0, 1e4]]), True)
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y, [[0.0, 0.0, 0.5, 1.0, 1.0]], atol=1e-300)


def test_tanh_gradient():
    rng = np.random.default_rng(4)
    x = 2 * rng.standard_normal((6, 5))
    _activation_check(Tanh(), x, rng.standard_normal((6, 5)), np.tanh)


# --- batch norm ---------------------------------------------------------------------------

def _bn(rng, d, **kw):
    gamma, beta = rng.uniform(0.5, 2.0, d), rng.standard_normal(d)
    return BatchNorm(gamma, beta, np.zeros(d), np.zeros(d), **kw), gamma, beta


@pytest.mark.parametrize("n", [4, 9])
def test_batchnorm_training_gradients(n):
    rng = np.random.default_rng(5)
    d = 3
    bn, gamma, beta = _bn(rng, d)
    x = rng.standard_normal((n, d)) * rng.uniform(0.5, 3, d) + rng.standard_normal(d)
    R = rng.standard_normal((n, d))

    def f():
        return float(np.sum(bn.forward(x, True) * R))

    y = bn.forward(x, True)
    mu, var = x.mean(0), x.var(0)
    np.testing.assert_allclose(y, gamma * (x - mu) / np.sqrt(var + bn.eps) + beta, rtol=1e-12)
    dx = bn.backward(R.copy()).copy()
    dgamma, dbeta = bn.dgamma.copy(), bn.dbeta.copy()
    assert_grad_close(dx, numerical_grad(f, x))
    assert_grad_close(dgamma, numerical_grad(f, gamma))
    assert_grad_close(dbeta, numerical_grad(f, beta))
    # the input gradient of a batch-normalised layer sums to zero over the batch
    np.testing.assert_allclose(dx.sum(axis=0), 0, atol=1e-12)


@pytest.mark.parametrize("momentum", [0.1, 0.3])
def test_batchnorm_running_statistics_one_step(momentum):
    rng = np.random.default_rng(6)
    d, n = 4, 8
    bn, _, _ = _bn(rng, d, momentum=momentum)
    init_mean, init_var = bn.running_mean.copy(), bn.running_var.copy()
    np.testing.assert_array_equal(init_mean, 0)
    np.testing.assert_array_equal(init_var, 1)
    x = rng.standard_normal((n, d)) * 2 + 3
    bn.forward(x, True)
    np.testing.assert_allclose(bn.running_mean,
                               (1 - momentum) * init_mean + momentum * x.mean(0), rtol=1e-13)
    np.testing.assert_allclose(bn.running_var,
                               (1 - momentum) * init_var + momentum * x.var(0, ddof=1),
                               rtol=1e-13)


def test_batchnorm_biased_running_variance_option():
    rng = np.random.default_rng(6)
    bn, _, _ = _bn(rng, 3, momentum=0.5, unbiased=False)
    x = rng.standard_normal((5, 3))
    bn.forward(x, True)
    np.testing.assert_allclose(bn.running_var, 0.5 + 0.5 * x.var(0), rtol=1e-13)


def test_batchnorm_inference_uses_running_statistics():
    rng = np.random.default_rng(7)
    d = 4
    bn, gamma, beta = _bn(rng, d)
    for _ in range(3):
        bn.forward(rng.standard_normal((6, d)) * 2 + 1, True)
    rm, rv = bn.running_mean.copy(), bn.running_var.copy()
    x = rng.standard_normal((5, d))
    y = bn.forward(x, False).copy()
    np.testing.assert_allclose(y, gamma * (x - rm) / np.sqrt(rv + bn.eps) + beta, rtol=1e-12)
    # running statistics are untouched at inference, and rows are processed independently
    np.testing.assert_array_equal(bn.running_mean, rm)
    np.testing.assert_array_equal(bn.running_var, rv)
    np.testing.assert_allclose(bn.forward(x[2:3], False), y[2:3], rtol=1e-13)
    # and it is not the batch-statistics output
    assert not np.allclose(y, bn.forward(x, True))


def test_batchnorm_constant_inputs_are_finite():
    rng = np.random.default_rng(8)
    bn, _, beta = _bn(rng, 3)
    x = np.full((6, 3), 2.5)
    y = bn.forward(x, True).copy()
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y, np.broadcast_to(beta, y.shape), atol=1e-12)
    dx = bn.backward(rng.standard_normal((6, 3)))
    assert np.all(np.isfinite(dx)) and np.all(np.isfinite(bn.dgamma))


# --- dropout -------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["inverted", "book"])
def test_dropout_gradient_with_fixed_mask(mode):
    rng = np.random.default_rng(9)
    p = 0.4
    layer = Dropout(p, np.random.default_rng(7), mode)
    x = rng.standard_normal((6, 5))
    R = rng.standard_normal((6, 5))

    def fwd():
        layer.rng = np.random.default_rng(7)
        return layer.forward(x, True)

    def f():
        return float(np.sum(fwd() * R))

    y = fwd().copy()
    dropped = y == 0
    assert dropped.any() and (~dropped).any()
    scale = 1 / (1 - p) if mode == "inverted" else 1.0
    np.testing.assert_allclose(y[~dropped], x[~dropped] * scale, rtol=1e-14)
    dx = layer.backward(R.copy()).copy()
    np.testing.assert_allclose(dx, R * (~dropped) * scale, rtol=1e-14)
    assert_grad_close(dx, numerical_grad(f, x))


@pytest.mark.parametrize("mode", ["inverted", "book"])
def test_dropout_p0_is_identity(mode):
    rng = np.random.default_rng(10)
    layer = Dropout(0.0, rng, mode)
    x = rng.standard_normal((7, 4))
    np.testing.assert_array_equal(layer.forward(x, True), x)
    R = rng.standard_normal((7, 4))
    np.testing.assert_array_equal(layer.backward(R.copy()), R)
    np.testing.assert_array_equal(layer.forward(x, False), x)


def test_inverted_dropout_preserves_mean():
    p, shape = 0.3, (1000, 500)
    layer = Dropout(p, np.random.default_rng(11), "inverted")
    x = np.ones(shape)
    y = layer.forward(x, True)
    n = y.size
    # each y is Bernoulli(1-p)/(1-p): mean 1, variance p/(1-p)
    se = np.sqrt(p / (1 - p) / n)
    assert abs(y.mean() - 1.0) < 5 * se
    assert abs(np.mean(y == 0) - p) < 5 * np.sqrt(p * (1 - p) / n)
    np.testing.assert_array_equal(layer.forward(x, False), x)   # identity at test


def test_book_dropout_scales_at_test():
    p, shape = 0.25, (1000, 400)
    layer = Dropout(p, np.random.default_rng(12), "book")
    x = np.full(shape, 2.0)
    y = layer.forward(x, True)
    assert set(np.unique(y)) <= {0.0, 2.0}                       # no rescaling in training
    n = y.size
    assert abs(np.mean(y == 0) - p) < 5 * np.sqrt(p * (1 - p) / n)
    test_y = layer.forward(x, False)
    np.testing.assert_allclose(test_y, x * (1 - p), rtol=1e-15)
    # the expected training activation matches the test-time one
    assert abs(layer.forward(x, True).mean() - test_y.mean()) < 5 * 2 * np.sqrt(p * (1 - p) / n)


def test_dropout_rejects_unknown_mode():
    with pytest.raises(ValueError):
        Dropout(0.5, np.random.default_rng(0), "sideways")


def test_dropout_float32_mask():
    layer = Dropout(0.5, np.random.default_rng(0), "inverted")
    x = np.ones((50, 20), dtype=np.float32)
    y = layer.forward(x, True)
    assert y.dtype == np.float32
    assert set(np.unique(y)) <= {np.float32(0), np.float32(2)}


# --- softmax cross-entropy ------------------------------------------------------------------

def _ce_reference(z, y):
    m = z.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(z - m).sum(axis=1))
    return float(np.mean(lse - z[np.arange(len(y)), y]))


@pytest.mark.parametrize("n", [1, 6])
def test_softmax_cross_entropy_gradient(n):
    rng = np.random.default_rng(13)
    z = 2 * rng.standard_normal((n, 4))
    y = rng.integers(0, 4, n)
    layer = SoftmaxCrossEntropy()
    loss = layer.forward(z, y)
    assert loss == pytest.approx(_ce_reference(z, y), rel=1e-13)
    dz = layer.backward().copy()
    onehot = np.eye(4)[y]
    np.testing.assert_allclose(dz, (softmax(z) - onehot) / n, rtol=1e-12, atol=1e-16)
    assert_grad_close(dz, numerical_grad(lambda: layer.forward(z, y), z))


def test_softmax_cross_entropy_huge_logits():
    z = np.array([[1e4, 0.0, -1e4], [-1e4, 1e4, 1e4], [1e4, 1e4 - 1.0, 0.0]])
    y = np.array([1, 2, 0])
    layer = SoftmaxCrossEntropy()
    loss = layer.forward(z, y)
    assert np.isfinite(loss)
    assert loss == pytest.approx(_ce_reference(z, y), rel=1e-12)
    assert loss == pytest.approx((1e4 + np.log(2) + np.log1p(np.exp(-1.0))) / 3, rel=1e-12)
    dz = layer.backward()
    assert np.all(np.isfinite(dz))
    np.testing.assert_allclose(dz.sum(axis=1), 0, atol=1e-15)
    assert np.all(np.isfinite(softmax(z)))


def test_batch_size_one_through_affine_relu_loss():
    rng = np.random.default_rng(14)
    x = rng.standard_normal((1, 5))
    W1, b1 = rng.standard_normal((5, 4)), rng.standard_normal(4)
    W2, b2 = rng.standard_normal((4, 3)), rng.standard_normal(3)
    g = [np.zeros_like(a) for a in (W1, b1, W2, b2)]
    a1, r, a2 = Affine(W1, b1, g[0], g[1]), ReLU(), Affine(W2, b2, g[2], g[3])
    ce = SoftmaxCrossEntropy()
    y = np.array([2])
    h1 = x @ W1 + b1
    assert np.min(np.abs(h1)) > 1e-4

    def f():
        return ce.forward(a2.forward(r.forward(a1.forward(x, True), True), True), y)

    loss = f()
    assert np.isfinite(loss)
    dx = a1.backward(r.backward(a2.backward(ce.backward()))).copy()
    grads = [a.copy() for a in g]
    assert_grad_close(dx, numerical_grad(f, x))
    for param, grad in zip((W1, b1, W2, b2), grads):
        assert_grad_close(grad, numerical_grad(f, param))


@pytest.mark.parametrize("label_dtype", [np.uint8, np.int16, np.int32, np.int64])
def test_softmax_cross_entropy_any_integer_label_dtype(label_dtype):
    """Flat label positions y·N + n exceed 255 at N = 100: no overflow in small dtypes."""
    rng = np.random.default_rng(15)
    z = rng.standard_normal((100, 10))
    y = rng.integers(0, 10, 100)
    layer = SoftmaxCrossEntropy()
    assert layer.forward(z, y.astype(label_dtype)) == pytest.approx(_ce_reference(z, y),
                                                                    rel=1e-13)
    np.testing.assert_allclose(layer.backward(), (softmax(z) - np.eye(10)[y]) / 100,
                               rtol=1e-12, atol=1e-16)


@pytest.mark.parametrize("cls", [ReLU, Sigmoid, Tanh])
def test_activations_leave_their_input_alone_and_reuse_their_output(cls):
    rng = np.random.default_rng(11)
    x = 2 * rng.standard_normal((6, 5))
    layer, kept = cls(), x.copy()
    y = layer.forward(x, True)
    np.testing.assert_array_equal(x, kept)
    assert layer.forward(x + 1, True) is y                  # the same buffer, new values
    assert layer.forward(x[:3], True) is not y              # another shape: another one


def test_affine_backward_is_the_books_three_lines():
    """dx = dout·Wᵀ, dW = xᵀ·dout, db = Σ dout, as ``np.dot`` and ``np.sum`` give them."""
    rng = np.random.default_rng(16)
    x, W, b = rng.standard_normal((7, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3)
    dout = rng.standard_normal((7, 3))
    layer = Affine(W, b, np.zeros_like(W), np.zeros_like(b))
    np.testing.assert_allclose(layer.forward(x), np.dot(x, W) + b, rtol=1e-15)
    dx = layer.backward(dout.copy())
    np.testing.assert_allclose(dx, np.dot(dout, W.T), rtol=1e-15)
    np.testing.assert_allclose(layer.dW, np.dot(x.T, dout), rtol=1e-15)
    np.testing.assert_allclose(layer.db, np.sum(dout, axis=0), rtol=1e-15)


# --- batch norm against the book's BatchNormalization (tests/book_code.py) -----------------

@pytest.mark.parametrize("running_init", ["book", "standard"])
def test_batchnorm_with_the_books_settings_is_the_books_layer(running_init):
    """Training matches the book's layer whatever the start of the running statistics;
    inference after a few batches matches it only with the book's start (0 / 0)."""
    rng = np.random.default_rng(40)
    d = 6
    gamma, beta = rng.uniform(0.5, 2.0, d), rng.standard_normal(d)
    ours = BatchNorm(gamma.copy(), beta.copy(), np.zeros(d), np.zeros(d), momentum=0.1,
                     eps=1e-6, unbiased=False, running_init=running_init)
    book = BatchNormalization(gamma.copy(), beta.copy())
    for _ in range(3):
        x = rng.standard_normal((8, d)) * 3 + 2
        dout = rng.standard_normal((8, d))
        np.testing.assert_allclose(ours.forward(x, True), book.forward(x, True), rtol=1e-12)
        np.testing.assert_allclose(ours.backward(dout.copy()), book.backward(dout),
                                   rtol=1e-11, atol=1e-13)
        np.testing.assert_allclose(ours.dgamma, book.dgamma, rtol=1e-12)
        np.testing.assert_allclose(ours.dbeta, book.dbeta, rtol=1e-12)
    x = rng.standard_normal((5, d)) * 3 + 2
    same = np.allclose(ours.forward(x, False), book.forward(x, False), rtol=1e-12)
    assert same == (running_init == "book")
    if running_init == "book":
        np.testing.assert_allclose(ours.running_var, book.running_var, rtol=1e-12)


def test_batchnorm_running_statistics_start_as_configured():
    from dlexp.config import load_config
    from dlexp.nn.model import MLP
    for name, (mean0, var0) in {"standard": (0, 1), "book": (0, 0)}.items():
        cfg = load_config(None, ["model.batchnorm=true", f"model.bn_running_init={name}",
                                 "model.hidden=[4, 3]"])
        model = MLP(cfg.model, 5, 2, np.random.default_rng(0))
        assert len(model.batchnorms) == 2
        for bn in model.batchnorms:
            assert np.all(bn.running_mean == mean0) and np.all(bn.running_var == var0)
    with pytest.raises(ValueError, match="running_init"):
        BatchNorm(np.ones(2), np.zeros(2), np.zeros(2), np.zeros(2), running_init="sideways")
