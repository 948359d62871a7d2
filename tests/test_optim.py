"""Optimisers: closed-form first steps, reference implementations written out in NumPy,
penalties and masks, transform order, and flat-group vs per-name equivalence."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pytest

from dlexp.nn.model import MLP, ModelSpec
from dlexp.optim import (OPTIMIZERS, apply_updates, build_optimizer, chain, hyperparameters)
from dlexp.config import NAMED
from dlexp.optim.transforms import (GradientTransformation, add_decayed_weights,
                                    scale_by_adam, scale_by_learning_rate)


def make_params(seed=0):
    rng = np.random.default_rng(seed)
    return {"W": rng.standard_normal((5, 3)), "b": rng.standard_normal(3)}


def make_grads(seed=1):
    rng = np.random.default_rng(seed)
    return {"W": rng.standard_normal((5, 3)), "b": rng.standard_normal(3)}


def copy(d):
    return {k: v.copy() for k, v in d.items()}


def step(opt, params, grads, state=None):
    """One update in place on ``params``; returns (params, state, update)."""
    if state is None:
        state = opt.init(params)
    updates, state = opt.update(copy(grads), state, params)
    applied = copy(updates)
    apply_updates(params, updates)
    return params, state, applied


def run(opt, params, grad_fn, steps):
    """``steps`` updates with gradients grad_fn(params, t); returns the trajectory."""
    state = opt.init(params)
    traj = []
    for t in range(steps):
        updates, state = opt.update(copy(grad_fn(params, t)), state, params)
        apply_updates(params, updates)
        traj.append(copy(params))
    return traj


def random_grads(seed=2):
    rng = np.random.default_rng(seed)
    seq = [make_grads(int(s)) for s in rng.integers(0, 2**31, 50)]
    return lambda params, t: seq[t]


# --- first steps in closed form ---------------------------------------------------------------

LR = 0.05


def first_step(name, **hyper):
    p0, g = make_params(), make_grads()
    _, _, u = step(build_optimizer(name, LR, **hyper), copy(p0), g)
    return p0, g, u


def test_sgd_step():
    p0, g = make_params(), make_grads()
    p, _, _ = step(build_optimizer("sgd", LR), copy(p0), g)
    for k in p0:
        np.testing.assert_allclose(p[k], p0[k] - LR * g[k], rtol=1e-15)


class CountState(NamedTuple):
    count: int


def counting() -> GradientTransformation:
    """A transform written the optax way: it returns a *new* state (never mutates the
    old one) and multiplies the updates by the number of steps it has seen."""

    def update(grads, state, params):
        n = state.count + 1
        return {k: g * n for k, g in grads.items()}, CountState(n)

    return GradientTransformation(lambda p: CountState(0), update)


def test_chain_threads_every_transforms_returned_state():
    opt = chain(counting(), scale_by_learning_rate(LR), counting())
    p, g = make_params(), make_grads()
    state = opt.init(p)
    for t in range(1, 4):
        u, state = opt.update(g, state, p)
        for k in g:                                 # count t, twice, with −η between
            np.testing.assert_allclose(u[k], -LR * t * t * g[k], rtol=1e-15)
        assert state[0] == CountState(t) and state[2] == CountState(t)
        assert state[1].count == t


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_update_leaves_grads_and_params_alone_and_returns_namedtuple_state(name):
    p0, g0 = make_params(), make_grads()
    params, grads = copy(p0), copy(g0)
    opt = build_optimizer(name, LR, l2=0.1, l1=0.01)
    state = opt.init(params)
    for _ in range(2):
        u, state = opt.update(grads, state, params)
        assert all(u[k] is not grads[k] for k in grads)
    for k in p0:
        np.testing.assert_array_equal(params[k], p0[k])
        np.testing.assert_array_equal(grads[k], g0[k])
    def leaves(s):                                  # a chain's state is a tuple of states
        return [x for c in s for x in leaves(c)] if not hasattr(s, "_fields") else [s]
    assert leaves(state) and all(isinstance(s, tuple) for s in leaves(state))


def fit_once(model, optimizer, x, y):
    """One update of ``fit`` on the whole of (x, y)."""
    from dlexp.train.loop import fit
    fit(model, optimizer, lambda t: 0.1, x, y, x[:0], y[:0], rng=np.random.default_rng(0),
        batch_size=len(y), epochs=1)


@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_fit_leaves_the_gradients_in_model_grads(name):
    """After an update ``model.grads`` holds dL/dθ of the batch (what backward at the
    weights before the step gives), whatever the optimiser did with it."""
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((8, 7)), rng.integers(0, 4, 8)
    model, twin = (MLP(ModelSpec(hidden=(6,)), 7, 4, np.random.default_rng(0), np.float64)
                   for _ in range(2))
    fit_once(model, build_optimizer(name, 0.1), x, y)
    twin.loss(x, y)
    twin.backward()
    np.testing.assert_allclose(model.flat_grads, twin.flat_grads, rtol=1e-12)
    assert not np.allclose(model.flat_params, twin.flat_params)


@pytest.mark.parametrize("eps", [1e-8, 0.3])
def test_adam_first_step(eps):
    _, g, u = first_step("adam", eps=eps)
    for k in g:
        np.testing.assert_allclose(u[k], -LR * g[k] / (np.abs(g[k]) + eps), rtol=1e-13)


def test_momentum_first_step_equals_sgd():
    _, _, u_m = first_step("momentum", momentum=0.7)
    _, _, u_s = first_step("sgd")
    for k in u_s:
        np.testing.assert_allclose(u_m[k], u_s[k], rtol=1e-15)


def test_nesterov_first_step():
    mu = 0.8
    _, g, u = first_step("nesterov", momentum=mu)
    for k in g:
        np.testing.assert_allclose(u[k], -LR * (1 + mu) * g[k], rtol=1e-14)


def test_nesterov_is_the_books_rule_on_the_issues_numbers():
    """Three unit-gradient steps at η 0.1, μ 0.9 from 1.0: the book's Nesterov (p moved
    with the old velocity, then v updated) gives 0.81, 0.539, 0.1951."""
    opt, p = build_optimizer("nesterov", 0.1, momentum=0.9), {"p": np.array([1.0])}
    state, path = opt.init(p), []
    for _ in range(3):
        u, state = opt.update({"p": np.array([1.0])}, state, p)
        apply_updates(p, u)
        path.append(float(p["p"][0]))
    np.testing.assert_allclose(path, [0.81, 0.539, 0.1951], rtol=1e-14)


def test_adagrad_first_step():
    _, g, u = first_step("adagrad", eps=0.01)
    for k in g:
        np.testing.assert_allclose(u[k], -LR * g[k] / (np.abs(g[k]) + 0.01), rtol=1e-14)


def test_rmsprop_first_step():
    alpha, eps = 0.9, 1e-3
    _, g, u = first_step("rmsprop", alpha=alpha, eps=eps)
    for k in g:
        h = (1 - alpha) * g[k] ** 2
        np.testing.assert_allclose(u[k], -LR * g[k] / (np.sqrt(h) + eps), rtol=1e-14)


# --- multi-step references ----------------------------------------------------------------------

def adam_reference(params, grad_fn, steps, lr, b1, b2, eps, book=False):
    m = {k: np.zeros_like(v) for k, v in params.items()}
    v = {k: np.zeros_like(x) for k, x in params.items()}
    traj = []
    for t in range(1, steps + 1):
        g = grad_fn(params, t - 1)
        for k in params:
            m[k] = b1 * m[k] + (1 - b1) * g[k]
            v[k] = b2 * v[k] + (1 - b2) * g[k] ** 2
            if book:        # the book's code, literally
                lr_t = lr * np.sqrt(1.0 - b2 ** t) / (1.0 - b1 ** t)
                params[k] = params[k] - lr_t * m[k] / (np.sqrt(v[k]) + eps)
            else:           # torch's form, with the book's ε rescaled: ε_t = ε / sqrt(1-β₂ᵗ)
                eps_t = eps / np.sqrt(1 - b2 ** t)
                mhat, vhat = m[k] / (1 - b1 ** t), v[k] / (1 - b2 ** t)
                params[k] = params[k] - lr * mhat / (np.sqrt(vhat) + eps_t)
        traj.append(copy(params))
    return traj


@pytest.mark.parametrize("eps", [1e-7, 0.05])
@pytest.mark.parametrize("book_reference", [False, True])
def test_adam_book_equals_adam_with_rescaled_eps(eps, book_reference):
    grad_fn = random_grads()
    lr, b1, b2 = 0.01, 0.8, 0.95
    ours = run(build_optimizer("adam_book", lr, beta1=b1, beta2=b2, eps=eps), make_params(),
               grad_fn, 20)
    ref = adam_reference(make_params(), grad_fn, 20, lr, b1, b2, eps, book=book_reference)
    for a, b in zip(ours, ref):
        for k in a:
            np.testing.assert_allclose(a[k], b[k], rtol=1e-12, atol=1e-14)


def test_adam_without_bias_correction_is_raw_moments():
    grad_fn = random_grads()
    lr, b1, b2, eps = 0.01, 0.85, 0.97, 0.02
    ours = run(build_optimizer("adam", lr, beta1=b1, beta2=b2, eps=eps, bias_correction=False),
               make_params(), grad_fn, 10)
    m = {k: 0.0 for k in "Wb"}
    v = {k: 0.0 for k in "Wb"}
    p = make_params()
    for t in range(10):
        g = grad_fn(p, t)
        for k in p:
            m[k] = b1 * m[k] + (1 - b1) * g[k]
            v[k] = b2 * v[k] + (1 - b2) * g[k] ** 2
            p[k] = p[k] - lr * m[k] / (np.sqrt(v[k]) + eps)
            np.testing.assert_allclose(ours[t][k], p[k], rtol=1e-12, atol=1e-14)
    corrected = run(build_optimizer("adam", lr, beta1=b1, beta2=b2, eps=eps), make_params(),
                    grad_fn, 10)
    assert not np.allclose(ours[-1]["W"], corrected[-1]["W"])


def test_adam_book_differs_from_adam_with_same_eps():
    grad_fn = random_grads()
    ours = run(build_optimizer("adam_book", 0.01, eps=0.05), make_params(), grad_fn, 5)
    torch_like = run(build_optimizer("adam", 0.01, eps=0.05), make_params(), grad_fn, 5)
    assert not np.allclose(ours[-1]["W"], torch_like[-1]["W"], rtol=1e-6)


def test_adam_matches_reference():
    grad_fn = random_grads()
    lr, b1, b2, eps = 0.01, 0.85, 0.97, 0.02
    ours = run(build_optimizer("adam", lr, beta1=b1, beta2=b2, eps=eps), make_params(),
               grad_fn, 20)
    m = {k: 0.0 for k in "Wb"}
    v = {k: 0.0 for k in "Wb"}
    p = make_params()
    for t in range(1, 21):
        g = grad_fn(p, t - 1)
        for k in p:
            m[k] = b1 * m[k] + (1 - b1) * g[k]
            v[k] = b2 * v[k] + (1 - b2) * g[k] ** 2
            p[k] = p[k] - lr * (m[k] / (1 - b1 ** t)) / (np.sqrt(v[k] / (1 - b2 ** t)) + eps)
        for k in p:
            np.testing.assert_allclose(ours[t - 1][k], p[k], rtol=1e-12, atol=1e-14)


# --- weight decay: L2, L1, AdamW ----------------------------------------------------------------

def test_adamw_zero_gradient_shrinks_masked_keys_only():
    lr, lam = 0.1, 0.3
    p0 = make_params()
    zero = {k: np.zeros_like(v) for k, v in p0.items()}
    opt = build_optimizer("adamw", lr, weight_decay=lam, mask={"W": True, "b": False})
    params, state = copy(p0), None
    for t in range(1, 4):
        params, state, _ = step(opt, params, zero, state)
        np.testing.assert_allclose(params["W"], p0["W"] * (1 - lr * lam) ** t, rtol=1e-14)
        np.testing.assert_array_equal(params["b"], p0["b"])


def test_adamw_default_mask_decays_everything():
    lr, lam = 0.1, 0.3
    p0 = make_params()
    zero = {k: np.zeros_like(v) for k, v in p0.items()}
    params, _, _ = step(build_optimizer("adamw", lr, weight_decay=lam), copy(p0), zero)
    for k in p0:
        np.testing.assert_allclose(params[k], p0[k] * (1 - lr * lam), rtol=1e-14)


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam", "rmsprop"])
def test_l2_equals_optimizer_on_penalised_gradient(name):
    lam = 0.2
    mask = {"W": True, "b": False}
    grad_fn = random_grads()

    def penalised(params, t):
        g = copy(grad_fn(params, t))
        g["W"] = g["W"] + lam * params["W"]
        return g

    ours = run(build_optimizer(name, LR, l2=lam, mask=mask), make_params(), grad_fn, 10)
    ref = run(build_optimizer(name, LR), make_params(), penalised, 10)
    plain = run(build_optimizer(name, LR), make_params(), grad_fn, 10)
    for a, b in zip(ours, ref):
        for k in a:
            np.testing.assert_allclose(a[k], b[k], rtol=1e-13, atol=1e-15)
    assert not np.allclose(ours[-1]["W"], plain[-1]["W"])


def test_l2_sgd_closed_form_on_masked_keys_only():
    lam = 0.2
    p0, g = make_params(), make_grads()
    p, _, _ = step(build_optimizer("sgd", LR, l2=lam, mask={"W": True}), copy(p0), g)
    np.testing.assert_allclose(p["W"], p0["W"] - LR * (g["W"] + lam * p0["W"]), rtol=1e-14)
    np.testing.assert_allclose(p["b"], p0["b"] - LR * g["b"], rtol=1e-15)


def test_l1_sgd_closed_form_on_masked_keys_only():
    lam = 0.2
    p0, g = make_params(), make_grads()
    p0["W"][0, 0] = 0.0                                    # sign(0) = 0
    p, _, _ = step(build_optimizer("sgd", LR, l1=lam, mask={"W": True}), copy(p0), g)
    np.testing.assert_allclose(p["W"], p0["W"] - LR * (g["W"] + lam * np.sign(p0["W"])),
                               rtol=1e-14)
    assert p["W"][0, 0] == -LR * g["W"][0, 0]
    np.testing.assert_allclose(p["b"], p0["b"] - LR * g["b"], rtol=1e-15)


def test_decay_order_matters_l2_vs_adamw():
    """Decay before Adam (L2, rescaled by Adam) vs after it (decoupled, AdamW)."""
    lr, lam = 0.01, 0.5
    grad_fn = random_grads()
    before = chain(add_decayed_weights(lam), scale_by_adam(), scale_by_learning_rate(lr))
    after = chain(scale_by_adam(), add_decayed_weights(lam), scale_by_learning_rate(lr))
    t_before = run(before, make_params(), grad_fn, 10)
    t_after = run(after, make_params(), grad_fn, 10)
    t_l2 = run(build_optimizer("adam", lr, l2=lam), make_params(), grad_fn, 10)
    t_adamw = run(build_optimizer("adamw", lr, weight_decay=lam), make_params(), grad_fn, 10)
    for k in ("W", "b"):
        np.testing.assert_allclose(t_before[-1][k], t_l2[-1][k], rtol=1e-14)
        np.testing.assert_allclose(t_after[-1][k], t_adamw[-1][k], rtol=1e-14)
        assert np.max(np.abs(t_before[-1][k] - t_after[-1][k])) > 1e-4


# --- minimising a quadratic ----------------------------------------------------------------------

QUAD_A = {"W": np.random.default_rng(9).uniform(0.5, 2.0, (5, 3)),
          "b": np.random.default_rng(10).uniform(0.5, 2.0, 3)}


def quad_loss(p):
    return sum(0.5 * float(np.sum(QUAD_A[k] * p[k] ** 2)) for k in p)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizers_minimise_a_quadratic(name):
    opt = build_optimizer(name, 0.05)
    params = make_params()
    start = quad_loss(params)
    traj = run(opt, params, lambda p, t: {k: QUAD_A[k] * p[k] for k in p}, 200)
    losses = [quad_loss(p) for p in traj]
    assert losses[-1] < 0.1 * start, (name, start, losses[-1])
    assert np.mean(losses[-20:]) < np.mean(losses[:20])


# --- hyperparameters ---------------------------------------------------------------------------

def test_hyperparameters_list_defaults():
    assert hyperparameters("sgd") == {"lr": 0.01}
    assert hyperparameters("momentum") == {"lr": 0.01, "momentum": 0.9}
    assert hyperparameters("nesterov") == {"lr": 0.01, "momentum": 0.9}
    assert hyperparameters("adagrad") == {"lr": 0.01, "eps": 1e-10}
    assert hyperparameters("rmsprop") == {"lr": 0.01, "alpha": 0.99, "eps": 1e-8}
    assert hyperparameters("adam") == {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
                                       "bias_correction": True}
    assert hyperparameters("adam_book")["eps"] == 1e-7
    assert hyperparameters("adamw") == {"lr": 0.001, "beta1": 0.9, "beta2": 0.999,
                                        "eps": 1e-8, "weight_decay": 0.01}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_hyperparameters_are_bounded_and_defaults_are_used(name):
    hp = hyperparameters(name)
    assert "lr" in hp and "mask" not in hp
    assert {f"optimizer.{k}" for k in hp} <= set(NAMED)      # each has a bound and meaning
    grad_fn = random_grads()
    explicit = run(build_optimizer(name, hp["lr"], **{k: v for k, v in hp.items() if k != "lr"}),
                   make_params(), grad_fn, 5)
    implicit = run(OPTIMIZERS[name](), make_params(), grad_fn, 5)
    for k in ("W", "b"):
        np.testing.assert_array_equal(explicit[-1][k], implicit[-1][k])


# --- flat groups vs per-name -----------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_flat_groups_equal_per_name(name):
    spec = ModelSpec(hidden=(6, 5), batchnorm=True)
    model = MLP(spec, 7, 4, np.random.default_rng(0), np.float64)
    rng = np.random.default_rng(1)
    model.flat_params[...] = rng.standard_normal(model.flat_params.size)
    start = model.flat_params.copy()
    name_mask = {k: k.startswith("W") for k in model.params}
    kw = dict(l2=0.01, l1=0.002)
    if name == "adamw":
        kw["weight_decay"] = 0.05
    per_name = copy(model.params)
    opt_names = build_optimizer(name, 0.01, mask=name_mask, **kw)
    s_names = opt_names.init(per_name)
    group_params, group_grads = model.groups()
    flat = copy(group_params)
    opt_flat = build_optimizer(name, 0.01, mask={"decay": True, "other": False}, **kw)
    s_flat = opt_flat.init(flat)
    for _ in range(5):
        model.flat_grads[...] = rng.standard_normal(model.flat_grads.size)
        u, s_names = opt_names.update(copy(model.grads), s_names, per_name)
        apply_updates(per_name, u)
        u, s_flat = opt_flat.update(copy(group_grads), s_flat, flat)
        apply_updates(flat, u)
    for k, v in per_name.items():                       # scatter into the flat layout
        model.params[k][...] = v
    assert not np.allclose(model.flat_params, start)
    np.testing.assert_allclose(model.flat_params,
                               np.concatenate([flat["decay"], flat["other"]]),
                               rtol=1e-14, atol=1e-16)


def test_in_place_on_model_groups_updates_model_params():
    spec = ModelSpec(hidden=(6,), batchnorm=False)
    model = MLP(spec, 7, 4, np.random.default_rng(0), np.float64)
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((10, 7)), rng.integers(0, 4, 10)
    params, grads = model.groups()
    opt = build_optimizer("sgd", 0.1)
    state = opt.init(params)
    before = {k: v.copy() for k, v in model.params.items()}
    model.loss(x, y)
    model.backward()
    g = {k: v.copy() for k, v in model.grads.items()}
    u, state = opt.update(copy(grads), state, params)
    apply_updates(params, u)
    for k in before:
        np.testing.assert_allclose(model.params[k], before[k] - 0.1 * g[k], rtol=1e-14)
