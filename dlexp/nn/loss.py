"""Softmax cross-entropy on integer labels, fused for a stable and cheap gradient.

    p = softmax(z) = exp(z − max z) / Σ exp(z − max z)          z: (N, C) logits
    L = −(1/N) Σ_n log p[n, y_n]
       = (1/N) Σ_n (log Σ_c exp(z_nc − m_n) − (z_{n,y_n} − m_n))
    ∂L/∂z = (p − onehot(y)) / N

Subtracting the row maximum keeps every exponent ≤ 0, so huge logits stay finite.
"""

from __future__ import annotations

import numpy as np

from dlexp.nn.layers import Buffers


class SoftmaxCrossEntropy:
    """``forward(z, y)`` → mean loss; ``backward()`` → dL/dz (N, C)."""

    def __init__(self, dtype: np.dtype) -> None:
        self.buf = Buffers(dtype)
        self.p: np.ndarray | None = None
        self.y: np.ndarray | None = None

    def forward(self, z: np.ndarray, y: np.ndarray) -> float:
        n = z.shape[0]
        p = self.buf.get("p", z.shape)
        np.subtract(z, z.max(axis=1, keepdims=True), out=p)   # (N, C), ≤ 0
        rows = np.arange(n)
        picked = p[rows, y].copy()                            # z_{n,y} − m_n
        np.exp(p, out=p)
        s = p.sum(axis=1, keepdims=True)                      # (N, 1)
        loss = float(np.mean(np.log(s[:, 0]) - picked))
        p /= s                                                # softmax
        self.p, self.y = p, y
        return loss

    def backward(self) -> np.ndarray:
        n = self.p.shape[0]
        dz = self.p
        dz[np.arange(n), self.y] -= 1.0
        dz *= 1.0 / n
        return dz


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (N, C) logits, stable for any magnitude."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
