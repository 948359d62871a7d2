"""Running training accuracy, counted in bulk.

    accuracy = (1/S) Σ_s [argmax_c z_sc = y_s]      over the S images seen since a reset

Each step's labels are gathered straight into the next slots of one buffer and its
predictions (argmax of the logits) written into the same slots of another; ``result``
compares the filled slots in one pass. A step thus costs one NumPy call besides the
label gather it replaces (three when comparing and counting per batch: at batch 100,
called between the large matrix products, each small call costs microseconds).
"""

from __future__ import annotations

import numpy as np


class RunningAccuracy:
    """Correct predictions over the batches given since the last ``reset``."""

    def __init__(self, capacity: int, label_dtype: np.dtype) -> None:
        self.labels = np.empty(capacity, dtype=label_dtype)     # (capacity,)
        self.preds = np.empty(capacity, dtype=np.intp)          # (capacity,)
        self.filled = 0                # slots holding a batch not yet counted
        self.correct = 0
        self.seen = 0

    def gather_labels(self, y: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """``y[idx]``, written into the next free slots; pass the logits of this batch
        to ``add`` before gathering the next one."""
        n = idx.shape[0]
        if self.filled + n > self.labels.shape[0]:
            self._count()
        # mode="clip": indices are valid, and "raise" would copy through a temporary
        return y.take(idx, out=self.labels[self.filled:self.filled + n], mode="clip")

    def add(self, logits: np.ndarray) -> None:
        """Record the predictions for the labels gathered last; logits (N, C)."""
        n = logits.shape[0]
        logits.argmax(axis=1, out=self.preds[self.filled:self.filled + n])
        self.filled += n

    def result(self) -> tuple[int, int]:
        """(correct, seen) since the last reset."""
        self._count()
        return self.correct, self.seen

    def reset(self) -> None:
        self.filled = self.correct = self.seen = 0

    def _count(self) -> None:
        k = self.filled
        self.correct += int(np.count_nonzero(self.preds[:k] == self.labels[:k]))
        self.seen += k
        self.filled = 0
