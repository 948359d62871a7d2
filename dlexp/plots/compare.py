"""Figures of a comparison folder, drawn from its CSVs, and :data:`FIGURES`: those a
comparison command may draw, by the names its Sweep lists."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np

from dlexp.fmt import check_band, fmt
from dlexp.io import read_csv
from dlexp.plots.base import by_label, comparison_title, draw_curve, grouped_bars, save_figure
from dlexp.plots.overfit import plot_bn_grid, plot_bn_summary, plot_ensemble, plot_train_val
from dlexp.plots.runs import minibatch_loss_label, plot_run
from dlexp.train.rundir import has_weight_decay


def curve_style(k: int) -> dict:
    """The k-th label's bold curve: colour, line style, a width falling with k, and drawn
    above the ones before it, so curves that coincide do not hide each other."""
    return {"color": f"C{k % 10}", "ls": ("-", "--", "-.", ":")[k % 4],
            "lw": max(2.8 - 0.35 * k, 1.1), "zorder": 3 + k}


def plot_compare(out_dir: Path, band: str = "minmax") -> list[Path]:
    """``plots/loss.png`` (per label: the raw mean loss of every update faint, its trailing
    average bold, a band over seeds; on the right the last half, zoomed to the curves that
    learn) and ``plots/val_accuracy.png`` (mean validation accuracy, same band)."""
    check_band(band)
    title = comparison_title(out_dir)
    loss = by_label(read_csv(out_dir / "loss.csv", optional=True))
    val = by_label(read_csv(out_dir / "val_accuracy.csv", optional=True))
    order = {label: k for k, label in enumerate(dict.fromkeys([*loss, *val]))}
    out = []
    if loss:
        runs = [out_dir / r["run"] for r in read_csv(out_dir / "runs.csv", optional=True)
                if r.get("label") in loss]
        out.append(_plot_loss(loss, order, band, title, has_weight_decay(runs),
                              out_dir / "plots" / "loss.png"))
    if val:
        fig, ax = plt.subplots(figsize=(8, _height(val)), layout="constrained")
        for label, c in val.items():
            k = order[label]
            draw_curve(ax, c, band, **curve_style(k) | {"lw": 1.5, "marker": "os^DvP"[k % 6]},
                       ms=4, label=label)
        ax.set(xlabel="update", ylabel="validation accuracy")
        _legend(ax, f"{title}: validation accuracy")
        out.append(save_figure(fig, out_dir / "plots" / "val_accuracy.png"))
    return out


def _height(curves: dict) -> float:
    """A figure's height: taller when a long legend goes below the axes."""
    return 5 + 0.08 * max(0, len(curves) - 8)


def _plot_loss(curves: dict, order: dict, band: str, title: str, decay: bool,
               path: Path) -> Path:
    fig, (ax, zoom) = plt.subplots(1, 2, figsize=(11, _height(curves)), width_ratios=[3, 2],
                                   layout="constrained")
    end = max(float(np.nanmax(c["step"])) for c in curves.values())
    tails, stuck = [], []
    for label, c in curves.items():
        style = curve_style(order[label])
        ax.plot(c["step"], c["raw"], color=style["color"], alpha=0.2, lw=0.5, zorder=1)
        tail = {k: v[c["step"] > end / 2] for k, v in c.items()}       # the last half
        finite = c["smooth"][np.isfinite(c["smooth"])]
        last = float(finite[-1]) if finite.size else np.nan
        for axis, part in ((ax, c), (zoom, tail)):
            draw_curve(axis, part, band, y="smooth", label=f"{label} (ends {fmt(last, 2)})",
                       **style)
        if decay or last < 0.75 * float(c["smooth"][0]):
            tails += [tail[k] for k in ("smooth_min", "smooth_max", "smooth")]
        else:
            stuck.append(label)                        # not learning: left out of the zoom
    if decay:                                  # objectives of different λ differ in scale
        ax.set_yscale("log")
        zoom.set(yscale="log", title="the objective adds the penalty ½λ₂‖W‖² + λ₁‖W‖₁: "
                 "not\ncomparable across λ; compare accuracies instead")
    else:
        top = max(float(c["smooth"][0]) for c in curves.values())            # initial loss
        ax.set_ylim(0, 1.1 * top if np.isfinite(top) and top > 0 else None)
        values = np.concatenate(tails or [[]])
        values = values[np.isfinite(values)]
        if values.size:
            margin = 0.05 * (values.max() - values.min() + 1e-12)
            zoom.set_ylim(values.min() - margin, values.max() + margin)
        off = ""
        if stuck and len(stuck) < len(curves):
            off = (f"\noff the scale: {', '.join(stuck)}" if len(stuck) <= 3 else
                   f"\noff the scale: {len(stuck)} curves that stay at their start")
        zoom.set_title(f"the last half of the updates, zoomed in{off}")
    ax.set(xlabel="update", ylabel=minibatch_loss_label(decay) + ", log scale" * decay)
    zoom.set_xlabel("update")
    _legend(ax, f"{title}: training {'objective' if decay else 'loss'} "
                "(faint: raw, bold: trailing average)")
    return save_figure(fig, path)


