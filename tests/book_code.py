"""The book's chapter-6 code, transcribed in its statement order (common/layers.py,
common/optimizer.py, the multi-layer nets): the references that the fidelity, layer and
oracle tests hold dlexp's book settings against. Test helpers, not tests."""

from __future__ import annotations

import numpy as np


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
