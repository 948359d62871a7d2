"""Each chapter-6 script of the book, transcribed, against dlexp's ``--book`` settings.

The references below are written from the book's algorithms in the book's statement
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

from dlexp.config import config_from_dict
from dlexp.data.splits import Splits
from dlexp.experiments.book import BOOK_OPTIMIZERS as SETTINGS, with_book
from dlexp.experiments.report import load_base
from dlexp.experiments.sweep import CompareOptions
from dlexp.train.setup import build_model, streams, train_model

N, D, SEED = 40, 12, 3
TOL = 1e-12


# --- the book's layers, statement by statement ------------------------------------------

class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.x = x
        return np.dot(x, self.W) + self.b

    def backward(self, dout):
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return dx


class Relu:
    def forward(self, x):
        self.mask = (x <= 0)
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout[self.mask] = 0
        return dout


class Sigmoid:
    def forward(self, x):
        self.out = 1 / (1 + np.exp(-x))
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out) * self.out


class Dropout:
    """The book's: mask = rand > ratio in training, x · (1 − ratio) at test. ``uniforms``
    hands it dlexp's draws u mirrored, 1 − u (as uniform), so both drop the same units."""

    def __init__(self, ratio, uniforms):
        self.ratio, self.uniforms = ratio, uniforms

    def forward(self, x, train_flg):
        if train_flg:
            self.mask = self.uniforms(x.shape) > self.ratio
            return x * self.mask
        return x * (1.0 - self.ratio)

    def backward(self, dout):
        return dout * self.mask


class BatchNormalization:
    """The book's, for 2-D input: running mean and variance start at 0 / 0 (created on
    the first forward), running = momentum · running + (1 − momentum) · batch, ε 10e-7."""

    def __init__(self, gamma, beta, momentum=0.9):
        self.gamma, self.beta, self.momentum = gamma, beta, momentum
        self.running_mean = self.running_var = None

    def forward(self, x, train_flg):
        if self.running_mean is None:
            self.running_mean = np.zeros(x.shape[1])
            self.running_var = np.zeros(x.shape[1])
        if train_flg:
            mu = x.mean(axis=0)
            xc = x - mu
            var = np.mean(xc**2, axis=0)
            std = np.sqrt(var + 10e-7)
            xn = xc / std
            self.batch_size, self.xc, self.xn, self.std = x.shape[0], xc, xn, std
            self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * mu
            self.running_var = self.momentum * self.running_var + (1 - self.momentum) * var
        else:
            xc = x - self.running_mean
            xn = xc / ((np.sqrt(self.running_var + 10e-7)))
        return self.gamma * xn + self.beta

    def backward(self, dout):
        self.dbeta = dout.sum(axis=0)
        self.dgamma = np.sum(self.xn * dout, axis=0)
        dxn = self.gamma * dout
        dxc = dxn / self.std
        dstd = -np.sum((dxn * self.xc) / (self.std * self.std), axis=0)
        dvar = 0.5 * dstd / self.std
        dxc += (2.0 / self.batch_size) * self.xc * dvar
        dmu = np.sum(dxc, axis=0)
        return dxc - dmu / self.batch_size


def softmax(x):
    x = x - np.max(x, axis=-1, keepdims=True)
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


def cross_entropy_error(y, t, delta=1e-7):
    """The book's, on label indices t; ``delta=0`` is the exact cross-entropy."""
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + delta)) / batch_size


class SoftmaxWithLoss:
    def forward(self, x, t):
        self.t, self.y = t, softmax(x)
        self.loss = cross_entropy_error(self.y, t)
        self.exact = cross_entropy_error(self.y, t, delta=0.0)
        return self.loss

    def backward(self, dout=1):
        dx = self.y.copy()
        dx[np.arange(self.t.shape[0]), self.t] -= 1
        return dx / self.t.shape[0]


