"""The rarely lit last columns of an input layer's batch, multiplied only where lit.

Training images come with their pixels ordered from the most often lit to the least
(``Splits``, ``lit_first``); on MNIST 224 of the 717 pixels lit in training are lit in
under 1 % of the images, so a batch of 100 lights only about 34 of them. For the
columns s…k−1 of such a batch x (N, k), with x ≥ 0:

    lit = {j : Σ_n x[n, s+j] > 0}                      the c columns the batch lights
    y  += x[:, s+lit] W[s+lit]                         (N, c) (c, D_out)
    dW[s+lit] = x[:, s+lit]ᵀ dy,   dW[s+j] = 0 for every other j

which is x[:, s:] W[s:] and its gradient (an unlit column is all zeros), exactly up to
float rounding while the weights are finite, for c columns' arithmetic instead of
k − s. A column sum is 0 only for an unlit column because no value is negative: the
caller checks that (:func:`dlexp.train.setup.sparse_from`).

Whether it pays (:func:`sparse_start`): column j, lit in c_j of the n training images,
is rare when c_j · B < n (under one image per batch of B on average); a batch drawn
without replacement leaves it dark with probability

    P_j = Π_{i<B} (1 − c_j / (n − i)) = C(n − c_j, B) / C(n, B),

and the path is taken when Σ_j P_j over the rare columns reaches ``MIN_DARK``.
"""

from __future__ import annotations

import math

import numpy as np

# The path's eight extra NumPy calls a step cost about what the products of 85 columns
# do on the reference machine (2-core AVX-512 VM, batch 100); 128 leaves a margin for
# machines where a call costs more against a product.
MIN_DARK = 128


def _log_choose(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def expected_dark(counts: np.ndarray, n: int, batch_size: int) -> float:
    """Σ_j P_j: how many of the columns lit in ``counts`` (c_j of n images each) a batch
    of ``batch_size`` drawn without replacement is expected to leave dark."""
    b = min(batch_size, n)
    return sum(math.exp(_log_choose(n - int(c), b) - _log_choose(n, b))
               for c in counts if n - int(c) >= b)


def sparse_start(counts: np.ndarray, n: int, batch_size: int) -> int | None:
    """The first of the columns lit in fewer than n / B of the n training images
    (``counts`` (k,) non-increasing, B = ``batch_size``), if a batch is expected to
    leave at least ``MIN_DARK`` of them dark; else None."""
    b = max(min(batch_size, n), 1)
    start = int(np.count_nonzero(np.asarray(counts) * b >= n))   # the rare ones: a suffix
    return start if expected_dark(counts[start:], n, b) >= MIN_DARK else None


class SparseTail:
    """Forward and backward of ``x[:, s:k] W[s:k]`` over the columns a batch lights.

    ``W`` and ``dW`` are the (k − s, D_out) views of the input layer's weight and
    gradient rows s…k−1; ``ones`` (N,) a vector of ones as long as the batch (the
    layer's own, never written). The caller zeroes ``dW`` before :meth:`backward` (it
    writes the lit rows only).
    """

    def __init__(self, W: np.ndarray, dW: np.ndarray, ones: np.ndarray) -> None:
        self.W, self.dW = W, dW                                     # (k − s, D_out)
        self.ones = ones                                            # (N,)
        n = len(ones)
        self.sums = np.empty(W.shape[0], dtype=W.dtype)             # (k − s,)
        self.rows = np.empty_like(W)                                # (≤ k − s, D_out)
        self.grad = np.empty_like(W)                                # (≤ k − s, D_out)
        self.out = np.empty((n, W.shape[1]), dtype=W.dtype)         # (N, D_out)
        self.lit: np.ndarray | None = None                          # (c,)
        self.x: np.ndarray | None = None                            # (N, c)

    def forward(self, x: np.ndarray, y: np.ndarray) -> None:
        """y += x W for x (N, k − s) ≥ 0, the batch's last columns; y (N, D_out)."""
        np.matmul(self.ones, x, out=self.sums)                      # (k − s,) one BLAS call
        lit = self.lit = self.sums.nonzero()[0]                     # (c,)
        if not len(lit):
            self.x = None
            return
        self.x = x[:, lit]                                          # (N, c)
        rows = self.W.take(lit, axis=0, out=self.rows[:len(lit)], mode="clip")  # (c, D_out)
        y += np.matmul(self.x, rows, out=self.out)

    def backward(self, dout: np.ndarray) -> None:
        """dW[lit] = x[:, lit]ᵀ dout; the other rows are left as the caller set them (0)."""
        if self.x is not None:
            self.dW[self.lit] = np.matmul(self.x.T, dout, out=self.grad[:len(self.lit)])
