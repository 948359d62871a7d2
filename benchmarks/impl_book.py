"""The book-style NumPy baseline (:mod:`benchmarks.book_style`) on the shared workloads.

Timed per epoch: the same work as dlexp's — 600 batch gathers (fancy indexing), the
one-hot targets of each batch, forward, loss, backward, update, the per-step loss and
running accuracy.
"""

from __future__ import annotations

import numpy as np

from benchmarks.book_style import SGD, Adam, MultiLayerNet, one_hot
from benchmarks.common import (BATCH, EVAL_CHUNK, WORKLOADS, Data, Workload,
                               initial_weights, order_rng, timed)


def build(w: Workload, weights: dict[str, np.ndarray]):
    net = MultiLayerNet(weights, len(w.hidden) + 1, w.batchnorm, w.l2)
    opt = SGD(w.lr) if w.optimizer == "sgd" else Adam(w.lr)
    return net, opt


def train_epoch(net, opt, x, t, perm) -> tuple[float, float]:
    total, correct, steps = 0.0, 0, 0
    for start in range(0, x.shape[0], BATCH):
        idx = perm[start:start + BATCH]
        x_batch, t_batch = x[idx], t[idx]
        grads, loss = net.gradient(x_batch, t_batch)
        opt.update(net.params, grads)
        total += float(loss)
        correct += int(np.sum(np.argmax(net.scores, axis=1) == np.argmax(t_batch, axis=1)))
        steps += 1
    return total / steps, correct / x.shape[0]


def evaluate(net, x, t) -> tuple[float, float]:
    total, correct = 0.0, 0
    for s in range(0, x.shape[0], EVAL_CHUNK):
        scores = net.predict(x[s:s + EVAL_CHUNK], False)
        tb = t[s:s + EVAL_CHUNK]
        total += net.last_layer.forward(scores, tb) * tb.shape[0]
        correct += int(np.sum(np.argmax(scores, axis=1) == np.argmax(tb, axis=1)))
    return total / x.shape[0], correct / x.shape[0]


class Impl:
    name = "book"

    def __init__(self, data: Data) -> None:
        self.x_train, self.t_train = data.x_train, one_hot(data.y_train)
        self.x_test, self.t_test = data.x_test, one_hot(data.y_test)
        x_tr, y_tr, x_val, y_val = data.trial
        self.trial_data = (x_tr, one_hot(y_tr), x_val, one_hot(y_val))

    def setup(self, workload: str) -> None:
        self.w = WORKLOADS[workload]
        self.net, self.opt = build(self.w, initial_weights(self.w, dtype=np.float64))
        self.rng = order_rng()

    def epoch(self) -> dict:
        with timed({}) as out:
            perm = self.rng.permutation(self.x_train.shape[0])
            loss, acc = train_epoch(self.net, self.opt, self.x_train, self.t_train, perm)
        sq = sum(float(np.sum(v ** 2)) for k, v in self.net.params.items() if k[0] == "W")
        return {**out, "loss": loss, "acc": acc, "weight_norm": sq ** 0.5}

    def evaluate(self) -> dict:
        with timed({}) as out:
            loss, acc = evaluate(self.net, self.x_test, self.t_test)
        return {**out, "loss": loss, "acc": acc}

    def trial(self, seed: int) -> dict:
        w = WORKLOADS["trial"]
        weights = initial_weights(w, seed, np.float64)
        x_tr, t_tr, x_val, t_val = self.trial_data
        rng = order_rng(seed)
        with timed({}) as out:
            net, opt = build(w, weights)
            for _ in range(w.epochs):
                train_epoch(net, opt, x_tr, t_tr, rng.permutation(x_tr.shape[0]))
                evaluate(net, x_tr, t_tr)
                _, val_acc = evaluate(net, x_val, t_val)
        return {**out, "val_acc": val_acc}
