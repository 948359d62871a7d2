"""Layers with ``forward(x, training)`` and ``backward(dout)``.

Each layer owns its output buffers and reuses them from step to step (one set per
batch shape), so training allocates almost nothing. An output is therefore valid only until the layer's next ``forward``;
copy it to keep it. ``backward`` may overwrite the ``dout`` it is given. Parameters and
their gradients are views handed in by the model (see :mod:`dlexp.nn.model`), so the
optimiser can update them all at once.

Speed notes (batch 100 × 100 units, where NumPy's per-call cost rivals the arithmetic):
column sums Σ_n are written as ``1ᵀ · dy`` (one BLAS matrix-vector product, several
times faster than ``sum(axis=0)``), and ``dy Wᵀ`` is taken against a contiguous copy
of Wᵀ, which OpenBLAS multiplies faster than the transposed view. Affine and ReLU look
their buffers up once per batch shape (``_resize``), not on every call.
"""

from __future__ import annotations

import math

import numpy as np



class Buffers:
    """Reusable arrays keyed by a tag and a shape: ``get("y", (N, D))`` → (N, D) array."""

    def __init__(self, dtype: np.dtype) -> None:
        self.dtype = np.dtype(dtype)
        self._arrays: dict[tuple, np.ndarray] = {}

    def get(self, tag: str, shape: tuple[int, ...], dtype: np.dtype | None = None) -> np.ndarray:
        key = (tag, shape)
        arr = self._arrays.get(key)
        if arr is None:
            arr = self._arrays[key] = np.empty(shape, dtype=dtype or self.dtype)
        return arr

    def filled(self, tag: str, shape: tuple[int, ...], value: float) -> np.ndarray:
        """A constant array (ones for column sums, zeros for ReLU); never write into it."""
        key = (tag, shape)
        arr = self._arrays.get(key)
        if arr is None:
            arr = self._arrays[key] = np.full(shape, value, dtype=self.dtype)
        return arr


