"""The NumPy floor: only the matrix products of each workload and the batch gathers.

No bias, activation, batch norm, loss, optimiser or bookkeeping — just, per step, the
``take`` of the batch into a reused buffer and the products dlexp makes with
OpenBLAS on float32 arrays:

    forward   h_i = h_{i-1} W_i                           (B, d_i)
    backward  dW_i = h_{i-1}ᵀ δ_i,   δ_{i-1} = δ_i W_iᵀ (i ≥ 2; Wᵀ copied contiguous)

A NumPy implementation making these products does at least this work, so ``dlexp /
floor`` shows how much of an epoch the rest costs, and ``floor / PyTorch`` the best
ratio NumPy can reach that way on this machine. The weights are never updated and δ is a fixed
small matrix, so every value stays finite (no slow denormal or overflow paths).
"""

from __future__ import annotations

import numpy as np

from benchmarks.common import (BATCH, EVAL_CHUNK, WORKLOADS, Data, dlexp_layout,
                               initial_weights, order_rng, sizes, timed)


class Network:
    """Weights and the reused buffers of one batch size."""

    def __init__(self, weights: dict[str, np.ndarray], n_layers: int, batch: int) -> None:
        self.W = [weights[f"W{i}"] for i in range(1, n_layers + 1)]          # (d_i-1, d_i)
        self.Wt = [np.empty(w.shape[::-1], np.float32) for w in self.W]       # (d_i, d_i-1)
        self.dW = [np.empty_like(w) for w in self.W]
        self.h = [np.empty((batch, w.shape[1]), np.float32) for w in self.W]  # (B, d_i)
        self.dx = [np.empty((batch, w.shape[0]), np.float32) for w in self.W]
        rng = np.random.default_rng(0)
        self.delta = (rng.standard_normal((batch, self.W[-1].shape[1])) * 1e-2
                      ).astype(np.float32)                                    # (B, C)

    def forward(self, x: np.ndarray) -> np.ndarray:
        for w, h in zip(self.W, self.h):
            out = h[:x.shape[0]]
            np.matmul(x, w, out=out)
            x = out
        return x

    def step(self, x: np.ndarray) -> None:
        """One batch x (n, 784)."""
        self.forward(x)
        n = x.shape[0]
        d = self.delta[:n]
        for i in range(len(self.W) - 1, -1, -1):
            inp = x if i == 0 else self.h[i - 1][:n]
            np.matmul(inp.T, d, out=self.dW[i])
            if i:
                np.copyto(self.Wt[i], self.W[i].T)
                d = np.matmul(d, self.Wt[i], out=self.dx[i][:n])


def epoch_products(net: Network, x: np.ndarray, perm: np.ndarray, xbuf: np.ndarray) -> None:
    for start in range(0, x.shape[0], BATCH):
        idx = perm[start:start + BATCH]
        net.step(x.take(idx, axis=0, out=xbuf[:idx.shape[0]], mode="clip"))


def forward_products(net: Network, x: np.ndarray) -> None:
    for s in range(0, x.shape[0], EVAL_CHUNK):
        net.forward(x[s:s + EVAL_CHUNK])


class Impl:
    name = "floor"

    def __init__(self, data: Data) -> None:
        self.main = dlexp_layout(data.x_train, data.y_train, data.x_test, data.y_test)
        self.trial_data = dlexp_layout(*data.trial)     # x_test: the trial's validation set

    def setup(self, workload: str) -> None:
        self.w = WORKLOADS[workload]
        n_layers = len(sizes(self.w)) - 1
        k, weights = self.main.x_train.shape[1], initial_weights(self.w)
        self.net = Network(weights, n_layers, BATCH)
        self.eval_net = Network(weights, n_layers, EVAL_CHUNK)
        self.xbuf = np.empty((BATCH, k), np.float32)
        self.rng = order_rng()

    def epoch(self) -> dict:
        x = self.main.x_train
        perm = self.rng.permutation(x.shape[0])
        with timed({}) as out:
            epoch_products(self.net, x, perm, self.xbuf)
        return out

    def evaluate(self) -> dict:
        with timed({}) as out:
            forward_products(self.eval_net, self.main.x_test)
        return out

    def trial(self, seed: int) -> dict:
        w = WORKLOADS["trial"]
        x_tr, x_val = self.trial_data.x_train, self.trial_data.x_test
        rng, n_layers, k = order_rng(seed), len(sizes(w)) - 1, x_tr.shape[1]
        weights = initial_weights(w, seed)
        net = Network(weights, n_layers, BATCH)
        evals_tr = Network(weights, n_layers, EVAL_CHUNK)                    # built untimed
        evals = Network(weights, n_layers, EVAL_CHUNK)
        xbuf = np.empty((BATCH, k), np.float32)
        perms = [rng.permutation(x_tr.shape[0]) for _ in range(w.epochs)]
        with timed({}) as out:
            for perm in perms:
                epoch_products(net, x_tr, perm, xbuf)
                forward_products(evals_tr, x_tr)
                forward_products(evals, x_val)
        return out
