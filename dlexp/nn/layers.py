"""Layers with ``forward(x, training)`` and ``backward(dout)``, in the book's names.

Each layer computes what the book's does; only where results go differs. Reused buffers:
:meth:`Layer.buffer` hands a layer the array it wrote at its last call with that name and
shape, and the layer writes into it (``out=``) instead of allocating one each step. So an
output is valid until the layer's next call, and ``backward`` may write over ``dout``.
W, b (γ, β) and dW, db are views into the model's flat arrays (:mod:`dlexp.nn.model`).
"""

from __future__ import annotations

import numpy as np


class Layer:
    """Base class: the reused-buffer mechanism of the module docstring."""

    def buffer(self, name: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """The array this layer keeps for ``name`` at ``shape`` (made on first use)."""
        buffers = self.__dict__.setdefault("_buffers", {})
        key = (name, shape, dtype)
        out = buffers.get(key)
        if out is None:
            out = buffers[key] = np.empty(shape, dtype=dtype)
        return out


class Affine(Layer):
    """y = x·W + b.    x (N, D_in), W (D_in, D_out), b (D_out,), y (N, D_out).

    Backward:  dx = dout·Wᵀ,  dW = xᵀ·dout,  db = Σ_n dout.
    ``need_dx=False`` skips dx (the input layer: nobody uses the gradient of the images).
    """

    def __init__(self, W: np.ndarray, b: np.ndarray, dW: np.ndarray, db: np.ndarray,
                 need_dx: bool = True) -> None:
        self.W, self.b, self.dW, self.db = W, b, dW, db
        self.need_dx = need_dx
        self.x: np.ndarray | None = None

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        self.x = x
        out = self.buffer("out", (x.shape[0], self.W.shape[1]), self.W.dtype)
        np.matmul(x, self.W, out=out)
        out += self.b
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        dx = None
        if self.need_dx:
            dx = np.matmul(dout, self.W.T, out=self.buffer("dx", self.x.shape, dout.dtype))
        np.matmul(self.x.T, dout, out=self.dW)
        dout.sum(axis=0, out=self.db)
        return dx


class ReLU(Layer):
    """y = max(0, x);   dx = dout · [x > 0]."""

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        self.mask = np.greater(x, 0, out=self.buffer("mask", x.shape, np.bool_))
        return np.maximum(x, 0, out=self.buffer("out", x.shape, x.dtype))

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return np.multiply(dout, self.mask, out=dout)


class Sigmoid(Layer):
    """y = 1 / (1 + exp(−x)) = (1 + tanh(x/2)) / 2 (never overflows);  dx = dout · y (1 − y)."""

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        out = np.multiply(x, 0.5, out=self.buffer("out", x.shape, x.dtype))
        np.tanh(out, out=out)
        out += 1.0
        out *= 0.5
        self.out = out
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dout *= self.out
        dout *= 1.0 - self.out
        return dout


class Tanh(Layer):
    """y = tanh(x);   dx = dout · (1 − y²)."""

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        self.out = np.tanh(x, out=self.buffer("out", x.shape, x.dtype))
        return self.out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dout *= 1.0 - self.out * self.out
        return dout


DROPOUT_MODES = {"inverted": "scale by 1/(1-p) in training", "book": "scale by (1-p) at test"}


class Dropout(Layer):
    """Drops each unit with probability ``p`` in training: y = x · mask,  dx = dout · mask.

    ``inverted`` (the standard, the default): mask = [u < 1 − p] / (1 − p), u ~ U[0, 1),
    and y = x at test, so the expected activation is the same in both.
    ``book`` (the book's convention): mask = [u < 1 − p] in training, y = x · (1 − p) at test.
    """

    def __init__(self, p: float, rng: np.random.Generator, mode: str = "inverted") -> None:
        if mode not in DROPOUT_MODES:
            raise ValueError(f"unknown dropout mode {mode!r}; choose from {sorted(DROPOUT_MODES)}")
        self.p, self.rng, self.mode = float(p), rng, mode

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        out = self.buffer("out", x.shape, x.dtype)
        if not training:
            return np.multiply(x, 1.0 - self.p if self.mode == "book" else 1.0, out=out)
        mask = self.rng.random(out=self.buffer("mask", x.shape, x.dtype), dtype=x.dtype)
        np.less(mask, 1.0 - self.p, out=mask, casting="unsafe")        # 1.0 or 0.0
        if self.mode == "inverted":
            mask *= 1.0 / (1.0 - self.p)
        self.mask = mask
        return np.multiply(x, mask, out=out)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dout *= self.mask
        return dout


ACTIVATIONS = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh}
