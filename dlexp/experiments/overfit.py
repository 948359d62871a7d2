"""The overfitting presets on ``configs/overfit.yaml`` (300 training images, 784-100×6-10
ReLU, 200 epochs; the book's held-out curve is a 10,000-image validation set here, and
the test set is scored once per run, at the end):

    overfit-weight-decay   regularization.l2 = λ (loss + ½λ‖W‖²; label ``l2=<λ>``), or
                           regularization.l1 = λ (loss + λ‖W‖₁; label ``l1=<λ>``)  §6.4
    overfit-dropout        model.dropout = p (label ``dropout=<p>``)                §6.4
    batchnorm-overfit      plain, bn, dropout (p 0.2), bn+dropout                   §6.3.1

Per variant, averaged over its seeds (final = after the last epoch), in summary.csv and
summary.json under ``"gaps"``:

    gap_val  = final train accuracy − final validation accuracy
    gap_test = final train accuracy − test accuracy
"""

from __future__ import annotations

from typing import Sequence

import yaml

from dlexp.errors import ConfigError
from dlexp.experiments.aggregate import CompareResult, extend_summary, label_means
from dlexp.experiments.sweep import Sweep
from dlexp.experiments.variants import Variant, seeded, split_list

CONFIG = "overfit"
DECAY = "overfit-weight-decay"
DROPOUT = "overfit-dropout"
BN_OVERFIT = "batchnorm-overfit"
ACCURACIES = ("final_train_acc", "final_val_acc", "test_acc")
BN_SETUPS = {"plain": {"model.batchnorm": False, "model.dropout": 0.0},
             "bn": {"model.batchnorm": True, "model.dropout": 0.0},
             "dropout": {"model.batchnorm": False, "model.dropout": 0.2},
             "bn+dropout": {"model.batchnorm": True, "model.dropout": 0.2}}


def parse_values(text: str, option: str) -> list[float]:
    """``"0,0.1"`` → ``[0.0, 0.1]`` (the config checks their range)."""
    values = []
    for item in (split_list(text, f"{option} {text!r}") if text.strip() else []):
        try:
            values.append(float(yaml.safe_load(item)))
        except (yaml.YAMLError, TypeError, ValueError):
            raise ConfigError(f"{option} {text!r}: {item!r} is not a number") from None
    return values


def _one_key(key: str, values: Sequence[float], seeds: Sequence[int] | None
             ) -> list[Variant]:
    """``key = v`` for each value × seeds, labelled ``l2=0.1`` (the key's last part)."""
    return seeded({f"{key.rsplit('.', 1)[-1]}={v:g}": {key: v} for v in values}, seeds)


def _plan(name: str, variants: Sequence[Variant]) -> Sweep:
    """With the gaps and the training-vs-validation figure."""
    return Sweep(name, variants, analyse=(report_gaps,),
                 figures=("comparison", "sub_runs", "train_val"),
                 columns=("status", *ACCURACIES, "gap_val", "gap_test"))


def decay_plan(l2: str, l1: str, seeds: Sequence[int] | None) -> Sweep:
    """``overfit-weight-decay``: one variant per L2 strength (``"0,0.1"``), then per L1
    strength, × seeds."""
    return _plan(DECAY, _one_key("regularization.l2", parse_values(l2, "--l2"), seeds)
                 + _one_key("regularization.l1", parse_values(l1, "--l1"), seeds))


def dropout_plan(rates: str, seeds: Sequence[int] | None) -> Sweep:
    """``overfit-dropout``: one variant per dropout probability (``"0,0.15,0.2"``) × seeds."""
    return _plan(DROPOUT, _one_key("model.dropout", parse_values(rates, "--dropout"),
                                   seeds))


def bn_overfit_plan(seeds: Sequence[int] | None) -> Sweep:
    """``batchnorm-overfit``: does batch norm overfit less (§6.3.1)?"""
    return Sweep(BN_OVERFIT, seeded(BN_SETUPS, seeds), analyse=(report_gaps,),
                 figures=("comparison", "train_val"), columns=("status", *ACCURACIES, "gap_val"))


def report_gaps(result: CompareResult) -> CompareResult:
    """The final accuracies and gaps per variant into summary.csv and summary.json."""
    minus = lambda a, b: a - b if a is not None and b is not None else None  # noqa: E731
    columns = {label: {**m, "gap_val": minus(m["final_train_acc"], m["final_val_acc"]),
                       "gap_test": minus(m["final_train_acc"], m["test_acc"])}
               for label, m in label_means(result.dir, result.runs, ACCURACIES).items()}
    return extend_summary(result, columns, {"gaps": columns})
