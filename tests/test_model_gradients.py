"""Whole-network finite-difference checks of ``MLP.loss`` (float64), the L2/L1 penalty
gradients added by the optimiser's decay transforms, and the zero-initialisation symmetry."""

from __future__ import annotations

import numpy as np
import pytest

from dlexp.nn.layers import Dropout, ReLU
from dlexp.nn.model import MLP, ModelSpec
from dlexp.optim import apply_updates, build_optimizer
from dlexp.optim.transforms import add_decayed_weights
from gradcheck import H, numerical_grad, numerical_grad_at

IN, HIDDEN, OUT, BATCH = 7, (6, 5), 4, 8
ENTRIES_PER_ARRAY = 10


def make_model(activation="relu", batchnorm=False, dropout=0.0, mode="inverted", seed=0,
               initializer="he_normal") -> MLP:
    spec = ModelSpec(hidden=HIDDEN, activation=activation, initializer=initializer,
                     batchnorm=batchnorm, dropout=dropout, dropout_mode=mode)
    return MLP(spec, IN, OUT, np.random.default_rng(seed), np.float64)


def randomise_non_weights(model: MLP, rng: np.random.Generator) -> None:
    """Non-zero biases, γ and β, so that every parameter's gradient is exercised."""
    for name, p in model.params.items():
        if name.startswith("b") or name.startswith("beta"):
            p[...] = 0.3 * rng.standard_normal(p.shape)
        elif name.startswith("gamma"):
            p[...] = rng.uniform(0.5, 1.5, p.shape)


def reseed_dropout(model: MLP) -> None:
    for i, layer in enumerate(l for l in model.layers if isinstance(l, Dropout)):
        layer.rng = np.random.default_rng(100 + i)


def loss_fn(model: MLP, x: np.ndarray, y: np.ndarray):
    def f() -> float:
        reseed_dropout(model)
        return model.loss(x, y, training=True)
    return f


def min_relu_input(model: MLP, x: np.ndarray) -> float:
    """Smallest |input| of any ReLU in a training forward pass (same dropout masks)."""
    reseed_dropout(model)
    smallest = np.inf
    for layer in model.layers:
        if isinstance(layer, ReLU):
            smallest = min(smallest, float(np.min(np.abs(x))))
        x = layer.forward(x, True)
    return smallest


def draw_batch(model: MLP, rng: np.random.Generator, margin: float = 1e-4):
    """Inputs and labels, redrawn until no ReLU input is within ``margin`` of its kink."""
    for _ in range(100):
        x = rng.standard_normal((BATCH, IN))
        y = rng.integers(0, OUT, BATCH)
        if min_relu_input(model, x) > margin:
            return x, y
    raise AssertionError("could not draw a batch away from the ReLU kinks")


def check_model_gradients(model: MLP, x: np.ndarray, y: np.ndarray, rng) -> None:
    f = loss_fn(model, x, y)
    f()
    model.backward()
    analytic = {k: g.copy() for k, g in model.grads.items()}
    assert set(analytic) == set(model.params)
    for name, p in model.params.items():
        size = p.size
        picks = rng.choice(size, min(ENTRIES_PER_ARRAY, size), replace=False)
        numeric = numerical_grad_at(f, p, [np.unravel_index(i, p.shape) for i in picks])
        got = analytic[name].reshape(-1)[picks]
        np.testing.assert_allclose(got, numeric, rtol=1e-6, atol=1e-8,
                                   err_msg=f"gradient of {name}")


CASES = [
    dict(),
    dict(batchnorm=True),
    dict(dropout=0.3),
    dict(dropout=0.3, mode="book"),
    dict(batchnorm=True, dropout=0.25),
]


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("case", CASES, ids=["plain", "bn", "dropout", "dropout_book", "bn_dropout"])
def test_mlp_loss_gradients(activation, case):
    rng = np.random.default_rng(1)
    model = make_model(activation, **case)
    randomise_non_weights(model, rng)
    x, y = draw_batch(model, rng)
    if case.get("dropout"):
        # the fixed masks really drop something
        reseed_dropout(model)
        model.loss(x, y, True)
        masks = [l.mask for l in model.layers if isinstance(l, Dropout)]
        assert any((m == 0).any() for m in masks)
    check_model_gradients(model, x, y, rng)


def test_gradients_do_not_depend_on_previous_batches():
    """Buffers are reused; a different batch size in between must not leak into grads."""
    rng = np.random.default_rng(2)
    model = make_model("tanh", batchnorm=True)
    x, y = rng.standard_normal((BATCH, IN)), rng.integers(0, OUT, BATCH)
    model.loss(x, y)
    model.backward()
    first = {k: g.copy() for k, g in model.grads.items()}
    model.loss(rng.standard_normal((3, IN)), rng.integers(0, OUT, 3))
    model.backward()
    model.loss(x, y)
    model.backward()
    for k in first:
        np.testing.assert_array_equal(model.grads[k], first[k])


