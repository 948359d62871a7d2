"""The ``compare-inits`` preset (§6.2): one variant per initialiser, ``name`` or, for the
fixed-std Gaussian, ``normal=STD`` (label ``std=STD``), on ``configs/compare-inits.yaml``.

Symmetry is measured on the trained weights: for hidden layer k, W_k (fan_in, U) has one
column per unit, and

    spread_k = max_i ( max_j W_k[i, j] − min_j W_k[i, j] )
    distinct_k = columns differing (max |difference| > tol·(max |W_k| + tol)) from every
                 earlier one;  unit_spread = max_k spread_k,  distinct_units = min_k distinct_k

From zeros every unit of a layer gets the same gradient, so they stay equal (1 distinct).
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import yaml

from dlexp import book
from dlexp.errors import ConfigError
from dlexp.experiments.aggregate import CompareResult, extend_summary
from dlexp.experiments.sweep import Sweep
from dlexp.experiments.variants import seeded, split_list
from dlexp.nn.init import INITIALIZERS

NAME = "compare-inits"
TOLERANCE = 1e-6


def parse_inits(text: str) -> list[tuple[str, dict]]:
    """``"normal=0.01,he_normal"`` → ``[(label, overrides), …]``, each known, none twice."""
    out: list[tuple[str, dict]] = []
    for item in split_list(text, f"--inits {text!r}"):
        name, sep, std = item.partition("=")
        if name not in INITIALIZERS:
            raise ConfigError(f"--inits: unknown initializer {name!r}; choose from: "
                              f"{', '.join(INITIALIZERS)} (normal as normal=STD)")
        if sep:
            if name != "normal":
                raise ConfigError(f"--inits {item!r}: only normal takes a std (normal=0.01)")
            try:
                value = float(yaml.safe_load(std))
            except (yaml.YAMLError, TypeError, ValueError):
                raise ConfigError(f"--inits {item!r}: {std!r} is not a number") from None
            out.append((f"std={std.strip()}", {"model.initializer": "normal",
                                               "model.init_std": value}))
        else:
            out.append((name, {"model.initializer": name, "model.init_std": None}))
    runs = [tuple(o.values()) for _, o in out]                     # normal=0.01, normal=1e-2
    twice = [label for (label, _), r in zip(out, runs) if runs.count(r) > 1]
    if twice:
        raise ConfigError(f"--inits {text!r}: {twice[-1]} repeats {twice[0]}; remove one")
    return out


def plan(base: Mapping, seeds: Sequence[int] | None, inits: str = book.INITS) -> Sweep:
    """One variant per initialiser × seeds, with the symmetry analysis."""
    return Sweep(NAME, seeded(dict(parse_inits(inits)), seeds), "init",
                 analyse=(report_symmetry,), report=explain_symmetry,
                 columns=("status", "final_smoothed_loss", "best_val_acc", "test_acc",
                          "unit_spread", "distinct_units"))


def explain_symmetry(result: CompareResult) -> None:
    """What the two symmetry columns of the table mean, under it (when it has them)."""
    if result.summary and "distinct_units" in result.summary[0]:    # as the table asks
        print("unit spread: the largest difference between two units of a layer in the "
              "weight from one input (0: the units are copies); distinct units: how many "
              "different units the layer with fewest has (1: every unit is the same, as "
              "from zeros)")


def hidden_symmetry(state: dict[str, np.ndarray], tol: float = TOLERANCE) -> dict:
    """``unit_spread`` and ``distinct_units`` of a model state (module docstring)."""
    n_layers = sum(1 for k in state if k.startswith("W"))
    spreads, distinct = [], []
    for k in range(1, n_layers):                                # hidden layers only
        w = np.asarray(state[f"W{k}"], dtype=np.float64)        # (fan_in, U)
        spreads.append(float(np.max(w.max(axis=1) - w.min(axis=1))))
        cols = w.T                                              # (U, fan_in)
        diff = np.abs(cols[:, None, :] - cols[None, :, :]).max(axis=2)   # (U, U)
        same = diff <= tol * (np.abs(w).max() + tol)
        distinct.append(int(sum(not same[j, :j].any() for j in range(cols.shape[0]))))
    return {"unit_spread": max(spreads) if spreads else 0.0,
            "distinct_units": min(distinct) if distinct else 0}


def report_symmetry(result: CompareResult) -> CompareResult:
    """Per label, ``unit_spread`` (mean over seeds) and ``distinct_units`` (fewest) of the
    completed sub-runs' model.npz into summary.csv."""
    per_label: dict[str, list[dict]] = {}
    for r in result.runs:
        path = Path(result.dir) / r["run"] / "model.npz"
        if r["status"] == "completed" and path.is_file():
            with np.load(path) as f:
                per_label.setdefault(r["label"], []).append(hidden_symmetry(dict(f)))
    columns = {label: {"unit_spread": float(np.mean([v["unit_spread"] for v in vs])),
                       "distinct_units": min(v["distinct_units"] for v in vs)}
               for label, vs in per_label.items()}
    identical = sorted(label for label, c in columns.items() if c["distinct_units"] == 1)
    return extend_summary(result, columns, {"identical_hidden_units": identical})
