"""Softmax and cross-entropy as one layer, on integer labels t (the book's SoftmaxWithLoss).

    p = softmax(z),   p[n, c] = exp(z[n, c] − m_n) / Σ_c' exp(z[n, c'] − m_n),  m_n = max_c z[n, c]
    L = −(1/N) Σ_n log p[n, t_n] = (1/N) Σ_n (log Σ_c exp(z[n, c] − m_n) − (z[n, t_n] − m_n))
    dz = (p − onehot(t)) / N

Subtracting the row maximum keeps every exponent ≤ 0, so huge logits stay finite, and the
loss is taken from the log of the sum (never log 0). Fused, the backward pass is one
subtraction at the labels: no one-hot matrix and no separate softmax gradient.
"""

from __future__ import annotations

import numpy as np

from dlexp.nn.layers import Layer


class SoftmaxCrossEntropy(Layer):
    """``forward(z, t)`` → mean loss of logits z (N, C) for labels t (N,);
    ``backward()`` → dL/dz (N, C)."""

    def forward(self, z: np.ndarray, t: np.ndarray) -> float:
        rows = np.arange(z.shape[0])
        z_max = z.max(axis=1)                                           # (N,) m_n
        p = np.subtract(z, z_max[:, None], out=self.buffer("p", z.shape, z.dtype))
        picked = p[rows, t]                                             # (N,) z[n, t_n] − m_n
        np.exp(p, out=p)
        total = p.sum(axis=1)                                           # (N,)
        p /= total[:, None]                                             # softmax
        self.p, self.t, self.rows = p, t, rows
        return float((np.log(total) - picked).sum()) / z.shape[0]

    def backward(self) -> np.ndarray:
        dz = self.p                                                      # written over p
        dz[self.rows, self.t] -= 1.0
        dz /= dz.shape[0]
        return dz


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (N, C) logits, stable for any magnitude (a new array)."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