class BookNet:
    """MultiLayerNet / MultiLayerNetExtend: Affine → [BatchNorm] → activation →
    [Dropout] per hidden layer, then Affine and SoftmaxWithLoss; the loss adds
    ½λΣ‖W‖² and each dW gets λW."""

    def __init__(self, params, n_hidden, activation="relu", use_batchnorm=False,
                 dropout_ratio=0.0, uniforms=None, weight_decay_lambda=0.0):
        self.params, self.lam = {k: v.copy() for k, v in params.items()}, weight_decay_lambda
        self.n, self.layers = n_hidden + 1, []
        p = self.params
        for i in range(1, self.n + 1):
            self.layers.append(Affine(p[f"W{i}"], p[f"b{i}"]))
            if i == self.n:
                break
            if use_batchnorm:
                self.layers.append(BatchNormalization(p[f"gamma{i}"], p[f"beta{i}"]))
            self.layers.append({"relu": Relu, "sigmoid": Sigmoid}[activation]())
            if dropout_ratio:
                self.layers.append(Dropout(dropout_ratio, uniforms))
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x, train_flg=False):
        for layer in self.layers:
            if isinstance(layer, (Dropout, BatchNormalization)):
                x = layer.forward(x, train_flg)
            else:
                x = layer.forward(x)
        return x

    def loss(self, x, t, train_flg=False):
        y = self.predict(x, train_flg)
        weight_decay = 0
        for idx in range(1, self.n + 1):
            W = self.params["W" + str(idx)]
            weight_decay += 0.5 * self.lam * np.sum(W ** 2)
        loss = self.last_layer.forward(y, t) + weight_decay
        self.exact = self.last_layer.exact + weight_decay
        self.p_min = self.last_layer.y[np.arange(len(t)), t].min()     # for the 1e-7 bound
        return loss

    def gradient(self, x, t):
        self.loss(x, t, train_flg=True)
        dout = self.last_layer.backward(1)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        grads, i = {}, 0
        for layer in self.layers:
            if isinstance(layer, Affine):
                i += 1
                grads[f"W{i}"] = layer.dW + self.lam * layer.W
                grads[f"b{i}"] = layer.db
            elif isinstance(layer, BatchNormalization):
                grads[f"gamma{i}"], grads[f"beta{i}"] = layer.dgamma, layer.dbeta
        return grads


# --- the book's optimisers: their update bodies ------------------------------------------

class SGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in params.keys():
            params[key] -= self.lr * grads[key]


class Momentum:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, None

    def update(self, params, grads):
        if self.v is None:
            self.v = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params.keys():
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]


class Nesterov:
    """The parameters move with the old velocity, then the velocity is updated."""

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, None

    def update(self, params, grads):
        if self.v is None:
            self.v = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params.keys():
            params[key] += self.momentum * self.momentum * self.v[key]
            params[key] -= (1 + self.momentum) * self.lr * grads[key]
            self.v[key] *= self.momentum
            self.v[key] -= self.lr * grads[key]


class AdaGrad:
    def __init__(self, lr=0.01):
        self.lr, self.h = lr, None

    def update(self, params, grads):
        if self.h is None:
            self.h = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params.keys():
            self.h[key] += grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class RMSprop:
    def __init__(self, lr=0.01, decay_rate=0.99):
        self.lr, self.decay_rate, self.h = lr, decay_rate, None

    def update(self, params, grads):
        if self.h is None:
            self.h = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params.keys():
            self.h[key] *= self.decay_rate
            self.h[key] += (1 - self.decay_rate) * grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class Adam:
    """ε 1e-7 added to √v before the bias correction, which sits in lr_t."""

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr, self.beta1, self.beta2, self.iter, self.m, self.v = lr, beta1, beta2, 0, None, None

    def update(self, params, grads):
        if self.m is None:
            self.m = {key: np.zeros_like(val) for key, val in params.items()}
            self.v = {key: np.zeros_like(val) for key, val in params.items()}
        self.iter += 1
        lr_t = self.lr * np.sqrt(1.0 - self.beta2**self.iter) / (1.0 - self.beta1**self.iter)
        for key in params.keys():
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key]**2 - self.v[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)


BOOK_OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "nesterov": Nesterov,
                   "adagrad": AdaGrad, "rmsprop": RMSprop, "adam": Adam}


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
