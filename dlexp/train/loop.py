"""The one training loop, :func:`fit`; everything that trains calls it and listens
through callbacks.

After each epoch, or every ``eval_every`` updates, a record ``{epoch, step, train_loss,
train_acc, val_loss, val_acc, lr, seconds}`` is made: ``train_loss`` is the objective
(cross-entropy plus ½λ₂‖W‖² + λ₁‖W‖₁) on the whole training set in inference mode, or
with ``train_eval="running"`` the mean over the minibatches since the last record;
``val_loss`` is cross-entropy alone.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Iterator

import numpy as np

from dlexp.nn.model import MLP
from dlexp.optim.transforms import GradientTransformation, Schedule, apply_updates


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


def plan_steps(n_train: int, batch_size: int, epochs: int, iterations: int | None = None
               ) -> tuple[int, int]:
    """(updates per epoch, total updates) for a training set of ``n_train`` images."""
    per_epoch = -(-n_train // batch_size)
    return per_epoch, iterations or epochs * per_epoch


def batches(n: int, batch_size: int, total: int, rng: np.random.Generator,
            with_replacement: bool = False) -> Iterator[np.ndarray]:
    """``total`` minibatch index arrays, epoch after epoch: each epoch a fresh permutation
    cut in batches (the last, smaller one included), or (``with_replacement``, the book's
    ``np.random.choice``) ⌈n / batch_size⌉ batches drawn anew."""
    per_epoch = -(-n // batch_size)
    for step in range(total):
        start = step % per_epoch * batch_size
        if with_replacement:
            yield rng.integers(0, n, batch_size)                # (B,)
            continue
        if start == 0:                                          # a new epoch
            perm = rng.permutation(n)                           # (n,)
        yield perm[start:start + batch_size]


def penalty(weights: np.ndarray, l2: float, l1: float) -> float:
    """½λ₂‖w‖² + λ₁‖w‖₁ (0 without weight decay)."""
    return ((0.5 * l2 * float(np.dot(weights, weights)) if l2 else 0.0)
            + (l1 * float(np.abs(weights).sum()) if l1 else 0.0))


class EarlyStopping(Callback):
    """Stop when val_acc has not gained ``min_delta`` for ``patience`` evaluations in a row."""

    def __init__(self, patience: int, min_delta: float = 0.0) -> None:
        self.patience, self.min_delta, self.best, self.waited = patience, min_delta, None, 0

    def on_eval(self, state: FitState, record: dict) -> None:
        acc = record.get("val_acc")
        if acc is not None and (self.best is None or acc > self.best + self.min_delta):
            self.best, self.waited = acc, 0
        elif acc is not None:
            self.waited += 1
            if self.waited >= self.patience:
                state.stop = (f"early stopping: no gain in val_acc for {self.patience} "
                              f"evaluation{'s' * (self.patience != 1)}")


class Recorder:
    """Makes the evaluation records and hands them to the callbacks. Counts the training
    time between records (``stop_clock``) and, for ``running`` means, the batches since
    the last: loss = (1/B) Σ_b L_b, accuracy = (1/S) Σ_s [argmax z_s = y_s]."""

    def __init__(self, model: MLP, train: tuple, val: tuple, schedule: Schedule, penalty,
                 running: bool, callbacks: tuple[Callback, ...]) -> None:
        self.model, self.train, self.val, self.schedule = model, train, val, schedule
        self.penalty, self.running, self.callbacks = penalty, running, callbacks
        self.since = self.correct = self.seen = 0         # records' step, counts since
        self.mark = time.perf_counter()

    def add(self, state: FitState, loss: float, logits: np.ndarray, labels: np.ndarray) -> None:
        """One update's loss, and its batch's logits (N, C) and labels (N,)."""
        state.step_losses.append(loss)
        if self.running:
            self.correct += int(np.count_nonzero(logits.argmax(axis=1) == labels))
            self.seen += len(labels)

    def stop_clock(self, state: FitState) -> None:
        state.train_seconds += time.perf_counter() - self.mark

    def __call__(self, state: FitState) -> None:
        self.stop_clock(state)
        if self.running:
            losses = state.step_losses[self.since:]
            train_loss, train_acc = sum(losses) / len(losses), self.correct / self.seen
        else:
            train_loss, train_acc = self.model.evaluate(*self.train)
            train_loss += self.penalty()
        val_loss, val_acc = self.model.evaluate(*self.val) if len(self.val[0]) else (None, None)
        record = {"epoch": state.epoch, "step": state.step,
                  "train_loss": train_loss, "train_acc": train_acc,
                  "val_loss": val_loss, "val_acc": val_acc,
                  "lr": float(self.schedule(max(state.step - 1, 0))),
                  "seconds": time.perf_counter() - self.mark}  # training + this evaluation
        state.history.append(record)
        for cb in self.callbacks:
            cb.on_eval(state, record)
        self.since, self.correct, self.seen = state.step, 0, 0
        self.mark = time.perf_counter()


def fit(model: MLP, optimizer: GradientTransformation, schedule: Schedule, x_train: np.ndarray,
        y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray, *, rng: np.random.Generator,
        batch_size: int = 100, epochs: int = 10, iterations: int | None = None,
        eval_every: int | None = None, l2: float = 0.0, l1: float = 0.0, decay_all: bool = False,
        train_eval: str = "full", loss_after_update: bool = False,
        sample_with_replacement: bool = False, callbacks: tuple[Callback, ...] = ()) -> FitState:
    """Train ``model`` in place on x_train (N, D), y_train (N,); x_val (M, D), y_val (M,)
    may be empty. ``rng`` draws the batches. A callback ends training by setting
    ``state.stop``; a non-finite loss ends it as ``diverged``."""
    per_epoch, total = plan_steps(len(x_train), batch_size, epochs, iterations)
    state = FitState(total_steps=total, steps_per_epoch=per_epoch)
    params, grads = model.groups(decay_all)
    opt_state = optimizer.init(params)
    weight_penalty = partial(penalty, params["decay"], l2, l1)   # on the decayed group
    record = Recorder(model, (x_train, y_train), (x_val, y_val), schedule, weight_penalty,
                      train_eval == "running", callbacks)
    for cb in callbacks:
        cb.on_train_begin(state)
    try:
        for idx in batches(len(x_train), batch_size, total, rng, sample_with_replacement):
            if state.stop is not None:
                break
            state.epoch = state.step // per_epoch + 1
            xb, yb = x_train[idx], y_train[idx]                       # batch
            loss = model.loss(xb, yb) + weight_penalty()              # forward, loss
            if not math.isfinite(loss):
                state.status = "diverged"
                state.stop = f"loss became {loss} at update {state.step + 1}"
                break
            model.backward()                                          # backward
            updates, opt_state = optimizer.update(grads, opt_state, params)
            apply_updates(params, updates)                            # update
            if loss_after_update:                                     # the book's record
                loss = model.loss(xb, yb, training=False) + weight_penalty()
            state.step += 1
            record.add(state, loss, model.logits, yb)
            for cb in callbacks:                                      # callbacks
                cb.on_step_end(state, loss)
            due = state.step % (eval_every or per_epoch) == 0 or state.step == total
            if state.status == "running" and (due or state.stop is not None):
                record(state)                                         # evaluate
    except KeyboardInterrupt:
        state.status, state.stop = "interrupted", "interrupted by the user"
    record.stop_clock(state)                                          # since the last record
    state.status = "completed" if state.status == "running" else state.status
    for cb in callbacks:
        cb.on_train_end(state)
    return state