def _legend(ax: plt.Axes, title: str, inside: int = 8) -> None:
    """Title and legend; a legend of more than ``inside`` entries goes below the axes, in
    columns, so it never covers the curves."""
    ax.set_title(title)
    handles, labels = ax.get_legend_handles_labels()
    if len(labels) <= inside:
        ax.legend()
    else:
        ax.figure.legend(handles=handles, loc="outside lower center", fontsize="x-small",
                         frameon=False, ncols=min(4, -(-len(labels) // 8)))


def plot_sub_runs(out_dir: Path) -> list[Path]:
    """Each sub-run's own figures (those listed in runs.csv), as ``dlexp train`` draws."""
    return [p for r in read_csv(out_dir / "runs.csv", optional=True)
            for p in plot_run(out_dir / r["run"])]


def plot_schedules(out_dir: Path, band: str = "minmax") -> list[Path]:
    """``plots/schedules.png`` of an lr-decay comparison: final loss and best validation
    accuracy per schedule, one bar colour per optimiser (± std over seeds, if any)."""
    rows = read_csv(out_dir / "summary.csv")
    groups: dict[str, dict[str, dict]] = {}
    for r in rows:
        opt, _, schedule = next(iter(r.values())).partition("_")      # the label column
        groups.setdefault(opt, {})[schedule] = r
    names = list(next(iter(groups.values())))
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
    for ax, metric, title in zip(axes, ("final_smoothed_loss", "best_val_acc"),
                                 ("final smoothed loss", "best validation accuracy")):
        value = {opt: [float(g[n][metric] or "nan") for n in names]
                 for opt, g in groups.items()}
        err = {opt: [float(g[n].get(f"{metric}_std") or 0) for n in names]
               for opt, g in groups.items()}
        spread = any(any(e) for e in err.values())
        grouped_bars(ax, value, names, err if spread else None)
        ax.tick_params("x", rotation=20)
        ax.set_title(title + (" (± std over seeds)" if spread else " (one seed)"))
        ax.legend()
    axes[1].set_ylim(bottom=min(float(r["best_val_acc"] or 1) for r in rows) - 0.02)
    fig.suptitle("learning-rate schedules on one budget")
    return [save_figure(fig, out_dir / "plots" / "schedules.png")]


# draw(out_dir, band) -> [paths written]; an interrupted comparison gets only the GENERIC
# ones, the others need a preset's analysis first.
GENERIC = ("comparison", "sub_runs")
FIGURES: dict[str, Callable[[Path, str], list[Path]]] = {
    "comparison": plot_compare,                    # plots/loss.png, plots/val_accuracy.png
    "sub_runs": lambda out_dir, band: plot_sub_runs(out_dir),   # each sub-run's own
    "train_val": plot_train_val,                   # plots/train_val_accuracy.png
    "batchnorm": lambda out_dir, band: [plot_bn_grid(out_dir, band), plot_bn_summary(out_dir)],
    "ensemble": plot_ensemble,                     # plots/ensemble.png
    "schedules": plot_schedules,                   # plots/schedules.png
}


def draw_figures(names: Sequence[str], out_dir: Path, band: str, interrupted: bool) -> None:
    """Draw the figures ``names`` of a comparison; only the generic ones if interrupted."""
    for name in names:
        if name in GENERIC or not interrupted:
            FIGURES[name](out_dir, band)
