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

from dlexp.fmt import fmt
from dlexp.io import read_csv
from dlexp.io import read_json
from dlexp.plots.save import save_figure

FILES = {"outputs": "activations.png", "grads": "gradients.png"}
WHAT = {"outputs": "activations h", "grads": "gradients δ = dL/da"}
SYMBOL = {"outputs": "h", "grads": "δ"}
STD = {"outputs": "act_std", "grads": "delta_std"}


def plot_activations(run_dir: Path) -> list[Path]:
    """Both figures of an activations run folder; their paths."""
    return [plot_histograms(run_dir, kind) for kind in FILES]


def plot_histograms(run_dir: Path, kind: str = "outputs") -> Path:
    """One figure of ``kind`` (``outputs`` or ``grads``): a row per initialiser, a column
    per layer, and a last column with the std per layer on one log axis for all rows.

    Within a row the layers share their x axis, so a distribution that narrows or
    widens layer by layer shows as such; the std column compares the initialisers."""
    run_dir = Path(run_dir)
    info = read_json(run_dir / "activations.json")
    panels: dict[tuple[str, int], list[dict[str, str]]] = {}
    for r in read_csv(run_dir / "histograms.csv"):
        if r["kind"] == kind:
            panels.setdefault((r["init"], int(r["layer"])), []).append(r)
    stds = {(r["init"], int(r["layer"])): float(r[STD[kind]])
            for r in read_csv(run_dir / "stats.csv")}
    inits, n_layers = info["inits"], info["layers"]
    fig, axes = plt.subplots(len(inits), n_layers + 1,
                             figsize=(2.3 * (n_layers + 1), 1.8 * len(inits) + 0.6),
                             squeeze=False, layout="constrained")
    for row, init in zip(axes, inits):
        for k, ax in enumerate(row[:-1], 1):
            bins = panels.get((init, k), [])
            if bins:
                edges = np.array([float(b["low"]) for b in bins] + [float(bins[-1]["high"])])
                counts = np.array([int(b["count"]) for b in bins])       # (bins,)
                ax.stairs(counts / counts.sum(), edges, fill=True, color="C0")
            head = f"layer {k}\n" if init == inits[0] else ""     # over the top row
            ax.set_title(f"{head}std {fmt(stds.get((init, k)), 2)}", fontsize="x-small",
                         pad=2)
            ax.tick_params(labelsize="x-small")
            ax.set_yticks([])
            if k > 1:
                ax.sharex(row[0])
        row[0].set_ylabel(init, fontsize="small")
        _std_panel(row[-1], [stds.get((init, k)) for k in range(1, n_layers + 1)])
    positive = [v for v in stds.values() if v > 0]
    if positive:                                      # one log axis for every std panel
        low, high = min(positive), max(positive)
        for ax in axes[:, -1]:
            ax.set_ylim(low / 2, high * 2)
    for ax in axes[-1][:-1]:
        ax.set_xlabel(SYMBOL[kind], fontsize="small")
    axes[0][-1].set_title(f"std of {SYMBOL[kind]} (log)", fontsize="small")
    axes[-1][-1].set_xlabel("layer", fontsize="small")
    fig.suptitle(f"{info['activation']}: {WHAT[kind]} per layer, under each initialiser "
                 "(histograms: share of values)", fontsize="medium")
    path = run_dir / "plots" / FILES[kind]
    save_figure(fig, path)
    return path


def _std_panel(ax: "plt.Axes", stds: list) -> None:
    """The std per layer (0, e.g. under zeros, left out) on a log axis."""
    layers = [k for k, s in enumerate(stds, 1) if s]
    ax.plot(layers, [s for s in stds if s], "o-", ms=3, color="C3")
    ax.set_yscale("log")
    ax.set_xticks(range(1, len(stds) + 1))
    ax.set_xlim(0.5, len(stds) + 0.5)
    ax.tick_params(labelsize="x-small")
    ax.grid(True, which="major", alpha=0.3)
