"""Each chapter-6 script of the book, transcribed, against dlexp's ``--book`` settings.

The references (tests/book_code.py) are written from the book's algorithms in the book's statement
order: its layers (Affine, ReLU, Sigmoid, BatchNormalization, Dropout, SoftmaxWithLoss),
its optimisers' ``update`` bodies, its networks' weight-decay gradient and each script's
loop (``np.random.choice`` batch, gradient, update, then ``loss`` for the record). They
get the same initial weights and the same random numbers as dlexp and must agree with
it to 1e-12 in float64: parameters, recorded losses and inference outputs.

One difference is the book's and stays: its ``cross_entropy_error`` takes
log(p + 1e-7), dlexp the exact log p; the references compute both, dlexp matches the
exact one and the book's differs from it by less than 1e-7 / min p (docs/book.md).
"""

from __future__ import annotations

import numpy as np
import pytest

from dlexp.book import BOOK_OPTIMIZERS as SETTINGS, with_book
from dlexp.config import config_from_dict
from dlexp.data.splits import Splits
from dlexp.experiments.report import load_base
from dlexp.experiments.sweep import CompareOptions
from dlexp.train.runner import build_model, streams, train_model
from tests.book_code import SGD, BOOK_OPTIMIZERS, BatchNormalization, BookNet

N, D, SEED = 40, 12, 3
TOL = 1e-12


# --- a script's loop, and dlexp's --book run beside it ------------------------------------

def tiny_data() -> Splits:
    rng = np.random.default_rng(11)
    x, y = rng.random((N, D)), rng.integers(0, 10, N)
    return Splits(x, y, x[:0], y[:0], x[:5], y[:5])


def book_config(preset: str, config: str, sets: list[str], **length):
    raw = load_base(None, config, with_book(preset, ["dtype=float64", "seed=3", *sets], True),
                    CompareOptions(**length))
    return config_from_dict(raw)


def run_both(cfg, data, optimizer, net_options, steps):
    """dlexp's training of ``cfg`` and the script's loop from the same start and random
    numbers: (dlexp model, dlexp state, reference net, reference losses)."""
    start = build_model(cfg, data.x_train.shape[1], 10, streams(cfg.seed)).state()  # init stream
    model, state = train_model(cfg, data, streams(cfg.seed))
    s = streams(cfg.seed)
    n_hidden = len(cfg.model.hidden)
    net = BookNet({k: v for k, v in start.items() if not k.startswith("running")}, n_hidden,
                  uniforms=lambda shape: 1.0 - s.dropout.random(shape), **net_options)
    losses, exact, bounds = [], [], []
    for _ in range(steps):
        batch_mask = s.order.integers(0, N, cfg.training.batch_size)   # np.random.choice
        x_batch, t_batch = data.x_train[batch_mask], data.y_train[batch_mask]
        grads = net.gradient(x_batch, t_batch)
        optimizer.update(net.params, grads)
        losses.append(net.loss(x_batch, t_batch))
        exact.append(net.exact)
        bounds.append(1e-7 / net.p_min)
    assert state.step == steps and state.status == "completed"
    for key, value in net.params.items():
        np.testing.assert_allclose(model.params[key], value, rtol=TOL, atol=TOL, err_msg=key)
    np.testing.assert_allclose(state.step_losses, exact, rtol=TOL, atol=TOL)
    shift = np.subtract(state.step_losses, losses)        # log p vs log(p + 1e-7)
    assert np.all(shift >= 0) and np.all(shift <= np.array(bounds) * (1 + 1e-9))
    np.testing.assert_allclose(model.forward(data.x_train, training=False),
                               net.predict(data.x_train, train_flg=False),
                               rtol=TOL, atol=TOL)
    return model, net


@pytest.mark.parametrize("name", sorted(BOOK_OPTIMIZERS))
def test_optimizer_compare_mnist(name):
    """ch06/optimizer_compare_mnist.py: each optimiser (the script's four, and the
    book's Nesterov and RMSprop) as its class, He init, 4 ReLU layers, loss after update."""
    own = {"name": name, **SETTINGS.get(name, {})}       # the preset's per-optimiser --book
    cfg = book_config("compare-optimizers", "compare-optimizers",
                      ["model.hidden=[7,6,5,4]", "training.batch_size=8",
                       *[f"optimizer.{k}={v}" for k, v in own.items()]], iterations=12)
    assert cfg.training.iterations == 12 and cfg.data.val_size == 0
    run_both(cfg, tiny_data(), BOOK_OPTIMIZERS[name](), {}, 12)