def test_groups_cover_weights_then_the_rest():
    model = make_model("relu", batchnorm=True)
    params, grads = model.groups()
    weights = [k for k in model.params if k.startswith("W")]
    np.testing.assert_array_equal(params["decay"],
                                  np.concatenate([model.params[k].ravel() for k in weights]))
    np.testing.assert_array_equal(
        params["other"],
        np.concatenate([v.ravel() for k, v in model.params.items() if k not in weights]))
    for k in model.params:
        assert np.shares_memory(model.params[k], model.flat_params)
        assert np.shares_memory(model.grads[k], model.flat_grads)
    assert params["decay"].size + params["other"].size == model.flat_params.size


# --- L2 and L1 penalties --------------------------------------------------------------------

def numerical_penalty_grads(params, penalty) -> dict[str, np.ndarray]:
    return {name: numerical_grad(penalty, p) for name, p in params.items()}


def _penalty_setup():
    rng = np.random.default_rng(3)
    model = make_model("relu", batchnorm=True)
    randomise_non_weights(model, rng)
    mask = {k: k.startswith("W") for k in model.params}
    return model, mask


@pytest.mark.parametrize("kind, lam", [("l2", 0.3), ("l1", 0.07)])
def test_penalty_gradient_on_masked_weights_only(kind, lam):
    model, mask = _penalty_setup()
    params = model.params
    if kind == "l1":                                   # no |w| kink within reach of h
        assert min(np.min(np.abs(params[k])) for k in params if mask[k]) > 10 * H

    def penalty():
        if kind == "l2":
            return 0.5 * lam * sum(float(np.sum(params[k] ** 2)) for k in params if mask[k])
        return lam * sum(float(np.sum(np.abs(params[k]))) for k in params if mask[k])

    numeric = numerical_penalty_grads(params, penalty)
    transform = (add_decayed_weights(lam, mask) if kind == "l2"
                 else add_decayed_weights(0.0, mask, l1=lam))
    updates = {k: np.zeros_like(v) for k, v in params.items()}
    updates, _ = transform.update(updates, transform.init(params), params)
    opt = build_optimizer("sgd", 1.0, mask=mask, **{kind: lam})
    opt_updates = {k: np.zeros_like(v) for k, v in params.items()}
    opt_updates, _ = opt.update(opt_updates, opt.init(params), params)
    for k in params:
        np.testing.assert_allclose(updates[k], numeric[k], rtol=1e-6, atol=1e-8, err_msg=k)
        np.testing.assert_allclose(-opt_updates[k], numeric[k], rtol=1e-6, atol=1e-8, err_msg=k)
        if not mask[k]:
            assert np.all(updates[k] == 0) and np.any(params[k] != 0)


def test_loss_plus_penalties_gradient():
    """model gradient + decay transforms = gradient of CE + ½λ₂‖W‖² + λ₁‖W‖₁."""
    model, mask = _penalty_setup()
    rng = np.random.default_rng(4)
    x, y = draw_batch(model, rng)
    params, l2, l1 = model.params, 0.2, 0.05

    def objective():
        pen = sum(0.5 * l2 * float(np.sum(params[k] ** 2)) + l1 * float(np.sum(np.abs(params[k])))
                  for k in params if mask[k])
        return model.loss(x, y, True) + pen

    objective()
    model.backward()
    updates = {k: g.copy() for k, g in model.grads.items()}
    opt = build_optimizer("sgd", 1.0, l2=l2, l1=l1, mask=mask)
    updates, _ = opt.update(updates, opt.init(params), params)
    numeric = numerical_penalty_grads(params, objective)
    for k in params:
        np.testing.assert_allclose(-updates[k], numeric[k], rtol=1e-6, atol=1e-8, err_msg=k)


# --- zero initialisation ------------------------------------------------------------------------

def _train(model: MLP, steps: int = 20, lr: float = 0.5, seed: int = 5) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((32, IN)), rng.integers(0, OUT, 32)
    opt = build_optimizer("sgd", lr)
    state = opt.init(model.params)
    first = model.loss(x, y)
    for _ in range(steps):
        model.loss(x, y)
        model.backward()
        updates = {k: g.copy() for k, g in model.grads.items()}
        updates, state = opt.update(updates, state, model.params)
        apply_updates(model.params, updates)
    return first, model.loss(x, y)


def test_zero_init_keeps_hidden_units_identical():
    model = make_model("sigmoid", initializer="zeros")
    for k, v in model.params.items():
        assert np.all(v == 0), k
    first, last = _train(model)
    assert last < first                                   # it does learn something
    p = model.params
    for name in ("W1", "W2"):                             # the hidden layers' weights
        W = p[name]
        assert np.any(W != 0), f"{name} never moved"
        np.testing.assert_allclose(W, np.broadcast_to(W[:, :1], W.shape), rtol=1e-10,
                                   atol=1e-14, err_msg=name)
    for name in ("b1", "b2"):
        np.testing.assert_allclose(p[name], p[name][0], rtol=1e-10, atol=1e-14)
    W3 = p["W3"]                                          # every hidden unit feeds the same
    np.testing.assert_allclose(W3, np.broadcast_to(W3[:1], W3.shape), rtol=1e-10, atol=1e-14)
    assert np.any(W3 != 0)


def test_random_init_breaks_the_symmetry():
    model = make_model("sigmoid", initializer="he_normal")
    _train(model)
    W1 = model.params["W1"]
    assert np.max(np.abs(W1 - W1[:, :1])) > 1e-3
