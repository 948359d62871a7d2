"""The rarely lit last columns of an input layer's batch, multiplied only where lit.

Training images come with their pixels ordered from the most often lit to the least
(``Splits``, ``lit_first``); on MNIST 224 of the 717 pixels lit in training are lit in
under 1 % of the images, so a batch of 100 lights only about 30 of them. For the
columns s…k−1 of such a batch x (N, k), with x ≥ 0:

    lit = {j : Σ_n x[n, s+j] > 0}                      the c columns the batch lights
    y  += x[:, s+lit] W[s+lit]                         (N, c) (c, D_out)
    dW[s+lit] = x[:, s+lit]ᵀ dy,   dW[s+j] = 0 for every other j

which is x[:, s:] W[s:] and its gradient exactly (an unlit column is all zeros), for
c columns' arithmetic instead of k − s. A column sum is 0 only for an unlit column
because no value is negative; the caller guarantees that (``Splits.lit_counts`` is
only given for images without negative values).
"""

from __future__ import annotations

import numpy as np


class SparseTail:
    """Forward and backward of ``x[:, s:k] W[s:k]`` over the columns a batch lights.

    ``W`` and ``dW`` are the (k − s, D_out) views of the input layer's weight and
    gradient rows s…k−1; ``n`` the batch size. The caller zeroes ``dW`` before
    :meth:`backward` (it writes the lit rows only).
    """

    def __init__(self, W: np.ndarray, dW: np.ndarray, n: int) -> None:
        self.W, self.dW = W, dW                                     # (k − s, D_out)
        self.ones = np.ones(n, dtype=W.dtype)                       # (N,)
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
