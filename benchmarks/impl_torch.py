"""The PyTorch reference: eager mode on the CPU in float32, written as a PyTorch user
would (``nn.Sequential``, ``F.cross_entropy``, ``torch.optim``), with dlexp's initial
weights and the same batch order. Timed per epoch: the same work as dlexp's — 600
batch gathers (``index_select``), forward, loss, backward, optimiser step, the per-step
loss as a Python float and the running accuracy.

``torch.optim`` is used with its defaults (on the CPU: the per-tensor loop); the
``foreach``/``fused`` variants can be selected with ``variant``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from benchmarks.common import (BATCH, EVAL_CHUNK, WORKLOADS, Data, Workload,
                               initial_weights, order_rng, timed)


def build_net(w: Workload, weights: dict[str, np.ndarray]) -> torch.nn.Sequential:
    n_layers = len(w.hidden) + 1
    modules: list[torch.nn.Module] = []
    for i in range(1, n_layers + 1):
        W = weights[f"W{i}"]
        lin = torch.nn.Linear(*W.shape)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
            lin.bias.copy_(torch.from_numpy(weights[f"b{i}"]))
        modules.append(lin)
        if i == n_layers:
            break
        if w.batchnorm:
            modules.append(torch.nn.BatchNorm1d(W.shape[1]))     # momentum 0.1, ε 1e-5
        modules.append(torch.nn.ReLU())
    return torch.nn.Sequential(*modules)


def build_optimizer(w: Workload, net: torch.nn.Sequential, variant: str):
    kw = {"foreach": True} if variant == "foreach" else {"fused": True} if variant == "fused" \
        else {}
    decay = [p for n, p in net.named_parameters() if n.endswith("weight") and p.dim() == 2]
    rest = [p for n, p in net.named_parameters() if not (n.endswith("weight") and p.dim() == 2)]
    groups = [{"params": decay, "weight_decay": w.l2}, {"params": rest, "weight_decay": 0.0}]
    if w.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=w.lr, **kw)
    return torch.optim.Adam(groups, lr=w.lr, **kw)


class Impl:
    name = "pytorch"

    def __init__(self, data: Data, variant: str = "default") -> None:
        self.variant = variant
        as_t = lambda a: torch.from_numpy(np.array(a))           # writable copies
        self.x_train, self.y_train = as_t(data.x_train), as_t(data.y_train)
        self.x_test, self.y_test = as_t(data.x_test), as_t(data.y_test)
        self.trial_data = tuple(as_t(a) for a in data.trial)

    def setup(self, workload: str) -> None:
        self.w = WORKLOADS[workload]
        self.net = build_net(self.w, initial_weights(self.w))
        self.opt = build_optimizer(self.w, self.net, self.variant)
        self.rng = order_rng()

    def _train_epoch(self, net, opt, x, y, perm) -> tuple[float, float]:
        net.train()
        total, correct, steps = 0.0, 0, 0
        for start in range(0, x.shape[0], BATCH):
            idx = perm[start:start + BATCH]
            xb, yb = x.index_select(0, idx), y.index_select(0, idx)
            out = net(xb)
            loss = F.cross_entropy(out, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item()
            correct += int((out.argmax(1) == yb).sum())
            steps += 1
        return total / steps, correct / x.shape[0]

    def epoch(self) -> dict:
        with timed({}) as out:
            perm = torch.from_numpy(self.rng.permutation(self.x_train.shape[0]))
            loss, acc = self._train_epoch(self.net, self.opt, self.x_train, self.y_train, perm)
        sq = sum(float((m.weight.detach().double() ** 2).sum()) for m in self.net
                 if isinstance(m, torch.nn.Linear))
        return {**out, "loss": loss, "acc": acc, "weight_norm": sq ** 0.5}

    @torch.no_grad()
    def _evaluate(self, net, x, y) -> tuple[float, float]:
        net.eval()
        total, correct = 0.0, 0
        for s in range(0, x.shape[0], EVAL_CHUNK):
            out = net(x[s:s + EVAL_CHUNK])
            yb = y[s:s + EVAL_CHUNK]
            total += F.cross_entropy(out, yb, reduction="sum").item()
            correct += int((out.argmax(1) == yb).sum())
        return total / x.shape[0], correct / x.shape[0]

    def evaluate(self) -> dict:
        with timed({}) as out:
            loss, acc = self._evaluate(self.net, self.x_test, self.y_test)
        return {**out, "loss": loss, "acc": acc}

    def trial(self, seed: int) -> dict:
        w = WORKLOADS["trial"]
        weights = initial_weights(w, seed)
        x_tr, y_tr, x_val, y_val = self.trial_data
        rng = order_rng(seed)
        with timed({}) as out:
            net = build_net(w, weights)
            opt = build_optimizer(w, net, self.variant)
            for _ in range(w.epochs):
                perm = torch.from_numpy(rng.permutation(x_tr.shape[0]))
                self._train_epoch(net, opt, x_tr, y_tr, perm)
                self._evaluate(net, x_tr, y_tr)
                _, val_acc = self._evaluate(net, x_val, y_val)
        return {**out, "val_acc": val_acc}

