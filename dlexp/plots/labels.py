"""Axis labels that say what a curve measured, read from the runs' ``config.yaml``.

The training loss and accuracy of a record (:mod:`dlexp.train.loop`) depend on settings:

* ``training.train_eval: full`` (the default): on the whole training set at the
  record's weights; ``running``: the mean over the minibatches since the previous
  evaluation (dropout on);
* with weight decay (``regularization.l2`` or ``l1`` > 0) the training loss is the
  *objective*: cross-entropy plus the penalty ½λ₂‖W‖² + λ₁‖W‖₁ (validation loss is
  cross-entropy alone).

    metric_parts("train_loss", run_dirs)
    # ('training loss', 'whole training set')
    minibatch_loss_label(has_weight_decay(run_dirs))
    # 'training objective: loss + weight-decay penalty (minibatch)'
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from dlexp.train.rundir import has_weight_decay, train_evals

METRIC_NAMES = {"train_loss": "training loss", "train_acc": "training accuracy",
                "val_loss": "validation loss", "val_acc": "validation accuracy"}
TRAIN_EVAL = {"full": "whole training set",
              "running": "mean since the previous evaluation"}
OBJECTIVE = "training objective: loss + weight-decay penalty"


def metric_parts(metric: str, run_dirs: Iterable[Path]) -> tuple[str, str]:
    """(what, how) of ``metric`` (a key of :data:`METRIC_NAMES`) over these runs: what
    was measured (a training loss with weight decay is the :data:`OBJECTIVE`), and, for
    a training metric, where — or that the runs differ ("" for validation metrics)."""
    run_dirs = list(run_dirs)
    what = METRIC_NAMES[metric]
    if not metric.startswith("train_"):
        return what, ""
    if metric == "train_loss" and has_weight_decay(run_dirs):
        what = OBJECTIVE
    modes = train_evals(run_dirs)
    if len(modes) == 1 and next(iter(modes)) in TRAIN_EVAL:
        return what, TRAIN_EVAL[next(iter(modes))]
    return what, "whole set or running mean: training.train_eval differs"


def minibatch_loss_label(decay: bool) -> str:
    """The y label of per-update minibatch losses; ``decay``: any run had weight decay
    (:func:`has_weight_decay`), so they are the objective."""
    return f"{OBJECTIVE if decay else 'training loss'} (minibatch)"
