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
    """``forward(z, y)`` → mean loss; ``backward()`` → dL/dz (N, C).

    For speed on small batches the row maxima are taken over a transposed copy of z
    (a reduction along the long axis), the row sums Σ_c as z · 1, and the entries
    z[n, y_n] through flat indices n·C + y_n.
    """

    def __init__(self, dtype: np.dtype) -> None:
        self.buf = Buffers(dtype)
        self.p: np.ndarray | None = None
        self.flat: np.ndarray | None = None      # flat positions n·C + y_n of the labels
        self._row_starts: dict[tuple[int, int], np.ndarray] = {}

    def forward(self, z: np.ndarray, y: np.ndarray) -> float:
        n, c = z.shape
        zt = self.buf.get("zt", (c, n))
        np.copyto(zt, z.T)                                    # (C, N)
        m = np.maximum.reduce(zt, axis=0, out=self.buf.get("m", (n,)))   # (N,) row max
        p = self.buf.get("p", z.shape)
        np.subtract(z, m[:, None], out=p)                     # (N, C), ≤ 0
        flat = self.buf.get("flat", (n,), np.intp)
        np.add(self.row_starts(n, c), y, out=flat)
        picked = np.take(p.reshape(-1), flat)                 # (N,) z_{n,y} − m_n
        np.exp(p, out=p)
        s = np.dot(p, self.buf.filled("ones", (c,), 1.0), out=self.buf.get("s", (n,)))
        loss = (float(np.log(s).sum()) - float(picked.sum())) / n
        p /= s[:, None]                                       # softmax
        self.p, self.flat = p, flat
        return loss

    def backward(self) -> np.ndarray:
        dz = self.p
        dz.reshape(-1)[self.flat] -= 1.0                      # p − onehot(y)
        dz *= 1.0 / dz.shape[0]
        return dz

    def row_starts(self, n: int, c: int) -> np.ndarray:
        """(N,) the flat index n·C of each row's first entry (cached per shape)."""
        rows = self._row_starts.get((n, c))
        if rows is None:
            rows = self._row_starts[(n, c)] = np.arange(n, dtype=np.intp) * c
        return rows


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (N, C) logits, stable for any magnitude."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
