"""Callbacks for :func:`dlexp.train.loop.fit`: early stopping and writing metrics."""

from __future__ import annotations

from pathlib import Path

from dlexp.io import append_jsonl
from dlexp.train.loop import Callback, FitState


class EarlyStopping(Callback):
    """Stop when validation accuracy has not improved by ``min_delta`` for ``patience``
    evaluations in a row."""

    def __init__(self, patience: int, min_delta: float = 0.0) -> None:
        self.patience, self.min_delta = patience, min_delta
        self.best: float | None = None
        self.waited = 0

    def on_eval(self, state: FitState, record: dict) -> None:
        acc = record.get("val_acc")
        if acc is None:
            return
        if self.best is None or acc > self.best + self.min_delta:
            self.best, self.waited = acc, 0
            return
        self.waited += 1
        if self.waited >= self.patience:
            state.stop = (f"early stopping: no gain in val_acc for {self.patience} evaluation"
                          + ("s" if self.patience != 1 else ""))


class MetricsWriter(Callback):
    """Append each evaluation record to ``metrics.jsonl``, one complete line at a time."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def on_train_begin(self, state: FitState) -> None:
        self.path.touch()                  # present (maybe empty) even if no epoch ends

    def on_eval(self, state: FitState, record: dict) -> None:
        append_jsonl(self.path, record)
