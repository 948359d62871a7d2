"""PyTorch as an oracle for the NumPy engine (float64): network loss and gradients,
every optimiser's trajectory (with weight decay and schedules), batch norm, dropout.

Skipped when torch is not installed.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from dlexp.nn.batchnorm import BatchNorm  # noqa: E402
from dlexp.nn.layers import Dropout  # noqa: E402
from dlexp.nn.model import MLP, ModelSpec  # noqa: E402
from dlexp.optim import OPTIMIZERS, apply_updates, build_optimizer, make_schedule  # noqa: E402
from tests.book_code import Adam, Nesterov  # noqa: E402

RTOL, ATOL = 1e-9, 1e-12


@pytest.fixture(autouse=True)
def float64_torch():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def t64(a) -> "torch.Tensor":
    return torch.tensor(np.asarray(a), dtype=torch.float64)


def close(ours, theirs, rtol=RTOL, atol=ATOL, msg=""):
    if isinstance(theirs, torch.Tensor):
        theirs = theirs.detach().numpy()
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol, err_msg=msg)


# --- (a) the whole network ------------------------------------------------------------------

ACT = {"relu": lambda: torch.nn.ReLU(), "sigmoid": lambda: torch.nn.Sigmoid(),
       "tanh": lambda: torch.nn.Tanh()}


def build_pair(activation: str, batchnorm: bool, seed: int = 0):
    spec = ModelSpec(hidden=(100, 100), activation=activation, batchnorm=batchnorm)
    model = MLP(spec, 784, 10, np.random.default_rng(seed), np.float64)
    rng = np.random.default_rng(seed + 1)
    for name, p in model.params.items():              # non-trivial biases, γ, β
        if name.startswith(("b", "beta")):
            p[...] = 0.1 * rng.standard_normal(p.shape)
        elif name.startswith("gamma"):
            p[...] = rng.uniform(0.5, 1.5, p.shape)
    modules, linears, bns = [], [], []
    n_layers = len(spec.hidden) + 1
    for i in range(1, n_layers + 1):
        W, b = model.params[f"W{i}"], model.params[f"b{i}"]
        lin = torch.nn.Linear(*W.shape)
        with torch.no_grad():
            lin.weight.copy_(t64(W.T))                 # ours (in, out), torch (out, in)
            lin.bias.copy_(t64(b))
        modules.append(lin)
        linears.append(lin)
        if i == n_layers:
            break
        if batchnorm:
            bn = torch.nn.BatchNorm1d(W.shape[1], momentum=spec.bn_momentum, eps=spec.bn_eps)
            with torch.no_grad():
                bn.weight.copy_(t64(model.params[f"gamma{i}"]))
                bn.bias.copy_(t64(model.params[f"beta{i}"]))
            modules.append(bn)
            bns.append(bn)
        modules.append(ACT[activation]())
    return model, torch.nn.Sequential(*modules), linears, bns


@pytest.mark.parametrize("batchnorm", [False, True], ids=["plain", "bn"])
@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_mlp_loss_and_gradients_match_torch(activation, batchnorm):
    model, net, linears, bns = build_pair(activation, batchnorm)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((32, 784))
    y = rng.integers(0, 10, 32)
    loss = model.loss(x, y, training=True)
    model.backward()
    net.train()
    out = net(t64(x))
    t_loss = torch.nn.functional.cross_entropy(out, torch.tensor(y))
    t_loss.backward()
    assert loss == pytest.approx(t_loss.item(), rel=RTOL, abs=ATOL)
    close(model.logits, out)
    for i, lin in enumerate(linears, 1):
        close(model.grads[f"W{i}"], lin.weight.grad.T, msg=f"W{i}")
        close(model.grads[f"b{i}"], lin.bias.grad, msg=f"b{i}")
    for i, bn in enumerate(bns, 1):
        close(model.grads[f"gamma{i}"], bn.weight.grad, msg=f"gamma{i}")
        close(model.grads[f"beta{i}"], bn.bias.grad, msg=f"beta{i}")
        close(model.batchnorms[i - 1].running_mean, bn.running_mean, msg=f"running_mean{i}")
        close(model.batchnorms[i - 1].running_var, bn.running_var, msg=f"running_var{i}")
    # inference mode (running statistics for batch norm)
    x_test = rng.standard_normal((5, 784))
    net.eval()
    with torch.no_grad():
        close(model.forward(x_test, training=False), net(t64(x_test)), msg="eval logits")
    eval_loss, _ = model.evaluate(x_test, y[:5])
    with torch.no_grad():
        t_eval = torch.nn.functional.cross_entropy(net(t64(x_test)), torch.tensor(y[:5]))
    assert eval_loss == pytest.approx(t_eval.item(), rel=RTOL)


# --- (b) optimisers ------------------------------------------------------------------------------

SHAPES = {"W": (5, 3), "b": (3,)}
_rng = np.random.default_rng(11)
QA = {k: t64(_rng.uniform(0.2, 2.0, s)) for k, s in SHAPES.items()}
QB = {k: t64(_rng.standard_normal(s)) for k, s in SHAPES.items()}
QC = {k: t64(_rng.standard_normal(s)) for k, s in SHAPES.items()}
STEPS, LR, K, GAMMA = 50, 0.03, 7, 0.6


def objective(p: dict) -> "torch.Tensor":
    """A curved, non-separable-in-scale loss: Σ A p² + Σ B p + Σ C sin(3p) + (Σ W)²/10."""
    return (sum((QA[k] * p[k] ** 2).sum() + (QB[k] * p[k]).sum()
                + (QC[k] * torch.sin(3 * p[k])).sum() for k in p)
            + p["W"].sum() ** 2 / 10)


def initial_params():
    rng = np.random.default_rng(12)
    return {k: rng.standard_normal(s) for k, s in SHAPES.items()}


def numpy_grad(params: dict) -> dict:
    tp = {k: t64(v).requires_grad_(True) for k, v in params.items()}
    objective(tp).backward()
    return {k: tp[k].grad.numpy().copy() for k in params}


def run_ours(opt, steps=STEPS):
    params = initial_params()
    state = opt.init(params)
    traj = []
    for _ in range(steps):
        updates, state = opt.update(numpy_grad(params), state, params)
        apply_updates(params, updates)
        traj.append({k: v.copy() for k, v in params.items()})
    return traj


def run_torch(make_opt, make_sched=None, steps=STEPS):
    tp = {k: torch.nn.Parameter(t64(v)) for k, v in initial_params().items()}
    opt = make_opt(list(tp.values()))
    sched = make_sched(opt) if make_sched else None
    traj = []
    for _ in range(steps):
        opt.zero_grad()
        objective(tp).backward()
        opt.step()
        if sched is not None:
            sched.step()
        traj.append({k: v.detach().numpy().copy() for k, v in tp.items()})
    return traj


def torch_optimizer(name: str, lr, l2: float = 0.0, weight_decay: float = 0.01):
    O = torch.optim
    return {
        "sgd": lambda ps: O.SGD(ps, lr=lr, weight_decay=l2),
        "momentum": lambda ps: O.SGD(ps, lr=lr, momentum=0.9, weight_decay=l2),
        "nesterov": lambda ps: O.SGD(ps, lr=lr, momentum=0.9, nesterov=True, weight_decay=l2),
        "adagrad": lambda ps: O.Adagrad(ps, lr=lr, eps=1e-10, initial_accumulator_value=0.0,
                                        weight_decay=l2),
        "rmsprop": lambda ps: O.RMSprop(ps, lr=lr, alpha=0.99, eps=1e-8, weight_decay=l2),
        "adam": lambda ps: O.Adam(ps, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=l2),
        "adamw": lambda ps: O.AdamW(ps, lr=lr, betas=(0.9, 0.999), eps=1e-8,
                                    weight_decay=weight_decay),
    }[name]


TORCH_MAPPED = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"]
BOOK = ["adam_book"]
ALL_MASK = {k: True for k in SHAPES}


def test_every_optimizer_has_an_oracle():
    assert set(TORCH_MAPPED) | set(BOOK) == set(OPTIMIZERS)


def assert_same_trajectory(ours, theirs, rtol=1e-10, atol=1e-10):
    assert len(ours) == len(theirs) == STEPS
    start = initial_params()
    assert not np.allclose(ours[-1]["W"], start["W"])          # it moved
    for t, (a, b) in enumerate(zip(ours, theirs)):
        for k in a:
            np.testing.assert_allclose(a[k], b[k], rtol=rtol, atol=atol,
                                       err_msg=f"step {t + 1}, {k}")


@pytest.mark.parametrize("l2", [0.0, 0.1], ids=["no_decay", "l2"])
@pytest.mark.parametrize("name", TORCH_MAPPED)
def test_optimizer_trajectory_matches_torch(name, l2):
    if name == "adamw":
        # AdamW's own decoupled decay; l2 chooses its strength (0 means Adam's update)
        wd = l2 if l2 else 0.0
        ours = run_ours(build_optimizer("adamw", LR, weight_decay=wd, mask=ALL_MASK))
        theirs = run_torch(torch_optimizer("adamw", LR, weight_decay=wd))
    else:
        ours = run_ours(build_optimizer(name, LR, l2=l2, mask=ALL_MASK))
        theirs = run_torch(torch_optimizer(name, LR, l2=l2))
    assert_same_trajectory(ours, theirs)


def test_adamw_default_decay_matches_torch_default():
    ours = run_ours(build_optimizer("adamw", LR))
    theirs = run_torch(lambda ps: torch.optim.AdamW(ps, lr=LR))
    assert_same_trajectory(ours, theirs)


def test_adam_l2_differs_from_adamw_like_torch():
    l2 = run_ours(build_optimizer("adam", LR, l2=0.1))
    decoupled = run_ours(build_optimizer("adamw", LR, weight_decay=0.1))
    assert np.max(np.abs(l2[-1]["W"] - decoupled[-1]["W"])) > 1e-4


@pytest.mark.parametrize("l2", [0.0, 0.1], ids=["no_decay", "l2"])
@pytest.mark.parametrize("name", TORCH_MAPPED)
def test_step_schedule_matches_torch_steplr(name, l2):
    sched = make_schedule("step", LR, steps_per_epoch=K, every=1, gamma=GAMMA)
    steplr = lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=K, gamma=GAMMA)  # noqa
    if name == "adamw":
        ours = run_ours(build_optimizer("adamw", sched, weight_decay=l2, mask=ALL_MASK))
        theirs = run_torch(torch_optimizer("adamw", LR, weight_decay=l2), steplr)
    else:
        ours = run_ours(build_optimizer(name, sched, l2=l2, mask=ALL_MASK))
        theirs = run_torch(torch_optimizer(name, LR, l2=l2), steplr)
    assert_same_trajectory(ours, theirs)


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam"])
def test_cosine_schedule_matches_torch(name):
    min_lr = 0.002
    sched = make_schedule("cosine", LR, steps_per_epoch=K, total_steps=STEPS, min_lr=min_lr)
    cos = lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(  # noqa: E731
        opt, T_max=STEPS, eta_min=min_lr)
    ours = run_ours(build_optimizer(name, sched))
    theirs = run_torch(torch_optimizer(name, LR), cos)
    assert_same_trajectory(ours, theirs)


# the book's rules, written out as the book's code does them (weight decay added to grads)

def book_reference(optimizer, l2=0.0):
    """The trajectory of the book's optimiser class (tests/book_code.py) with the book's
    weight decay: λp added to each gradient."""
    params, traj = initial_params(), []
    for _ in range(STEPS):
        grads = numpy_grad(params)
        optimizer.update(params, {k: grads[k] + l2 * params[k] for k in params})
        traj.append({k: p.copy() for k, p in params.items()})
    return traj


@pytest.mark.parametrize("l2", [0.0, 0.1], ids=["no_decay", "l2"])
def test_nesterov_matches_books_rule_and_torch(l2):
    ours = run_ours(build_optimizer("nesterov", LR, l2=l2, mask=ALL_MASK))
    assert_same_trajectory(ours, book_reference(Nesterov(LR), l2=l2))
    assert_same_trajectory(ours, run_torch(torch_optimizer("nesterov", LR, l2=l2)))


@pytest.mark.parametrize("l2", [0.0, 0.1], ids=["no_decay", "l2"])
def test_adam_book_matches_books_rule(l2):
    ours = run_ours(build_optimizer("adam_book", LR, l2=l2, mask=ALL_MASK))
    assert_same_trajectory(ours, book_reference(Adam(LR), l2=l2))


# --- (c) batch norm --------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [4, 32])
def test_batchnorm_matches_torch(n):
    rng = np.random.default_rng(21)
    d = 6
    gamma, beta = rng.uniform(0.5, 2.0, d), rng.standard_normal(d)
    ours = BatchNorm(gamma.copy(), beta.copy(), np.zeros(d), np.zeros(d), momentum=0.1, eps=1e-5)
    theirs = torch.nn.BatchNorm1d(d, momentum=0.1, eps=1e-5)
    with torch.no_grad():
        theirs.weight.copy_(t64(gamma))
        theirs.bias.copy_(t64(beta))
    theirs.train()
    for step in range(3):
        x = rng.standard_normal((n, d)) * rng.uniform(0.5, 4, d) + 3 * rng.standard_normal(d)
        R = rng.standard_normal((n, d))
        y = ours.forward(x, True).copy()
        dx = ours.backward(R.copy()).copy()
        tx = t64(x).requires_grad_(True)
        theirs.zero_grad()
        ty = theirs(tx)
        (ty * t64(R)).sum().backward()
        close(y, ty, msg=f"forward {step}")
        close(dx, tx.grad, msg=f"dx {step}")
        close(ours.dgamma, theirs.weight.grad, msg=f"dgamma {step}")
        close(ours.dbeta, theirs.bias.grad, msg=f"dbeta {step}")
        close(ours.running_mean, theirs.running_mean, msg=f"running_mean {step}")
        close(ours.running_var, theirs.running_var, msg=f"running_var {step}")
    theirs.eval()
    x = rng.standard_normal((5, d))
    with torch.no_grad():
        close(ours.forward(x, False), theirs(t64(x)), msg="eval forward")


# --- (d) inverted dropout ----------------------------------------------------------------------------

@pytest.mark.parametrize("p", [0.2, 0.5])
def test_inverted_dropout_rule_matches_torch_formula(p):
    rng = np.random.default_rng(31)
    layer = Dropout(p, np.random.default_rng(5), "inverted")
    shape = (200, 50)
    # recover the mask from a forward pass on ones, with the same rng state
    layer.rng = np.random.default_rng(5)
    y_ones = layer.forward(np.ones(shape), True).copy()
    mask = y_ones != 0
    assert 0 < mask.mean() < 1
    x = rng.standard_normal(shape)
    R = rng.standard_normal(shape)
    layer.rng = np.random.default_rng(5)
    y = layer.forward(x, True).copy()
    dx = layer.backward(R.copy()).copy()
    tx = t64(x).requires_grad_(True)
    tmask = torch.tensor(mask)
    ty = tx * tmask / (1 - p)
    (ty * t64(R)).sum().backward()
    close(y, ty, rtol=1e-15, atol=0)
    close(dx, tx.grad, rtol=1e-15, atol=0)
    # torch's own dropout, given the same mask through its scaling rule
    ones = torch.ones(shape)
    t_scale = torch.nn.functional.dropout(ones, p=p, training=True)
    kept_value = t_scale[t_scale != 0].unique()
    close(np.unique(y_ones[mask]), kept_value, rtol=1e-15)
    # torch and we are both the identity in evaluation
    close(layer.forward(x, False), torch.nn.functional.dropout(t64(x), p=p, training=False),
          rtol=0, atol=0)
