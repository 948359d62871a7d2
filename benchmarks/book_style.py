"""The baseline: a multilayer network written the straightforward way a textbook does.

Layer objects keep what their backward pass needs and return freshly allocated arrays;
parameters are float64 (inputs arrive as float32 and are upcast at every product);
targets are one-hot rows; the optimiser walks a dict of parameters. Nothing is
preallocated, fused or done in place beyond ``p -= …``. It follows the same conventions
as dlexp and PyTorch (batch-norm momentum 0.1, ε = 1e-5, unbiased running variance;
Adam with bias correction), so the three implementations train the same function.

    Affine:     y = x W + b;         dW = xᵀ dy,  db = Σ_n dy,  dx = dy Wᵀ
    ReLU:       y = max(x, 0);       dx = dy · [x > 0]
    BatchNorm:  y = γ x̂ + β;         dx = (γ/σ)(dy − mean dy − x̂ · mean(dy x̂))
    Softmax + cross-entropy on one-hot t:  L = −mean_n Σ_c t log(p + 1e-7),  dz = (p − t)/N
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b
        self.x = self.dW = self.db = None

    def forward(self, x, train_flg=True):
        self.x = x
        return np.dot(x, self.W) + self.b

    def backward(self, dout):
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return np.dot(dout, self.W.T)


class Relu:
    def __init__(self):
        self.mask = None

    def forward(self, x, train_flg=True):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout[self.mask] = 0
        return dout


class BatchNormalization:
    def __init__(self, gamma, beta, momentum=0.1, eps=1e-5):
        self.gamma, self.beta, self.momentum, self.eps = gamma, beta, momentum, eps
        self.running_mean = np.zeros_like(gamma)
        self.running_var = np.ones_like(gamma)
        self.xn = self.std = self.dgamma = self.dbeta = None

    def forward(self, x, train_flg=True):
        if train_flg:
            mu = x.mean(axis=0)
            xc = x - mu
            var = np.mean(xc ** 2, axis=0)
            std = np.sqrt(var + self.eps)
            xn = xc / std
            self.xn, self.std = xn, std
            n = x.shape[0]
            self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * mu
            self.running_var = ((1 - self.momentum) * self.running_var
                                + self.momentum * var * n / (n - 1))
        else:
            xn = (x - self.running_mean) / np.sqrt(self.running_var + self.eps)
        return self.gamma * xn + self.beta

    def backward(self, dout):
        self.dbeta = dout.sum(axis=0)
        self.dgamma = np.sum(self.xn * dout, axis=0)
        dxn = self.gamma * dout
        return (dxn - dxn.mean(axis=0) - self.xn * np.mean(dxn * self.xn, axis=0)) / self.std


class SoftmaxWithLoss:
    def __init__(self):
        self.y = self.t = None

    def forward(self, x, t):
        self.t = t
        x = x - np.max(x, axis=1, keepdims=True)
        e = np.exp(x)
        self.y = e / np.sum(e, axis=1, keepdims=True)
        return -np.sum(t * np.log(self.y + 1e-7)) / x.shape[0]

    def backward(self, dout=1):
        return (self.y - self.t) / self.t.shape[0] * dout


class MultiLayerNet:
    """Affine → [BatchNorm] → ReLU per hidden layer, then Affine → softmax loss."""

    def __init__(self, weights: dict[str, np.ndarray], n_layers: int, batchnorm: bool,
                 weight_decay: float = 0.0):
        self.params = {k: np.array(v, dtype=np.float64) for k, v in weights.items()}
        self.n_layers, self.batchnorm, self.weight_decay = n_layers, batchnorm, weight_decay
        self.layers = OrderedDict()
        for i in range(1, n_layers + 1):
            self.layers[f"Affine{i}"] = Affine(self.params[f"W{i}"], self.params[f"b{i}"])
            if i == n_layers:
                break
            if batchnorm:
                self.layers[f"BatchNorm{i}"] = BatchNormalization(
                    self.params[f"gamma{i}"], self.params[f"beta{i}"])
            self.layers[f"Relu{i}"] = Relu()
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x, train_flg=False):
        for layer in self.layers.values():
            x = layer.forward(x, train_flg)
        return x

    def loss(self, x, t, train_flg=True):
        self.scores = self.predict(x, train_flg)
        decay = 0.0
        for i in range(1, self.n_layers + 1):
            W = self.params[f"W{i}"]
            decay += 0.5 * self.weight_decay * np.sum(W ** 2)
        return self.last_layer.forward(self.scores, t) + decay

    def accuracy(self, x, t):
        y = np.argmax(self.predict(x, False), axis=1)
        return np.sum(y == np.argmax(t, axis=1)) / float(x.shape[0])

    def gradient(self, x, t):
        loss = self.loss(x, t, True)
        dout = self.last_layer.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        grads = {}
        for i in range(1, self.n_layers + 1):
            layer = self.layers[f"Affine{i}"]
            grads[f"W{i}"] = layer.dW + self.weight_decay * layer.W
            grads[f"b{i}"] = layer.db
            if self.batchnorm and i < self.n_layers:
                grads[f"gamma{i}"] = self.layers[f"BatchNorm{i}"].dgamma
                grads[f"beta{i}"] = self.layers[f"BatchNorm{i}"].dbeta
        return grads, loss


class SGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in params:
            params[key] -= self.lr * grads[key]


class Adam:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.iter, self.m, self.v = 0, None, None

    def update(self, params, grads):
        if self.m is None:
            self.m = {k: np.zeros_like(v) for k, v in params.items()}
            self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.iter += 1
        bc1, bc2 = 1 - self.beta1 ** self.iter, 1 - self.beta2 ** self.iter
        for key in params:
            self.m[key] = self.beta1 * self.m[key] + (1 - self.beta1) * grads[key]
            self.v[key] = self.beta2 * self.v[key] + (1 - self.beta2) * grads[key] ** 2
            m_hat, v_hat = self.m[key] / bc1, self.v[key] / bc2
            params[key] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


def one_hot(labels: np.ndarray, classes: int = 10) -> np.ndarray:
    """(N,) integer labels → (N, classes) float64 rows with a single 1."""
    t = np.zeros((labels.size, classes))
    t[np.arange(labels.size), labels] = 1
    return t
