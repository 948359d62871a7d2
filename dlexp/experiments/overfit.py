"""The overfitting presets: ``overfit-weight-decay`` and ``overfit-dropout`` (§6.4).

Base config ``configs/overfit.yaml``: 300 training images, a 784-100×6-10 ReLU network,
SGD lr 0.01, batch 100, 200 epochs. The book plots training against *test* accuracy
after every epoch; here the held-out curve is a 10,000-image validation set (carved
from the first 10,300 training images, which leaves exactly 300 to train on, the same
300 for every seed), and the test set is scored once per run, at the end.

Variants:

    overfit-weight-decay   regularization.l2 = λ ∈ {0, 0.1}: loss + ½λ‖W‖²  (``l2=<λ>``)
                           optionally regularization.l1 = λ: loss + λ‖W‖₁  (``l1=<λ>``)
    overfit-dropout        model.dropout = p ∈ {0, 0.15, 0.2}             (``dropout=<p>``)

The gap. For each variant, averaged over its seeds (final = after the last epoch):

    gap_val  = final train accuracy − final validation accuracy
    gap_test = final train accuracy − test accuracy

in summary.csv (with the three accuracies) and in summary.json under ``"gaps"``.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import yaml

from dlexp.errors import ConfigError
from dlexp.experiments.aggregate import extend_summary, label_means
from dlexp.experiments.sweep import CompareResult, Sweep
from dlexp.experiments.variants import Variant, grid


CONFIG = "overfit"
DECAY = "overfit-weight-decay"
DROPOUT = "overfit-dropout"
LABEL_COLUMN = "variant"
ACCURACIES = ("final_train_acc", "final_val_acc", "test_acc")


def parse_values(text: str, option: str, high: float | None = None) -> list[float]:
    """``"0,0.1"`` → ``[0.0, 0.1]``: numbers ≥ 0 (and < ``high``), none twice."""
    if not text.strip():
        return []
    values = []
    for item in (p.strip() for p in text.split(",")):
        try:
            v = float(yaml.safe_load(item))
        except (yaml.YAMLError, TypeError, ValueError):
            raise ConfigError(f"{option} {text!r}: {item!r} is not a number") from None
        if v < 0 or (high is not None and v >= high):
            bound = f" and below {high:g}" if high is not None else ""
            raise ConfigError(f"{option} {text!r}: {item} must be ≥ 0{bound}")
        values.append(v)
    if len(set(values)) != len(values):
        raise ConfigError(f"{option} {text!r}: a value is given twice")
    return values


def decay_variants(l2: Sequence[float], l1: Sequence[float] = (),
                   seeds: Sequence[int] | None = None) -> list[Variant]:
    """One variant per L2 strength, then per L1 strength, × seeds."""
    return [v for key, values in (("regularization.l2", l2), ("regularization.l1", l1))
            if values for v in grid({key: list(values)}, seeds, label=_short_label)]


def dropout_variants(rates: Sequence[float], seeds: Sequence[int] | None = None
                     ) -> list[Variant]:
    """One variant per dropout probability × seeds."""
    return grid({"model.dropout": list(rates)}, seeds, label=_short_label)


def _short_label(overrides: dict) -> str:
    """``{"regularization.l2": 0.1}`` → ``l2=0.1``."""
    ((key, value),) = overrides.items()
    return f"{key.rsplit('.', 1)[-1]}={value:g}"


def plan(name: str, variants: Sequence[Variant]) -> Sweep:
    """An overfitting comparison (``name``: DECAY or DROPOUT) with the gap analysis and
    the training-vs-validation figure, for ``run_and_report``."""
    return Sweep(name, variants, LABEL_COLUMN, analyse=(report_gaps,),
                figures=("comparison", "sub_runs", "train_val"),
                columns=("status", *ACCURACIES, "gap_val", "gap_test"))


def report_gaps(result: CompareResult, label_column: str = LABEL_COLUMN) -> CompareResult:
    """Add the final accuracies and the gaps per variant (module docstring) to
    summary.csv and summary.json; the result with the new summary."""
    means = label_means(result.dir, result.runs, ACCURACIES)
    columns = {label: {**m, "gap_val": _minus(m["final_train_acc"], m["final_val_acc"]),
                       "gap_test": _minus(m["final_train_acc"], m["test_acc"])}
               for label, m in means.items()}
    rows = extend_summary(result.dir, result.summary, label_column, columns,
                          {"gaps": columns})
    return dataclasses.replace(result, summary=rows)


def _minus(a: float | None, b: float | None) -> float | None:
    return a - b if a is not None and b is not None else None
