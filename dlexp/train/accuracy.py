"""Running training metrics (``train_eval: running``): the mean minibatch loss and the
accuracy over the images seen since the last record, at the weights each batch saw.

    loss = (1/B) Σ_b L_b,    accuracy = (1/S) Σ_s [argmax_c z_sc = y_s]
"""

from __future__ import annotations

import numpy as np


class RunningMeans:
    """Sums of losses, batches, correct predictions and images since the last ``result``."""

    def __init__(self) -> None:
        self.loss, self.batches, self.correct, self.seen = 0.0, 0, 0, 0

    def add(self, loss: float, logits: np.ndarray, labels: np.ndarray) -> None:
        """One batch: its loss, logits (N, C) and labels (N,)."""
        self.loss += loss
        self.batches += 1
        self.correct += int(np.count_nonzero(logits.argmax(axis=1) == labels))
        self.seen += len(labels)

    def result(self) -> tuple[float, float]:
        """(mean loss, accuracy) since the last call, then start counting anew."""
        out = self.loss / max(self.batches, 1), self.correct / max(self.seen, 1)
        self.__init__()
        return out
