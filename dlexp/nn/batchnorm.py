"""Batch normalization over the feature axis of (N, D) activations.

Training (batch statistics):
    μ = mean_n x,   σ² = mean_n (x − μ)²,   x̂ = (x − μ) / sqrt(σ² + ε),   y = γ x̂ + β
    running_mean ← (1 − m) running_mean + m μ
    running_var  ← (1 − m) running_var  + m σ² · N / (N − 1)     (unbiased, as PyTorch)
Inference (running statistics):  y = γ (x − running_mean) / sqrt(running_var + ε) + β

Backward, with g = dy γ:
    dx = (g − mean_n g − x̂ · mean_n(g x̂)) / sqrt(σ² + ε)
    dγ = Σ_n dy x̂,   dβ = Σ_n dy

Defaults m = 0.1 and ε = 1e-5 are PyTorch's. The book keeps ``momentum=0.9`` in the
other sense (the weight of the old value) and ε = 1e-7: ``momentum=0.1, eps=1e-7`` with
``unbiased=False`` reproduces it.

The batch means mean_n are computed as (1/N)·1ᵀ x, one BLAS matrix-vector product
(see :func:`dlexp.nn.layers.column_sum`), and each (N, D) pass writes into a reused buffer.
"""

from __future__ import annotations

import numpy as np

from dlexp.nn.layers import Buffers, column_sum


class BatchNorm:
    """Learnable scale γ and shift β, with running statistics for inference."""

    def __init__(self, gamma: np.ndarray, beta: np.ndarray, dgamma: np.ndarray,
                 dbeta: np.ndarray, momentum: float = 0.1, eps: float = 1e-5,
                 unbiased: bool = True) -> None:
        self.gamma, self.beta, self.dgamma, self.dbeta = gamma, beta, dgamma, dbeta
        self.momentum, self.eps, self.unbiased = float(momentum), float(eps), unbiased
        d = gamma.shape[0]
        self.running_mean = np.zeros(d, dtype=gamma.dtype)
        self.running_var = np.ones(d, dtype=gamma.dtype)
        self.buf = Buffers(gamma.dtype)
        self.xhat: np.ndarray | None = None
        self.inv_std: np.ndarray | None = None

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        n, d = x.shape
        y = self.buf.get("y", x.shape)
        if not training:
            scale = self.gamma / np.sqrt(self.running_var + self.eps)    # (D,)
            np.multiply(x, scale, out=y)
            y += self.beta - self.running_mean * scale
            return y
        w = self.buf.filled("1/n", (n,), 1.0 / n)                  # (N,) weights of a mean
        mu = column_sum(x, w, self.buf.get("mu", (d,)))             # (D,)
        xc = self.buf.get("xhat", x.shape)
        np.subtract(x, mu, out=xc)                                  # x − μ
        np.multiply(xc, xc, out=y)                                  # y as scratch
        var = column_sum(y, w, self.buf.get("var", (d,)))           # (D,) biased
        inv_std = self.buf.get("inv_std", (d,))
        np.add(var, self.eps, out=inv_std)
        np.sqrt(inv_std, out=inv_std)
        np.reciprocal(inv_std, out=inv_std)                         # 1 / sqrt(σ² + ε)
        xc *= inv_std                                               # x̂, (N, D)
        self.xhat, self.inv_std = xc, inv_std
        m = self.momentum
        self.running_mean *= 1.0 - m
        self.running_mean += m * mu
        unbias = n / (n - 1) if (self.unbiased and n > 1) else 1.0
        self.running_var *= 1.0 - m
        self.running_var += (m * unbias) * var
        np.multiply(xc, self.gamma, out=y)
        y += self.beta
        return y

    def backward(self, dout: np.ndarray) -> np.ndarray:
        xhat, n = self.xhat, dout.shape[0]
        ones = self.buf.filled("ones", (n,), 1.0)
        tmp = self.buf.get("tmp", dout.shape)
        column_sum(np.multiply(dout, xhat, out=tmp), ones, self.dgamma)   # Σ dy x̂
        column_sum(dout, ones, self.dbeta)                                # Σ dy
        # dx = γ/σ · (dy − mean(dy) − x̂ · mean(dy x̂)), written into dout's buffer.
        np.multiply(xhat, self.dgamma / n, out=tmp)
        dx = dout
        dx -= tmp
        dx -= self.dbeta / n
        dx *= self.gamma * self.inv_std
        return dx