def column_sum(dy: np.ndarray, ones: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out = Σ_n dy[n] = 1ᵀ dy for dy (N, D), ones (N,), out (D,): one BLAS call
    (``sum(axis=0)`` when ``np.dot`` refuses ``out``: not contiguous, or of another
    dtype than the product)."""
    try:
        return np.dot(ones, dy, out=out)
    except ValueError:
        return np.sum(dy, axis=0, out=out)


class Affine:
    """y = x W + b.   x: (N, D_in), W: (D_in, D_out), b: (D_out,), y: (N, D_out).

    Backward: dW = xᵀ dy, db = Σ_n dy, dx = dy Wᵀ (skipped when ``need_dx`` is False,
    as for the input layer, whose input gradient nobody uses).
    """

    def __init__(self, W: np.ndarray, b: np.ndarray, dW: np.ndarray, db: np.ndarray,
                 need_dx: bool = True) -> None:
        self.W, self.b, self.dW, self.db = W, b, dW, db
        self.need_dx = need_dx
        self.buf = Buffers(W.dtype)
        self.x: np.ndarray | None = None

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        self.x = x
        y = np.matmul(x, self.W, out=self.buf.get("y", (x.shape[0], self.W.shape[1])))
        y += self.b
        return y

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        ones = self.buf.filled("ones", (dout.shape[0],), 1.0)
        np.matmul(self.x.T, dout, out=self.dW)
        column_sum(dout, ones, self.db)
        if not self.need_dx:
            return None
        Wt = self.buf.get("Wt", self.W.T.shape)
        np.copyto(Wt, self.W.T)
        return np.matmul(dout, Wt, out=self.buf.get("dx", self.x.shape))


class ReLU:
    """y = max(x, 0);  dx = dy · [x > 0].

    With ``inplace`` y is written over x: one buffer less, so a step touches less memory
    (about 1 % of an epoch on the reference network). Only for an x nobody reads again:
    the model's is the output buffer of the Affine or batch norm before it, which their
    ``backward`` does not use.
    """

    def __init__(self, dtype: np.dtype, inplace: bool = False) -> None:
        self.buf = Buffers(dtype)
        self.inplace = inplace
        self.shape: tuple[int, ...] | None = None      # of the buffers below
        self.mask: np.ndarray | None = None

    def _resize(self, shape: tuple[int, ...]) -> None:
        """Point y, the mask and the zeros at the buffers for inputs of ``shape``."""
        self.shape = shape
        self.y = None if self.inplace else self.buf.get("y", shape)
        self.mask = self.buf.get("mask", shape, np.bool_)
        # Against an array of zeros NumPy runs its contiguous loop (faster for arrays that
        # stay in cache, as a batch of 100 does); against the scalar 0 for larger ones.
        self.zero = self.buf.filled("zeros", shape, 0.0) if math.prod(shape) <= 1 << 16 else 0

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        if x.shape != self.shape:
            self._resize(x.shape)
        if training:
            np.greater(x, 0, out=self.mask)
        return np.maximum(x, self.zero, out=x if self.inplace else self.y)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return np.multiply(dout, self.mask, out=dout)


class Sigmoid:
    """y = 1 / (1 + e^(−x));  dx = dy · y (1 − y).  ``inplace``: as for :class:`ReLU`."""

    def __init__(self, dtype: np.dtype, inplace: bool = False) -> None:
        self.buf = Buffers(dtype)
        self.inplace = inplace
        self.y: np.ndarray | None = None

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        # σ(x) = (1 + tanh(x/2)) / 2: never overflows, three in-place passes.
        y = x if self.inplace else self.buf.get("y", x.shape)
        np.multiply(x, 0.5, out=y)
        np.tanh(y, out=y)
        y *= 0.5
        y += 0.5
        self.y = y
        return y

    def backward(self, dout: np.ndarray) -> np.ndarray:
        y = self.y
        dout *= y
        dout *= 1.0 - y
        return dout


class Tanh:
    """y = tanh(x);  dx = dy · (1 − y²).  ``inplace``: as for :class:`ReLU`."""

    def __init__(self, dtype: np.dtype, inplace: bool = False) -> None:
        self.buf = Buffers(dtype)
        self.inplace = inplace
        self.y: np.ndarray | None = None

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        self.y = np.tanh(x, out=x if self.inplace else self.buf.get("y", x.shape))
        return self.y

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dout *= 1.0 - self.y * self.y
        return dout


class Dropout:
    """Drops each unit with probability ``p`` during training.

    ``inverted`` (the standard, the default): y = x · m / (1 − p) in training, y = x at
    test, with m ~ Bernoulli(1 − p); the expected activation is the same in both.
    ``book`` (the book's convention): y = x · m in training, y = x · (1 − p) at test.
    Backward multiplies by the same scaled mask.
    """

    def __init__(self, p: float, rng: np.random.Generator, dtype: np.dtype,
                 mode: str = "inverted") -> None:
        if mode not in DROPOUT_MODES:
            raise ValueError(f"unknown dropout mode {mode!r}; choose from {sorted(DROPOUT_MODES)}")
        self.p, self.rng, self.mode = float(p), rng, mode
        self.buf = Buffers(dtype)
        self.mask: np.ndarray | None = None

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        y = self.buf.get("y", x.shape)
        if not training:
            np.multiply(x, 1.0 - self.p if self.mode == "book" else 1.0, out=y)
            return y
        mask = self.buf.get("mask", x.shape)
        self.rng.random(out=mask, dtype=mask.dtype)   # u ~ U[0, 1), (N, D)
        keep = 1.0 - self.p
        # mask ← [u < keep] · scale, computed in place (no boolean temporary kept)
        np.less(mask, keep, out=mask, casting="unsafe")
        if self.mode == "inverted":
            mask *= 1.0 / keep
        self.mask = mask
        np.multiply(x, mask, out=y)
        return y

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dout *= self.mask
        return dout


DROPOUT_MODES = {"inverted": "scale by 1/(1-p) in training", "book": "scale by (1-p) at test"}

ACTIVATIONS = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh}
