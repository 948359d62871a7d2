"""Figures of the ``batchnorm`` preset (§6.3), drawn from its CSVs.

* ``plots/batchnorm_grid.png``: one panel per weight scale (as the book's 4×4 grid),
  training accuracy per epoch with batch norm (solid) and without (dashed), a band
  over the seeds; a network that diverged is named in its panel. Up to four panels a
  row, the title above and the legend below them (constrained layout, any count).
* ``plots/batchnorm_summary.png``: final training accuracy against the weight scale
  for both networks (diverged: ×), and the epochs each needed to reach the target
  accuracy (missing: never reached); both panels span the same scales.

:func:`plot_batchnorm` draws both.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from dlexp.io import read_csv
from dlexp.io import read_json
from dlexp.plots.compare import by_label, draw_band
from dlexp.plots.save import save_figure

STYLE = {"bn": ("C0", "-", "batch norm"), "plain": ("C1", "--", "without")}


def plot_batchnorm(out_dir: Path, band: str = "minmax") -> list[Path]:
    """Both figures of the preset; their paths."""
    return [plot_bn_grid(out_dir, band), plot_bn_summary(out_dir)]


def plot_bn_grid(out_dir: Path, band: str = "minmax", label_column: str = "variant") -> Path:
    """The grid of training-accuracy curves; returns the PNG's path."""
    out_dir = Path(out_dir)
    curves = by_label(read_csv(out_dir / "train_accuracy.csv"))
    panels = _panels(out_dir, label_column)
    cols = min(4, len(panels))
    rows = math.ceil(len(panels) / cols)
    width = max(3.1 * cols, 5.6)              # room for the title with one or two panels
    # constrained layout: the title, panel titles and the legend below never overlap
    fig, axes = plt.subplots(rows, cols, figsize=(width, 2.3 * rows + 1.0),
                             sharex=True, sharey=True, squeeze=False, layout="constrained")
    for ax, (scale, sides) in zip(axes.flat, panels.items()):
        notes = []
        for side, (label, status) in sides.items():
            color, ls, name = STYLE[side]
            c = curves.get(label)
            if c is not None:
                ax.plot(c["epoch"], c["mean"], ls, color=color, lw=1.5, label=name)
                draw_band(ax, c["epoch"], c["mean"], c["std"], c["min"], c["max"], c["n"],
                      band, color)
            if status != "completed":
                notes.append(f"{name}: {status}")
        ax.set_title(f"w = {scale:.3g}", fontsize="small")
        if notes:
            ax.text(0.5, 0.5, "\n".join(notes), transform=ax.transAxes, ha="center",
                    fontsize="x-small", color="0.3")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for col in range(cols):                   # the lowest panel of each column, which is
        ax = axes[(len(panels) - 1 - col) // cols, col]      # above a hidden one if the
        ax.xaxis.set_tick_params(labelbottom=True)           # last row is not full
        ax.set_xlabel("epoch")
    for ax in axes[:, 0]:
        ax.set_ylabel("training accuracy")
    handles = [Line2D([], [], color=c, ls=ls, label=name) for c, ls, name in STYLE.values()]
    fig.legend(handles=handles, loc="outside lower center", fontsize="small", ncols=2,
               frameon=False)
    title = ("training accuracy per epoch with batch norm (solid) and without (dashed); "
             "initial weights ~ N(0, w²)")
    fig.suptitle(textwrap.fill(title, int(width * 11)), fontsize="medium")
    path = out_dir / "plots" / "batchnorm_grid.png"
    save_figure(fig, path, dpi=90)
    return path


def plot_bn_summary(out_dir: Path) -> Path:
    """Final accuracy and epochs-to-target against the weight scale; the PNG's path."""
    out_dir = Path(out_dir)
    table = read_csv(out_dir / "batchnorm.csv")
    target = read_json(out_dir / "summary.json")["batchnorm"]["target"]
    scale = np.array([float(r["init_std"]) for r in table])
    fig, (acc_ax, ep_ax) = plt.subplots(1, 2, figsize=(11, 4.2), sharex=True)
    for side, (color, ls, name) in STYLE.items():
        acc = _column(table, f"{side}_final_acc")
        acc_ax.plot(scale, acc, "o" + ls, color=color, ms=4, label=name)
        lost = np.array([r[f"{side}_status"] != "completed" for r in table])
        if lost.any():
            acc_ax.plot(scale[lost], np.zeros(lost.sum()), "x", color=color, ms=8,
                        label=f"{name}: diverged / failed")
        ep_ax.plot(scale, _column(table, f"{side}_epochs"), "o" + ls, color=color, ms=4,
                   label=name)
    for ax in (acc_ax, ep_ax):
        ax.set_xscale("log")
        ax.set_xlim(scale.min() / 1.5, scale.max() * 1.5)     # the same scales on both
        ax.set_xlabel("weight scale w (std of the initial weights)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    acc_ax.set_ylim(-0.03, 1.02)
    acc_ax.set_ylabel("final training accuracy")
    acc_ax.set_title("after the last epoch", fontsize="medium")
    ep_ax.set_ylim(bottom=0)
    ep_ax.set_ylabel(f"epochs to reach {target:g}")
    ep_ax.set_title(f"epochs to {target:g} training accuracy (no point: never)",
                    fontsize="medium")
    path = out_dir / "plots" / "batchnorm_summary.png"
    save_figure(fig, path)
    return path


def _panels(out_dir: Path, label_column: str) -> dict[float, dict[str, tuple[str, str]]]:
    """{scale: {"bn"|"plain": (label, status)}} in the order of summary.csv."""
    panels: dict[float, dict[str, tuple[str, str]]] = {}
    for r in read_csv(out_dir / "summary.csv"):
        side = "bn" if r["model.batchnorm"] == "true" else "plain"
        panels.setdefault(float(r["model.init_std"]), {})[side] = (r[label_column], r["status"])
    return panels


def _column(rows: list[dict[str, str]], key: str) -> np.ndarray:
    return np.array([float(r[key]) if r[key] != "" else np.nan for r in rows])
