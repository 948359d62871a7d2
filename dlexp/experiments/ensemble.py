"""The ``ensemble`` preset: K independently trained networks, their softmax outputs
averaged, against one network trained with dropout (the link the book draws in §6.4).

Members are the same config (``configs/overfit.yaml``: 300 training images, 6×100 ReLU)
with K different seeds — different initial weights and batch orders, the *same* 300
images (``data.split_seed``; checked here). With p_k(x) member k's softmax output in
inference mode,

    p̄_K(x) = (1/K) Σ_{k=1..K} p_k(x),    ŷ(x) = argmax_c p̄_K(x)_c,
    accuracy = mean over the set of [ŷ(x) = y]

The K networks without dropout are the variant ``plain``; the dropout variant
(``dropout=<p>``) is trained with the same K seeds and ensembled the same way, so the
table shows: one plain network (mean over seeds), K plain networks averaged, one
dropout network (mean), K dropout networks averaged.

Nothing is chosen on the test set: K is fixed beforehand (``--members``). p_k is computed
once per model on the validation and on the test set (the model the run scored once at
its end, unchanged since, so a member's accuracy from p_k is its ``test_acc``);
``ensemble.csv`` holds the
validation accuracy of the first k members averaged, k = 1…K (the curve of the figure),
and the test set scores only the full ensemble. Per group, summary.csv gains
``member_val_acc``, ``ensemble_val_acc``, ``member_test_min``, ``member_test_max`` and
``ensemble_test_acc`` (``test_acc`` is the members' mean); summary.json the same under
``"ensemble"``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Sequence

import numpy as np

from dlexp.config import Config, config_from_dict, load_config
from dlexp.errors import ConfigError
from dlexp.experiments.aggregate import extend_summary, write_table
from dlexp.experiments.sweep import CompareResult, Sweep
from dlexp.experiments.variants import Variant, seeded, variant_config
from dlexp.experiments.overfit import report_gaps
from dlexp.nn.model import MLP
from dlexp.train.runner import load_splits
from dlexp.train.setup import split_seed

NAME = "ensemble"
CONFIG = "overfit"
LABEL_COLUMN = "variant"
PLAIN = "plain"
CURVE_COLUMNS = ["label", "members", "val_acc", "member_val_acc"]


def ensemble_variants(members: int, dropout: float, seed: int = 0) -> list[Variant]:
    """``members`` plain networks and as many with ``dropout`` (0: none), seeds seed…"""
    if members < 1:
        raise ConfigError(f"--members {members}: must be at least 1")
    if not 0 <= dropout < 1:
        raise ConfigError(f"--dropout {dropout}: a probability in [0, 1)")
    seeds = list(range(seed, seed + members))
    out = seeded(PLAIN, {"model.dropout": 0.0}, seeds)
    if dropout > 0:
        out += seeded(f"dropout={dropout:g}", {"model.dropout": dropout}, seeds)
    return out


def plan(base: dict, members: int, dropout: float) -> Sweep:
    """The preset's comparison (members checked to share their images), with the gap and
    ensemble analyses and their figures, for ``run_and_report``."""
    variants = ensemble_variants(members, dropout, config_from_dict(base, "base config").seed)
    check_same_split([variant_config(base, v) for v in variants])
    return Sweep(NAME, variants, LABEL_COLUMN, analyse=(report_gaps, evaluate_ensembles),
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


def split_key(cfg: Config) -> tuple:
    """What fixes a run's training/validation split (two runs agree ⇔ same images)."""
    d = cfg.data
    random = d.val_size != 0 or d.subset == "random"       # else the seed draws nothing
    return (d.val_size, d.train_size, d.subset, d.stratify,
            split_seed(cfg) if random else None)


def check_same_split(configs: Sequence[Config]) -> None:
    """Raise ConfigError unless all ``configs`` train and validate on the same images."""
    if len({split_key(c) for c in configs}) > 1:
        raise ConfigError("ensemble members would train on different images (the split "
                          "follows each seed); fix it with --set data.split_seed=0")


def evaluate_ensembles(result: CompareResult, label_column: str = LABEL_COLUMN
                       ) -> CompareResult:
    """Ensemble each variant's completed runs (module docstring); write ensemble.csv and
    the summary columns; the result with the new summary."""

    done = [r for r in result.runs if r["status"] == "completed"]
    if not done:
        return result
    configs = [load_config(result.dir / r["run"] / "config.yaml") for r in done]
    check_same_split(configs)
    splits = load_splits(configs[0], progress=False)
    groups: dict[str, list[MLP]] = {}
    for r, cfg in zip(done, configs):
        groups.setdefault(r["label"], []).append(
            load_model(result.dir / r["run"], cfg))
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
    rows = extend_summary(result.dir, result.summary, label_column, columns,
                          {"ensemble": columns})
    return dataclasses.replace(result, summary=rows)
