"""Figures of §6.3–6.4 (batch norm, overfitting, ensembles) from a comparison's CSVs; the
test set appears only where it was scored, once, at the end."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from dlexp.fmt import fmt
from dlexp.io import read_csv, read_json
from dlexp.plots.base import by_label, comparison_title, draw_curve, save_figure

SIDES = {"bn": ("C0", "-", "batch norm"), "plain": ("C1", "--", "without")}


def plot_train_val(out_dir: Path, band: str = "minmax") -> list[Path]:
    """``plots/train_val_accuracy.png``: training (solid) against validation (dashed)
    accuracy per epoch, a colour per variant; the space between is the overfitting gap."""
    train = by_label(read_csv(out_dir / "train_accuracy.csv", optional=True))
    val = by_label(read_csv(out_dir / "val_accuracy.csv", optional=True))
    if not train and not val:
        return []
    fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
    handles = []
    for i, label in enumerate(dict.fromkeys([*train, *val])):
        for curves, ls in ((train, "-"), (val, "--")):
            if label in curves:
                draw_curve(ax, curves[label], band, x="epoch", color=f"C{i % 10}", ls=ls,
                           lw=1.5)
        handles.append(Line2D([], [], color=f"C{i % 10}", lw=2, label=label))
    handles += [Line2D([], [], color="0.3", ls=ls, label=f"{what} accuracy")
                for ls, what in (("-", "training"), ("--", "validation"))]
    ax.set(ylim=(0, 1.02), xlabel="epoch", ylabel="accuracy", title=comparison_title(out_dir)
           + ": training (solid) vs validation (dashed) accuracy")
    ax.legend(handles=handles, loc="lower right")
    return [save_figure(fig, out_dir / "plots" / "train_val_accuracy.png")]


def plot_bn_grid(out_dir: Path, band: str = "minmax") -> Path:
    """A panel per weight scale (the book's 4×4 grid, up to four a row): training accuracy
    with batch norm and without; a network that diverged is named in its panel."""
    curves = by_label(read_csv(out_dir / "train_accuracy.csv"))
    panels: dict[float, dict[str, tuple[str, str]]] = {}      # scale → side → label, status
    for r in read_csv(out_dir / "summary.csv"):
        side = "bn" if r["model.batchnorm"] == "true" else "plain"
        panels.setdefault(float(r["model.init_std"]), {})[side] = (next(iter(r.values())),
                                                                   r["status"])
    n, cols = len(panels), min(4, len(panels))
    width = max(3.1 * cols, 5.6)              # room for the title with one or two panels
    fig = plt.figure(figsize=(width, 2.3 * math.ceil(n / cols) + 1.0), layout="constrained")
    axes = fig.subplot_mosaic([[k + c if k + c < n else None for c in range(cols)]
                               for k in range(0, n, cols)], sharex=True, sharey=True,
                              empty_sentinel=None)
    for k, (scale, sides) in enumerate(panels.items()):
        ax = axes[k]
        for side, (label, status) in sides.items():
            color, ls, _ = SIDES[side]
            if label in curves:
                draw_curve(ax, curves[label], band, x="epoch", color=color, ls=ls, lw=1.5)
        notes = [f"{SIDES[s][2]}: {status}" for s, (_, status) in sides.items()
                 if status != "completed"]
        ax.text(0.5, 0.5, "\n".join(notes), transform=ax.transAxes, ha="center",
                fontsize="x-small", color="0.3")
        ax.set_title(f"w = {scale:.3g}", fontsize="small")
        ax.set_ylim(0, 1.02)
        if k + cols >= n:                     # the lowest panel of its column
            ax.xaxis.set_tick_params(labelbottom=True)
            ax.set_xlabel("epoch")
        ax.set_ylabel("training accuracy" if k % cols == 0 else "")
    fig.legend(handles=[Line2D([], [], color=c, ls=ls, label=name)
                        for c, ls, name in SIDES.values()],
               loc="outside lower center", ncols=2, frameon=False)
    fig.suptitle(textwrap.fill("training accuracy per epoch with batch norm (solid) and "
                               "without (dashed); initial weights ~ N(0, w²)", int(width * 11)))
    return save_figure(fig, out_dir / "plots" / "batchnorm_grid.png", dpi=90)


def plot_bn_summary(out_dir: Path) -> Path:
    """Final training accuracy (diverged: ×) and the epochs each network needed to reach
    the target τ (no point: never; a side that never did says so in the legend, and a
    panel where none did says so in the panel) against the weight scale."""
    table = read_csv(out_dir / "batchnorm.csv")
    target = fmt(read_json(out_dir / "summary.json")["batchnorm"]["target"])
    scale = np.array([float(r["init_std"]) for r in table])
    fig, (acc_ax, ep_ax) = plt.subplots(1, 2, figsize=(11, 4.2), sharex=True,
                                        layout="constrained")
    reached = False
    for side, (color, ls, name) in SIDES.items():
        column = {k: np.array([float(r[f"{side}_{k}"] or "nan") for r in table])
                  for k in ("final_acc", "epochs")}
        acc_ax.plot(scale, column["final_acc"], "o" + ls, color=color, ms=4, label=name)
        lost = np.array([r[f"{side}_status"] != "completed" for r in table])
        if lost.any():
            acc_ax.plot(scale[lost], 0 * scale[lost], "x", color=color, ms=8,
                        label=f"{name}: diverged / failed")
        never = bool(np.all(np.isnan(column["epochs"])))
        reached = reached or not never
        ep_ax.plot(scale, column["epochs"], "o" + ls, color=color, ms=4,
                   label=f"{name}: none reached τ" if never else name)
    acc_ax.set(ylim=(-0.03, 1.02), ylabel="final training accuracy",
               title="after the last epoch")
    ep_ax.set(ylim=(0, None if reached else 1), ylabel=f"epochs to reach τ = {target}",
              title=f"epochs to τ = {target} training accuracy (no point: never)")
    if not reached:
        ep_ax.text(0.5, 0.5, f"none reached τ = {target}", transform=ep_ax.transAxes,
                   ha="center", va="center", color="0.3")
        ep_ax.set_yticks([])
    for ax in (acc_ax, ep_ax):
        ax.set(xscale="log", xlim=(scale.min() / 1.5, scale.max() * 1.5),   # same on both
               xlabel="weight scale w (std of the initial weights)")
    acc_ax.legend()
    if reached:
        ep_ax.yaxis.set_major_locator(MaxNLocator(integer=True))   # whole epochs
        ep_ax.legend()
    return save_figure(fig, out_dir / "plots" / "batchnorm_summary.png")


def plot_ensemble(out_dir: Path, band: str = "minmax") -> list[Path]:
    """Write ``plots/ensemble.png`` (``band``: unused, no curve over seeds here): left, the
    first k networks averaged and each network alone; right, test accuracy of one network
    (mean over the seeds, the range as whisker) and of all K averaged, per variant."""
    curves = by_label(read_csv(out_dir / "ensemble.csv", optional=True))
    summary = [r for r in read_csv(out_dir / "summary.csv") if r.get("ensemble_test_acc")]
    if not curves and not summary:
        return []                               # no member completed: nothing to show
    labels = [next(iter(r.values())) for r in summary]         # the label column
    colors = {label: f"C{i % 10}" for i, label in enumerate(dict.fromkeys([*curves, *labels]))}
    fig, (val_ax, test_ax) = plt.subplots(1, 2, figsize=(11, 4.2), width_ratios=[3, 2],
                                          layout="constrained")
    for label, c in curves.items():
        if not np.all(np.isnan(c["val_acc"])):
            val_ax.plot(c["members"], c["val_acc"], "o-", color=colors[label], ms=4,
                        label=f"{label}: first k averaged")
            val_ax.plot(c["members"], c["member_val_acc"], ".", color=colors[label], ms=7,
                        alpha=0.5, label=f"{label}: network k alone")
    val_ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    val_ax.set(xlabel="networks averaged (k)", ylabel="validation accuracy",
               title="averaging softmax outputs")
    if curves:
        val_ax.legend()
    for i, (label, r) in enumerate(zip(labels, summary)):    # bars from zero: lengths compare
        one, lo, hi, many = (float(r[k]) for k in ("test_acc", "member_test_min",
                                                   "member_test_max", "ensemble_test_acc"))
        test_ax.bar(i - 0.2, one, 0.38, color=colors[label], alpha=0.45,
                    yerr=[[one - lo], [hi - one]], capsize=3)
        test_ax.bar(i + 0.2, many, 0.38, color=colors[label])
        for dx, value in ((-0.2, one), (0.2, many)):
            test_ax.text(i + dx, 0.005, fmt(value, 3), ha="center", va="bottom", fontsize=8)
    test_ax.set_xticks(range(len(summary)), [f"{label}\n1 net | {r['members']} nets"
                                             for label, r in zip(labels, summary)],
                       fontsize="small")
    tops = [float(r[k]) for r in summary for k in ("member_test_max", "ensemble_test_acc")]
    test_ax.set(ylim=(0, min(1.0, max(tops, default=0.95) + 0.05)), ylabel="test accuracy",
                title="test set, once: one network (faint) vs averaged")
    test_ax.grid(axis="x", visible=False)
    return [save_figure(fig, out_dir / "plots" / "ensemble.png")]
