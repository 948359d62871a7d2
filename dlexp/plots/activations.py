"""Histograms of hidden-layer activations and gradients (one panel per layer)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from dlexp.experiments.activations import LayerTrace
from dlexp.plots.runs import save_figure


def _hist_range(trace: LayerTrace, kind: str) -> tuple[float, float] | None:
    if kind == "grads":
        return None
    return {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}.get(trace.activation)


def plot_traces(traces: list[LayerTrace], path: Path, kind: str = "outputs") -> Path:
    """A grid: one row per trace (initialiser), one column per layer."""
    n_layers = len(traces[0].outputs)
    fig, axes = plt.subplots(len(traces), n_layers, figsize=(2.4 * n_layers, 1.9 * len(traces)),
                             squeeze=False, sharey="row")
    for row, trace in zip(axes, traces):
        data = getattr(trace, kind)
        for k, (ax, values) in enumerate(zip(row, data), 1):
            ax.hist(np.ravel(values), bins=30, range=_hist_range(trace, kind), color="C0")
            ax.set_title(f"layer {k}", fontsize="small")
            ax.tick_params(labelsize="x-small")
        row[0].set_ylabel(trace.init.label, fontsize="small")
    what = "activations h" if kind == "outputs" else "error signals dL/da (gradients)"
    fig.suptitle(f"{traces[0].activation}: {what} per layer", fontsize="medium")
    fig.tight_layout()
    save_figure(fig, path)
    return Path(path)
