"""The ``ensemble`` preset (§6.4): K networks with K seeds on the same 300 images
(``configs/overfit.yaml``; checked), their softmax outputs averaged, against as many
trained with dropout and averaged the same way:

    p̄_K(x) = (1/K) Σ_k p_k(x),    ŷ(x) = argmax_c p̄_K(x)_c

K is fixed beforehand (``--members``): nothing is chosen on the test set. ensemble.csv
holds the validation accuracy of the first k members averaged, k = 1…K; per group,
summary.csv and summary.json (``"ensemble"``) gain member_val_acc, ensemble_val_acc,
member_test_min, member_test_max and ensemble_test_acc.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from dlexp.config import Config, config_from_dict, load_config
from dlexp.errors import ConfigError
from dlexp.experiments.aggregate import CompareResult, extend_summary, write_table
from dlexp.experiments.sweep import Sweep
from dlexp.experiments.variants import seeded, variant_config
from dlexp.experiments.overfit import report_gaps
from dlexp.nn.model import MLP
from dlexp.train.runner import load_splits, split_seed

NAME = "ensemble"
CONFIG = "overfit"
PLAIN = "plain"
CURVE_COLUMNS = ["label", "members", "val_acc", "member_val_acc"]


def plan(base: dict, members: int, dropout: float) -> Sweep:
    """``members`` plain networks and as many with ``dropout`` (0: none), seeds from the
    base's (checked to share their images), with the gap and ensemble analyses."""
    if not 0 <= dropout < 1:
        raise ConfigError(f"--dropout {dropout}: a probability in [0, 1)")
    specs = {PLAIN: {"model.dropout": 0.0}}
    if dropout > 0:
        specs[f"dropout={dropout:g}"] = {"model.dropout": dropout}
    seed = config_from_dict(base, "base config").seed
    variants = seeded(specs, list(range(seed, seed + members)))
    check_same_split([variant_config(base, v) for v in variants])
    return Sweep(NAME, variants, analyse=(report_gaps, evaluate_ensembles),
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
