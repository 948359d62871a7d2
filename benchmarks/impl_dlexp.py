"""dlexp itself, through its public pieces: a config, ``build_model``,
``build_optimizer_for`` and the one training loop ``fit``.

Timed for an epoch: the whole ``fit`` call for one epoch with no validation set and
``train_eval: running`` — the permutation, 600 batch gathers, forward, loss, backward,
optimiser update, per-step loss and running accuracy. No evaluation pass is included.

The weights are the same He draw as the other implementations'.
"""

from __future__ import annotations

import numpy as np

from benchmarks.common import (BATCH, SEED, WORKLOADS, Data, Workload, dlexp_layout,
                               order_rng, timed)


def _config(w: Workload, train_eval: str, dtype: str = "float32", seed: int = SEED,
            epochs: int = 1):
    from dlexp.config import config_from_dict
    return config_from_dict({
        "name": f"bench-{w.name}", "seed": seed, "dtype": dtype,
        "data": {"val_size": 0},
        "model": {"hidden": list(w.hidden), "batchnorm": w.batchnorm,
                  "initializer": "he_normal"},
        "optimizer": {"name": w.optimizer, "lr": w.lr},
        "regularization": {"l2": w.l2},
        "training": {"epochs": epochs, "batch_size": BATCH, "train_eval": train_eval},
    })


class Impl:
    name = "dlexp"

    def __init__(self, data: Data, dtype: str = "float32") -> None:
        self.dtype = dtype
        cast = lambda a: a.astype(dtype, copy=False) if a.dtype.kind == "f" else a     # noqa: E731
        self.main = dlexp_layout(*map(cast, (data.x_train, data.y_train,   # sgd, bn_adam,
                                             data.x_test, data.y_test)))   # eval
        self.trial_data = dlexp_layout(*map(cast, data.trial))   # x_test: the validation set

    def setup(self, workload: str) -> None:
        from dlexp.train.runner import build_model, build_optimizer_for, streams
        self.w = WORKLOADS[workload]
        self.cfg = _config(self.w, "running", self.dtype)
        self.model = build_model(self.cfg, self.main.x_train.shape[1], 10, streams(SEED))
        self.opt, self.schedule = build_optimizer_for(self.cfg, self.main.x_train.shape[0])
        self.rng = order_rng()

    def epoch(self) -> dict:
        from dlexp.train.loop import fit
        from dlexp.train.runner import fit_options
        d = self.main
        with timed({}) as out:
            state = fit(self.model, self.opt, self.schedule, d.x_train, d.y_train,
                        d.x_test[:0], d.y_test[:0], rng=self.rng, **fit_options(self.cfg))
        rec = state.history[-1]
        weights = self.model.flat_params[:self.model.n_decay].astype(np.float64)
        return {**out, "loss": rec["train_loss"], "acc": rec["train_acc"],
                "weight_norm": float(np.sqrt(weights @ weights))}

    def evaluate(self) -> dict:
        with timed({}) as out:
            loss, acc = self.model.evaluate(self.main.x_test, self.main.y_test)
        return {**out, "loss": loss, "acc": acc}

    def trial(self, seed: int) -> dict:
        """One search trial: build the model and optimiser, train 50 epochs with a
        full train + validation evaluation after each (as the book's trainer does)."""
        from dlexp.train.loop import fit
        from dlexp.train.runner import build_model, build_optimizer_for, fit_options, streams
        w = WORKLOADS["trial"]
        cfg = _config(w, "full", seed=seed, epochs=w.epochs)
        t = self.trial_data
        x_tr, y_tr, x_val, y_val = t.x_train, t.y_train, t.x_test, t.y_test
        with timed({}) as out:
            s = streams(seed)
            model = build_model(cfg, t.x_train.shape[1], 10, s)
            opt, schedule = build_optimizer_for(cfg, x_tr.shape[0])
            state = fit(model, opt, schedule, x_tr, y_tr, x_val, y_val, rng=s.order,
                        **fit_options(cfg))
        return {**out, "val_acc": state.history[-1]["val_acc"]}
