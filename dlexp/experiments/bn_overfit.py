"""The ``batchnorm-overfit`` preset: does batch norm overfit less? (§6.3.1 lists "less
overfitting (less need for dropout)" among its advantages.)

Base config ``configs/overfit.yaml`` — the book's overfitting setup: 300 training
images, 784-100×6-10 ReLU, SGD lr 0.01, batch 100, 200 epochs, a 10,000-image held-out
validation set scored after every epoch and the test set once at the end. Four
variants: ``plain``, ``bn`` (batch norm before every ReLU), ``dropout`` (p = 0.2) and
``bn+dropout``. The gap per variant (:func:`~dlexp.experiments.overfit.report_gaps`):

    gap_val = final train accuracy − final validation accuracy
"""

from __future__ import annotations

from typing import Sequence

from dlexp.experiments.overfit import ACCURACIES, report_gaps
from dlexp.experiments.sweep import Sweep
from dlexp.experiments.variants import Variant, seeded

NAME = "batchnorm-overfit"
CONFIG = "overfit"
LABEL_COLUMN = "variant"
DROPOUT = 0.2
SETUPS = {"plain": {"model.batchnorm": False, "model.dropout": 0.0},
          "bn": {"model.batchnorm": True, "model.dropout": 0.0},
          "dropout": {"model.batchnorm": False, "model.dropout": DROPOUT},
          "bn+dropout": {"model.batchnorm": True, "model.dropout": DROPOUT}}


def bn_overfit_variants(seeds: Sequence[int] | None) -> list[Variant]:
    """plain, bn, dropout and bn+dropout × seeds."""
    return [v for label, o in SETUPS.items() for v in seeded(label, o, seeds)]


def plan(seeds: Sequence[int] | None) -> Sweep:
    """The preset's comparison with the gap analysis, for ``run_and_report``."""
    return Sweep(NAME, bn_overfit_variants(seeds), LABEL_COLUMN, analyse=(report_gaps,),
                figures=("comparison", "train_val"),
                columns=("status", *ACCURACIES, "gap_val"))