@pytest.mark.parametrize("init, activation", [("normal", "relu"), ("lecun_normal", "relu"),
                                              ("he_normal", "relu"),
                                              ("lecun_normal", "sigmoid")])
def test_weight_init_compare(init, activation):
    """ch06/weight_init_compare.py: std 0.01, 'Xavier' √(1/n), He √(2/n), SGD lr 0.01
    (and the Sigmoid layer, with 'Xavier')."""
    cfg = book_config("compare-inits", "compare-inits",
                      [f"model.initializer={init}", f"model.activation={activation}",
                       "model.hidden=[7,6,5,4]", "training.batch_size=8",
                       "optimizer.lr=0.5"], iterations=10)
    start = build_model(cfg, D, 10, streams(cfg.seed)).params
    rng = streams(cfg.seed).init                          # the same normal draws, scaled
    sizes = [D, 7, 6, 5, 4, 10]
    for idx in range(1, len(sizes)):
        scale = {"normal": 0.01, "lecun_normal": np.sqrt(1.0 / sizes[idx - 1]),
                 "he_normal": np.sqrt(2.0 / sizes[idx - 1])}[init]
        W = scale * rng.standard_normal((sizes[idx - 1], sizes[idx]))    # scale * randn
        np.testing.assert_allclose(start[f"W{idx}"], W, rtol=TOL, atol=TOL)
    run_both(cfg, tiny_data(), SGD(0.5), {"activation": activation}, 10)


@pytest.mark.parametrize("w", [1.0, 0.05, 0.001])
def test_batch_norm_test(w):
    """ch06/batch_norm_test.py: weights N(0, w²), batch norm as the book's class
    (running statistics from 0/0, momentum 0.9, biased variance), SGD; inference after
    training reads the running statistics."""
    cfg = book_config("batchnorm", "batchnorm",
                      ["model.batchnorm=true", f"model.init_std={w}", "model.hidden=[7,6,5]",
                       "training.batch_size=10", "optimizer.lr=0.1"], iterations=6)
    model, net = run_both(cfg, tiny_data(), SGD(0.1), {"use_batchnorm": True}, 6)
    bns = [layer for layer in net.layers if isinstance(layer, BatchNormalization)]
    for ours, book in zip(model.batchnorms, bns):
        np.testing.assert_allclose(ours.running_var, book.running_var, rtol=TOL, atol=TOL)


def test_overfit_weight_decay():
    """ch06/overfit_weight_decay.py: λ 0.1, six ReLU layers, SGD lr 0.01 (here 0.3, to move)."""
    cfg = book_config("overfit-weight-decay", "overfit",
                      ["regularization.l2=0.1", "model.hidden=[6,6,6,6,6,6]",
                       "training.batch_size=10", "optimizer.lr=0.3", "data.val_size=0",
                       "data.train_size=null"], iterations=15)
    run_both(cfg, tiny_data(), SGD(0.3), {"weight_decay_lambda": 0.1}, 15)


def test_overfit_dropout():
    """ch06/overfit_dropout.py: dropout 0.2, the book's non-inverted Dropout."""
    cfg = book_config("overfit-dropout", "overfit",
                      ["model.dropout=0.2", "model.hidden=[6,6,6,6,6,6]",
                       "training.batch_size=10", "optimizer.lr=0.3", "data.val_size=0",
                       "data.train_size=null"], epochs=3)
    assert cfg.model.dropout_mode == "book"
    run_both(cfg, tiny_data(), SGD(0.3), {"dropout_ratio": 0.2}, 12)


def test_hyperparameter_optimization():
    """ch06/hyperparameter_optimization.py: the overfitting network with weight decay
    10^U(−8,−4) and lr 10^U(−6,−2), here one draw scaled up to move; each trial starts
    from fresh weights (its own streams, see test_book_setups)."""
    cfg = book_config("search", "search",
                      ["regularization.l2=0.001", "model.hidden=[6,6,6,6,6,6]",
                       "training.batch_size=10", "optimizer.lr=0.2", "data.val_size=0",
                       "data.train_size=null"], epochs=2)
    assert cfg.trial_init == "per_trial" and cfg.data.stratify is False
    run_both(cfg, tiny_data(), SGD(0.2), {"weight_decay_lambda": 0.001}, 8)
