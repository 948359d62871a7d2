"""The optimiser-paths figure: one panel per optimiser, its path over the contours of f.

Drawn from a run folder written by :func:`dlexp.experiments.paths.save_paths`
(``paths.csv`` and ``paths.json``); the function itself comes from the registry only
to draw its contours.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from dlexp.io import read_csv
from dlexp.surfaces import get_function
from dlexp.fmt import fmt
from dlexp.io import read_json
from dlexp.plots.save import save_figure


def plot_paths(run_dir: Path) -> Path:
    """Write ``plots/optimizer-paths.png`` of a paths run folder and return its path."""
    run_dir = Path(run_dir)
    info = read_json(run_dir / "paths.json")
    fn = get_function(info["function"])
    paths: dict[str, list[tuple[float, float]]] = {}
    for r in read_csv(run_dir / "paths.csv"):
        paths.setdefault(r["optimizer"], []).append((float(r["x"]), float(r["y"])))

    ncols = 3 if len(paths) > 4 else min(2, len(paths))
    nrows = math.ceil(len(paths) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.4 * nrows), squeeze=False)
    for ax, (name, pts) in zip(axes.flat, paths.items()):
        p = np.array(pts)                                   # (steps + 1, 2)
        xlim, ylim = _frame(fn.xlim, p[:, 0]), _frame(fn.ylim, p[:, 1])
        gx, gy, z, levels = _contours(fn, xlim, ylim)
        ax.contour(gx, gy, z, levels=levels, colors="0.7", linewidths=0.7)
        ax.plot(p[:, 0], p[:, 1], "o-", color="C3", ms=3, lw=1)
        ax.plot(*fn.minimum, "+", color="k", ms=10, mew=1.5)
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
        ax.set_xlabel("x", fontsize="small")
        ax.set_ylabel("y", fontsize="small")
        diverged = info["final"][name].get("diverged_at")
        note = f", diverged at update {diverged}" if diverged is not None else ""
        ax.set_title(f"{name} (lr {info['lrs'][name]:g}{note})", fontsize="medium")
    for ax in list(axes.flat)[len(paths):]:
        ax.set_visible(False)
    start = ", ".join(f"{v:g}" for v in info["start"])
    fig.suptitle(f"{fn.formula}: {info['steps']} updates from ({start}); + the minimum")
    fig.tight_layout()
    path = run_dir / "plots" / "optimizer-paths.png"
    save_figure(fig, path)
    return path


def _frame(limits: tuple[float, float], values: np.ndarray, most: float = 4.0
           ) -> tuple[float, float]:
    """The function's frame, widened to hold the path's finite points (with a margin)
    as long as that is at most ``most`` times as wide; a path going further (diverging)
    leaves the frame."""
    low, high = limits
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return low, high
    margin = 0.04 * (high - low)                           # a point on the edge shows whole
    lo = min(low, float(finite.min()) - margin)
    hi = max(high, float(finite.max()) + margin)
    return (lo, hi) if hi - lo <= most * (high - low) else (low, high)


def _contours(fn, xlim: tuple[float, float], ylim: tuple[float, float]) -> tuple:
    """Grid and levels of f over the frame, levels even in log f (ellipses spread)."""
    gx, gy = np.meshgrid(np.linspace(*xlim, 240), np.linspace(*ylim, 200))   # (200, 240)
    z = fn.value(gx, gy)                                                     # (200, 240)
    low = max(float(z.min()), 1e-3 * float(z.max()))
    return gx, gy, z, np.geomspace(low, float(z.max()), 14)
