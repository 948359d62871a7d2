"""Batch normalization over the feature axis of (N, D) activations.

Training:   μ = mean_n x,  σ² = mean_n (x − μ)²,  x̂ = (x − μ) / √(σ² + ε),  y = γ x̂ + β,
            running_mean ← (1 − m) running_mean + m μ,
            running_var  ← (1 − m) running_var + m σ² (· N/(N − 1) if ``unbiased``)
Inference:  y = γ (x − running_mean) / √(running_var + ε) + β
Backward (the book's chain of steps, summed up):
            dβ = Σ_n dout,  dγ = Σ_n dout · x̂,  dx = γ / √(σ² + ε) · (dout − dβ/N − x̂ · dγ/N)

The defaults (m 0.1, ε 1e-5, unbiased, running statistics from mean 0 / variance 1) are
PyTorch's. The book's layer (momentum 0.9 meaning the old value's weight, 10e-7 = 1e-6
under the root, biased σ², running statistics from 0 / 0) is
``momentum=0.1, eps=1e-6, unbiased=False, running_init="book"``.
"""

from __future__ import annotations

import numpy as np

from dlexp.nn.layers import Layer

# Initial (running_mean, running_var), by name.
RUNNING_INITS = {"standard": (0.0, 1.0), "book": (0.0, 0.0)}


class BatchNorm(Layer):
    """Learnable scale γ and shift β (D,), with running statistics for inference."""

    def __init__(self, gamma: np.ndarray, beta: np.ndarray, dgamma: np.ndarray,
                 dbeta: np.ndarray, momentum: float = 0.1, eps: float = 1e-5,
                 unbiased: bool = True, running_init: str = "standard") -> None:
        if running_init not in RUNNING_INITS:
            raise ValueError(f"unknown running_init {running_init!r}; "
                             f"choose from {sorted(RUNNING_INITS)}")
        self.gamma, self.beta, self.dgamma, self.dbeta = gamma, beta, dgamma, dbeta
        self.momentum, self.eps, self.unbiased = float(momentum), float(eps), unbiased
        mean0, var0 = RUNNING_INITS[running_init]
        self.running_mean = np.full_like(gamma, mean0)
        self.running_var = np.full_like(gamma, var0)

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        out = self.buffer("out", x.shape, x.dtype)
        if not training:
            scale = self.gamma / np.sqrt(self.running_var + self.eps)          # (D,)
            np.multiply(x - self.running_mean, scale, out=out)
            out += self.beta
            return out
        n = x.shape[0]
        mu = x.mean(axis=0)                                                     # (D,)
        xc = np.subtract(x, mu, out=self.buffer("xhat", x.shape, x.dtype))     # x − μ
        var = np.square(xc, out=out).mean(axis=0)                               # (D,) σ²
        self.std = np.sqrt(var + self.eps)                                      # (D,)
        self.xhat = np.divide(xc, self.std, out=xc)                             # (N, D)
        m = self.momentum
        unbias = n / (n - 1) if self.unbiased and n > 1 else 1.0
        self.running_mean *= 1.0 - m
        self.running_mean += m * mu
        self.running_var *= 1.0 - m
        self.running_var += (m * unbias) * var
        np.multiply(self.xhat, self.gamma, out=out)
        out += self.beta
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        n = dout.shape[0]
        dout.sum(axis=0, out=self.dbeta)
        tmp = np.multiply(dout, self.xhat, out=self.buffer("tmp", dout.shape, dout.dtype))
        tmp.sum(axis=0, out=self.dgamma)
        dx = dout                                          # written over dout
        dx -= self.dbeta / n
        dx -= np.multiply(self.xhat, self.dgamma / n, out=tmp)
        dx *= self.gamma / self.std
        return dx
