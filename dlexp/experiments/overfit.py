"""The overfitting presets on ``configs/overfit.yaml`` (300 training images, 784-100×6-10
ReLU, 200 epochs; the book's held-out curve is a 10,000-image validation set here, and
the test set is scored once per run, at the end):

    overfit-weight-decay   regularization.l2 = λ (loss + ½λ‖W‖²; label ``l2=<λ>``), or
                           regularization.l1 = λ (loss + λ‖W‖₁; label ``l1=<λ>``)  §6.4
    overfit-dropout        model.dropout = p (label ``dropout=<p>``)                §6.4
    batchnorm-overfit      plain, bn, dropout (p 0.2), bn+dropout                   §6.3.1
    ensemble               K plain networks (K seeds, the same images; checked) and K
                           with dropout, each group's softmax outputs averaged      §6.4

Per variant, averaged over its seeds (final = after the last epoch), in summary.csv and
summary.json under ``"gaps"``:

    gap_val  = final train accuracy − final validation accuracy
    gap_test = final train accuracy − test accuracy

The ensemble's prediction is p̄_K(x) = (1/K) Σ_k p_k(x), ŷ(x) = argmax_c p̄_K(x)_c, with K
fixed beforehand (``--members``): nothing is chosen on the test set. ensemble.csv holds
the validation accuracy of the first k members averaged, k = 1…K; per group, summary.csv
and summary.json (``"ensemble"``) gain member_val_acc, ensemble_val_acc,
member_test_min, member_test_max and ensemble_test_acc.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import yaml

from dlexp import book
from dlexp.config import Config, config_from_dict, load_config
from dlexp.errors import ConfigError
from dlexp.experiments.aggregate import CompareResult, extend_summary, label_means, write_table
from dlexp.experiments.sweep import Sweep
from dlexp.experiments.variants import (Variant, check_vary_keys, seeded, split_list,
                                        variant_config)
from dlexp.nn.model import MLP
from dlexp.train.runner import load_splits, split_seed

CONFIG = "overfit"
DECAY = "overfit-weight-decay"
DROPOUT = "overfit-dropout"
BN_OVERFIT = "batchnorm-overfit"
ENSEMBLE = "ensemble"
ACCURACIES = ("final_train_acc", "final_val_acc", "test_acc")
CURVE_COLUMNS = ["label", "members", "val_acc", "member_val_acc"]      # ensemble.csv
BN_SETUPS = {"plain": {"model.batchnorm": False, "model.dropout": 0.0},
             "bn": {"model.batchnorm": True, "model.dropout": 0.0},
             "dropout": {"model.batchnorm": False, "model.dropout": 0.2},
             "bn+dropout": {"model.batchnorm": True, "model.dropout": 0.2}}


def parse_values(text: str, option: str) -> list[float]:
    """``"0,0.1"`` → ``[0.0, 0.1]``, none twice (the config checks their range)."""
    values = []
    for item in (split_list(text, f"{option} {text!r}") if text.strip() else []):
        try:
            values.append(float(yaml.safe_load(item)))
        except (yaml.YAMLError, TypeError, ValueError):
            raise ConfigError(f"{option} {text!r}: {item!r} is not a number") from None
    twice = [v for v in values if values.count(v) > 1]    # 0.1 and 0.10: one variant
    if twice:
        raise ConfigError(f"{option} {text!r}: {twice[0]:g} is given twice; remove one")
    return values


def _one_key(base: Mapping, key: str, option: str, text: str, seeds: Sequence[int] | None
             ) -> list[Variant]:
    """``key = v`` for each value ``option`` gives (``text``) × seeds, labelled ``l2=0.1``
    (the key's last part); a value the config refuses is named with ``option``."""
    values = parse_values(text, option)
    check_vary_keys(base, {key: values}, option)
    return seeded({f"{key.rsplit('.', 1)[-1]}={v:g}": {key: v} for v in values}, seeds)


def _plan(name: str, variants: Sequence[Variant]) -> Sweep:
    """With the gaps and the training-vs-validation figure."""
    return Sweep(name, variants, analyse=(report_gaps,),
                 figures=("comparison", "sub_runs", "train_val"),
                 columns=("status", *ACCURACIES, "gap_val", "gap_test"))


def decay_plan(base: Mapping, seeds: Sequence[int] | None, l2: str = book.L2, l1: str = ""
               ) -> Sweep:
    """``overfit-weight-decay``: one variant per L2 strength (``"0,0.1"``), then per L1
    strength, × seeds."""
    return _plan(DECAY, _one_key(base, "regularization.l2", "--l2", l2, seeds)
                 + _one_key(base, "regularization.l1", "--l1", l1, seeds))


def dropout_plan(base: Mapping, seeds: Sequence[int] | None, dropout: str = book.DROPOUTS
                 ) -> Sweep:
    """``overfit-dropout``: one variant per dropout probability (``"0,0.15,0.2"``) × seeds."""
    return _plan(DROPOUT, _one_key(base, "model.dropout", "--dropout", dropout, seeds))


def bn_overfit_plan(base: Mapping, seeds: Sequence[int] | None) -> Sweep:
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


def ensemble_plan(base: Mapping, seeds: Sequence[int] | None,
                  members: int = book.ENSEMBLE_MEMBERS,
                  dropout: float = book.ENSEMBLE_DROPOUT) -> Sweep:
    """``members`` plain networks and as many with ``dropout`` (0: none), seeds from the
    base's (checked to share their images; ``seeds`` is not used), with the gap and
    ensemble analyses."""
    check_vary_keys(base, {"model.dropout": [dropout]}, "--dropout")
    specs = {"plain": {"model.dropout": 0.0}}
    if dropout > 0:
        specs[f"dropout={dropout:g}"] = {"model.dropout": dropout}
    seed = config_from_dict(base, "base config").seed
    variants = seeded(specs, list(range(seed, seed + members)))
    check_same_split([variant_config(base, v) for v in variants])
    return Sweep(ENSEMBLE, variants, analyse=(report_gaps, evaluate_ensembles),
                 figures=("comparison", "sub_runs", "ensemble", "train_val"),
                 columns=("members", "member_val_acc", "test_acc", "gap_test",  # per member
                          "ensemble_val_acc", "ensemble_test_acc"))


def load_model(run_dir: Path, cfg: Config) -> MLP:
    """The trained network of a run folder (its model.npz) that ``cfg`` built."""
    with np.load(Path(run_dir) / "model.npz") as f:
        state = dict(f)
    last = f"W{len(cfg.model.hidden) + 1}"                  # the output layer's weights
    model = MLP(cfg.model, state["W1"].shape[0], state[last].shape[1],
                np.random.default_rng(0), np.dtype(cfg.dtype))     # weights replaced below
    model.load_state(state)
    return model


def average_proba(probas: Sequence[np.ndarray]) -> np.ndarray:
    """p̄ = mean of the members' (N, C) softmax outputs, (N, C)."""
    return np.mean(np.stack([np.asarray(p, dtype=np.float64) for p in probas]), axis=0)


def accuracy(proba: np.ndarray, y: np.ndarray) -> float | None:
    """Accuracy of argmax_c proba (N, C) against labels (N,); None for an empty set."""
    return float(np.mean(proba.argmax(axis=1) == y)) if len(y) else None


def check_same_split(configs: Sequence[Config]) -> None:
    """Raise ConfigError unless all ``configs`` train and validate on the same images."""
    keys = {(c.data.val_size, c.data.train_size, c.data.subset, c.data.stratify,
             split_seed(c) if c.data.val_size != 0 or c.data.subset == "random" else None)
            for c in configs}                # (without a random split the seed draws nothing)
    if len(keys) > 1:
        raise ConfigError("ensemble members would train on different images (the split "
                          "follows each seed); fix it with --set data.split_seed=0")


def evaluate_ensembles(result: CompareResult) -> CompareResult:
    """Ensemble each variant's completed runs (module docstring); write ensemble.csv and
    the summary columns."""
    done = [r for r in result.runs if r["status"] == "completed"]
    if not done:
        return result
    configs = [load_config(result.dir / r["run"] / "config.yaml") for r in done]
    check_same_split(configs)
    splits = load_splits(configs[0], progress=False)
    groups: dict[str, list[MLP]] = {}
    for r, cfg in zip(done, configs):
        groups.setdefault(r["label"], []).append(load_model(result.dir / r["run"], cfg))
    curve, columns = [], {}
    for label, group in groups.items():
        val = [m.predict_proba(splits.x_val) for m in group]        # K × (N_val, C)
        test = [m.predict_proba(splits.x_test) for m in group]      # K × (N_test, C)
        for k in range(1, len(group) + 1):
            curve.append({"label": label, "members": k,
                          "val_acc": accuracy(average_proba(val[:k]), splits.y_val),
                          "member_val_acc": accuracy(val[k - 1], splits.y_val)})
        own_val = [accuracy(p, splits.y_val) for p in val]
        own_test = [accuracy(p, splits.y_test) for p in test]
        columns[label] = {
            "members": len(group),
            "member_val_acc": float(np.mean(own_val)) if splits.y_val.size else None,
            "ensemble_val_acc": accuracy(average_proba(val), splits.y_val),
            "member_test_min": min(own_test), "member_test_max": max(own_test),
            "ensemble_test_acc": accuracy(average_proba(test), splits.y_test)}
    write_table(result.dir / "ensemble.csv", curve, CURVE_COLUMNS)
    return extend_summary(result, columns, {"ensemble": columns})
