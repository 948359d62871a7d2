"""The one training loop. Everything that trains (``train``, ``compare``, ``search``,
the experiments) calls :func:`fit` and listens through callbacks.

An epoch is a pass over a fresh permutation of the training set in batches of
``batch_size`` (the last, smaller batch included). At every evaluation point — the end
of each epoch, or every ``eval_every`` updates — a record is made::

    {"epoch", "step", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds"}

``train_loss`` is the objective — cross-entropy *plus the weight-decay penalty*
(½λ₂‖W‖² + λ₁‖W‖₁) — over the whole training set at the record's weights (in
inference mode, like ``train_acc``), or with ``train_eval: running`` the mean minibatch
objective and accuracy since the last record (cheaper; dropout on). ``val_loss`` is
cross-entropy alone. A callback may end training by setting ``state.stop`` (and
``state.status = "interrupted"`` for an interruption: no record is made of the
unfinished epoch).
A non-finite loss stops training with status ``diverged``; Ctrl-C (or SIGTERM, see
:mod:`dlexp.train.signals`) stops it with status ``interrupted``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from dlexp.config import RegularizationConfig, TrainingConfig
from dlexp.nn.model import MLP
from dlexp.optim.transforms import GradientTransformation, apply_updates, Schedule
from dlexp.train.accuracy import RunningAccuracy


class Callback:
    """Hooks called by :func:`fit`; set ``state.stop`` to a reason to end training."""

    def on_train_begin(self, state: "FitState") -> None: ...
    def on_step_end(self, state: "FitState", loss: float) -> None: ...
    def on_eval(self, state: "FitState", record: dict) -> None: ...
    def on_train_end(self, state: "FitState") -> None: ...


@dataclass
class FitState:
    """What a callback can see: progress so far, and ``stop`` to request an early end."""

    total_steps: int
    steps_per_epoch: int
    step: int = 0
    epoch: int = 0
    status: str = "running"
    stop: str | None = None
    history: list[dict] = field(default_factory=list)
    step_losses: list[float] = field(default_factory=list)
    train_seconds: float = 0.0


def plan_steps(n_train: int, training: TrainingConfig) -> tuple[int, int]:
    """(updates per epoch, total updates) for a training set of ``n_train`` images."""
    per_epoch = -(-n_train // training.batch_size)
    total = training.iterations if training.iterations else training.epochs * per_epoch
    return per_epoch, total


def fit(model: MLP, optimizer: GradientTransformation, schedule: Schedule,
        x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
        training: TrainingConfig, regularization: RegularizationConfig,
        rng: np.random.Generator, callbacks: tuple[Callback, ...] = ()) -> FitState:
    """Train ``model`` in place; returns the final :class:`FitState`.

    ``x_train`` (N, D), ``y_train`` (N,), ``x_val`` (M, D), ``y_val`` (M,), M may be 0.
    ``rng`` draws each epoch's batch order."""
    n = x_train.shape[0]
    per_epoch, total = plan_steps(n, training)
    state = FitState(total_steps=total, steps_per_epoch=per_epoch)
    params, grads = model.groups(regularization.decay_all)
    opt_state = optimizer.init(params)
    weights = params["decay"]                                  # what the penalty covers
    l2, l1 = regularization.l2, regularization.l1

    def penalty() -> float:
        """½λ₂‖w‖² + λ₁‖w‖₁ over the decayed group (0 without weight decay)."""
        out = 0.5 * l2 * float(np.dot(weights, weights)) if l2 else 0.0
        return out + l1 * float(np.abs(weights).sum()) if l1 else out

    batch = min(training.batch_size, n)
    xbuf = np.empty((batch, x_train.shape[1]), dtype=x_train.dtype)   # (B, k)
    running = training.train_eval == "running"
    accuracy = RunningAccuracy(max(batch, min(n, 1 << 16)), y_train.dtype) if running else None
    has_val = x_val.shape[0] > 0

    sum_loss, n_batches = 0.0, 0
    t_mark = time.perf_counter()

    def evaluate() -> None:
        nonlocal sum_loss, n_batches, t_mark
        now = time.perf_counter()
        state.train_seconds += now - t_mark
        if running:
            correct, seen = accuracy.result()
            train_loss, train_acc = sum_loss / max(n_batches, 1), correct / max(seen, 1)
            accuracy.reset()
        else:
            train_loss, train_acc = model.evaluate(x_train, y_train)
            train_loss += penalty()
        val_loss, val_acc = model.evaluate(x_val, y_val) if has_val else (None, None)
        record = {"epoch": state.epoch, "step": state.step,
                  "train_loss": train_loss, "train_acc": train_acc,
                  "val_loss": val_loss, "val_acc": val_acc,
                  "lr": float(schedule(max(state.step - 1, 0))),
                  "seconds": time.perf_counter() - t_mark}     # training + this evaluation
        state.history.append(record)
        for cb in callbacks:
            cb.on_eval(state, record)
        sum_loss, n_batches = 0.0, 0
        t_mark = time.perf_counter()

    for cb in callbacks:
        cb.on_train_begin(state)
    try:
        while state.step < total and state.stop is None:
            state.epoch += 1
            perm = rng.permutation(n)
            for start in range(0, n, batch):
                idx = perm[start:start + batch]
                # mode="clip": indices are valid, and "raise" would copy through a temporary
                xb = x_train.take(idx, axis=0, out=xbuf[:idx.shape[0]], mode="clip")
                yb = accuracy.gather_labels(y_train, idx) if running else y_train[idx]
                loss = model.loss(xb, yb, training=True)
                if l2 or l1:
                    loss += penalty()
                if not math.isfinite(loss):
                    state.status = "diverged"
                    state.stop = f"loss became {loss} at update {state.step + 1}"
                    break
                model.backward()
                updates, opt_state = optimizer.update(grads, opt_state, params)
                apply_updates(params, updates)
                state.step += 1
                state.step_losses.append(loss)
                sum_loss += loss
                n_batches += 1
                if running:
                    accuracy.add(model.logits)
                for cb in callbacks:
                    cb.on_step_end(state, loss)
                if (training.eval_every and state.step % training.eval_every == 0
                        and state.status == "running"):
                    evaluate()
                if state.step >= total or state.stop is not None:
                    break
            if state.status != "running":
                break                       # diverged or interrupted: no partial record
            if not training.eval_every and n_batches:
                evaluate()
        if training.eval_every and n_batches and state.status == "running":
            evaluate()                      # the last, partial interval
    except KeyboardInterrupt:
        state.status = "interrupted"
        state.stop = "interrupted by the user"
    state.train_seconds += time.perf_counter() - t_mark        # since the last record
    if state.status == "running":
        state.status = "completed"
    for cb in callbacks:
        cb.on_train_end(state)
    return state
