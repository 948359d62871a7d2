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
"""

from __future__ import annotations

import numpy as np

from dlexp.nn.layers import Buffers


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
        n = x.shape[0]
        y = self.buf.get("y", x.shape)
        if training:
            mu = x.mean(axis=0)                                   # (D,)
            xc = self.buf.get("xhat", x.shape)
            np.subtract(x, mu, out=xc)
            var = np.einsum("nd,nd->d", xc, xc) / n               # (D,) biased
            inv_std = 1.0 / np.sqrt(var + self.eps)
            xc *= inv_std                                         # x̂, (N, D)
            self.xhat, self.inv_std = xc, inv_std
            m = self.momentum
            self.running_mean *= 1.0 - m
            self.running_mean += m * mu
            unbias = n / (n - 1) if (self.unbiased and n > 1) else 1.0
            self.running_var *= 1.0 - m
            self.running_var += (m * unbias) * var
            np.multiply(xc, self.gamma, out=y)
        else:
            scale = self.gamma / np.sqrt(self.running_var + self.eps)    # (D,)
            np.multiply(x, scale, out=y)
            y += self.beta - self.running_mean * scale
            return y
        y += self.beta
        return y

    def backward(self, dout: np.ndarray) -> np.ndarray:
        xhat = self.xhat
        np.einsum("nd,nd->d", dout, xhat, out=self.dgamma)
        np.sum(dout, axis=0, out=self.dbeta)
        n = dout.shape[0]
        # dx = γ/σ · (dy − mean(dy) − x̂ · mean(dy x̂)), written into dout's buffer.
        dx = dout
        dx -= self.dbeta / n
        dx -= xhat * (self.dgamma / n)
        dx *= self.gamma * self.inv_std
        return dx
