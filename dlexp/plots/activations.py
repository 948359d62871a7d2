"""Histograms of hidden-layer activations and gradients (one panel per layer), drawn from
the run folder's ``histograms.csv`` and ``activations.json``
(:mod:`dlexp.experiments.activations`): any activations folder can be redrawn.

* ``plots/activations.png``: h_k, one row per initialiser, one column per layer;
* ``plots/gradients.png``: δ_k = dL/da_k, the same grid.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from dlexp.io import read_csv
from dlexp.io import read_json
from dlexp.plots.save import save_figure

FILES = {"outputs": "activations.png", "grads": "gradients.png"}
WHAT = {"outputs": "activations h", "grads": "error signals dL/da (gradients)"}


def plot_activations(run_dir: Path) -> list[Path]:
    """Both figures of an activations run folder; their paths."""
    return [plot_histograms(run_dir, kind) for kind in FILES]


def plot_histograms(run_dir: Path, kind: str = "outputs") -> Path:
    """One figure of ``kind`` (``outputs`` or ``grads``): rows initialisers, columns layers."""
    run_dir = Path(run_dir)
    info = read_json(run_dir / "activations.json")
    panels: dict[tuple[str, int], list[dict[str, str]]] = {}
    for r in read_csv(run_dir / "histograms.csv"):
        if r["kind"] == kind:
            panels.setdefault((r["init"], int(r["layer"])), []).append(r)
    inits, n_layers = info["inits"], info["layers"]
    fig, axes = plt.subplots(len(inits), n_layers, figsize=(2.4 * n_layers, 1.9 * len(inits)),
                             squeeze=False, sharey="row")
    for row, init in zip(axes, inits):
        for k, ax in enumerate(row, 1):
            bins = panels.get((init, k), [])
            if bins:
                edges = np.array([float(b["low"]) for b in bins] + [float(bins[-1]["high"])])
                counts = np.array([int(b["count"]) for b in bins])       # (bins,)
                ax.stairs(counts, edges, fill=True, color="C0")
            ax.set_title(f"layer {k}", fontsize="small")
            ax.tick_params(labelsize="x-small")
        row[0].set_ylabel(init, fontsize="small")
    fig.suptitle(f"{info['activation']}: {WHAT[kind]} per layer", fontsize="medium")
    fig.tight_layout()
    path = run_dir / "plots" / FILES[kind]
    save_figure(fig, path)
    return path
