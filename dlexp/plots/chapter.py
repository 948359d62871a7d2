"""Figures of the chapter's remaining experiments, each drawn from its folder's files:

    plot_step_fade        plots/step_fade.png       (step_sizes.csv, step_fade.json)
    plot_search_methods   plots/search_methods.png  (best_so_far.csv, search_methods.json)
    plot_schedules        plots/schedules.png       (summary.csv of an lr-decay comparison)
    plot_adam_bias        plots/adam_bias.png       (adam_bias.csv)
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from dlexp.fmt import fmt
from dlexp.io import read_csv, read_json
from dlexp.plots.save import save_figure


def _finish(fig, title: str, path: Path) -> Path:
    """Title the figure, lay it out and save it to ``path``."""
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path)
    return path


def _rolling_median(x: np.ndarray, w: int) -> np.ndarray:
    """Median of the last ``w`` values at each point (fewer at the start)."""
    return np.array([np.median(x[max(0, i - w + 1):i + 1]) for i in range(len(x))])


def plot_step_fade(out_dir: Path) -> Path:
    """‖Δθ‖ per update on MNIST and the rate η/√h on the bowl, AdaGrad against RMSProp."""
    out_dir = Path(out_dir)
    info = read_json(out_dir / "step_fade.json")
    series: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for r in read_csv(out_dir / "step_sizes.csv"):
        series.setdefault((r["source"], r["optimizer"]), []).append(
            (float(r["step"]), float(r["rate"]) if r["rate"] else np.nan))
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    panels = (("mnist", 0, "‖Δθ‖ per update (rolling median of 25)",
               "MNIST, all parameters"),
              ("surface", 1, "rate η/(√h+ε) applied to ∂f/∂x", "f = x²/20 + y², η = 0.1"))
    for ax, (source, col, ylabel, title) in zip(axes, panels):
        for k, name in enumerate(info.get(source, {})):
            y = np.array([p[col] for p in series[(source, name)]])        # (T,)
            if source == "mnist":
                y = _rolling_median(y, 25)
            f = info[source][name]["fade"]
            ax.plot(np.arange(1, len(y) + 1), y, color=f"C{k}", lw=1.2,
                    label=f"{name} (η {fmt(info[source][name]['lr'])}): late/early "
                          f"{fmt(f, 2) if f is not None else '—'}")
        ax.set_yscale("log")
        ax.set_xlabel("update")
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize="medium")
        ax.legend(fontsize="small")
        ax.grid(alpha=0.3)
    return _finish(fig, "AdaGrad's steps fade; RMSProp's do not",
                   out_dir / "plots" / "step_fade.png")


def plot_search_methods(out_dir: Path) -> Path:
    """Best-so-far validation accuracy per method (mean, min–max band over the searches),
    the distinct values each tried, and the keys' importances."""
    out_dir = Path(out_dir)
    summary = read_json(out_dir / "search_methods.json")
    rows = read_csv(out_dir / "best_so_far.csv")
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), width_ratios=(2, 1, 1))
    keys = list(next(iter(summary.values()))["distinct"])
    width = 0.8 / len(summary)
    for k, (method, s) in enumerate(summary.items()):
        mine = [r for r in rows if r["method"] == method]
        x = np.array([int(r["trial"]) for r in mine])
        mean, lo, hi = (np.array([float(r[c]) for r in mine]) for c in ("mean", "min", "max"))
        axes[0].plot(x, mean, color=f"C{k}", label=f"{method}: {fmt(s['best_mean'], 3)}")
        axes[0].fill_between(x, lo, hi, color=f"C{k}", alpha=0.2, lw=0)
        at = np.arange(len(keys)) + (k - (len(summary) - 1) / 2) * width
        axes[1].bar(at, [s["distinct"][key] for key in keys], width, color=f"C{k}",
                    label=method)
        axes[2].bar(at, [s["importances"][key] for key in keys], width, color=f"C{k}",
                    label=method)
    n = next(iter(summary.values()))
    axes[0].set(xlabel="trial", ylabel="best validation accuracy so far",
                title=f"mean and min–max of {n['searches']} searches")
    axes[0].legend(fontsize="small", title="best after all trials", title_fontsize="small")
    short = [key.rsplit(".", 1)[-1] for key in keys]
    axes[1].set(xticks=range(len(keys)), xticklabels=short, title="distinct values tried")
    axes[2].set(xticks=range(len(keys)), xticklabels=short,
                title=f"importance ({n['importance_method']})")
    axes[1].legend(fontsize="small")
    for ax in axes:
        ax.grid(alpha=0.3)
    return _finish(fig, f"grid, random and TPE search, {n['trials']} trials each",
                   out_dir / "plots" / "search_methods.png")


def plot_schedules(out_dir: Path, band: str = "minmax") -> list[Path]:
    """Final loss and best validation accuracy per schedule, one group per optimiser."""
    out_dir = Path(out_dir)
    rows = read_csv(out_dir / "summary.csv")
    label = next(iter(rows[0]))
    groups: dict[str, dict[str, dict]] = {}
    for r in rows:
        opt, _, schedule = r[label].partition("_")
        groups.setdefault(opt, {})[schedule] = r
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, (metric, title) in zip(axes, (("final_smoothed_loss", "final smoothed loss"),
                                          ("best_val_acc", "best validation accuracy"))):
        width = 0.8 / len(groups)
        for k, (opt, by_schedule) in enumerate(groups.items()):
            names = list(by_schedule)
            at = np.arange(len(names)) + (k - (len(groups) - 1) / 2) * width
            y = [float(by_schedule[n][metric] or "nan") for n in names]
            err = [float(by_schedule[n].get(f"{metric}_std") or 0) for n in names]
            ax.bar(at, y, width, yerr=err if any(err) else None, color=f"C{k}", label=opt,
                   capsize=2)
            ax.set_xticks(range(len(names)), names, rotation=20)
        spread = any(float(r.get(f"{metric}_std") or 0) for r in rows)
        ax.set_title(title + (" (± std over seeds)" if spread else " (one seed)"),
                     fontsize="medium")
        ax.legend(fontsize="small")
        ax.grid(alpha=0.3, axis="y")
    axes[1].set_ylim(bottom=min(float(r["best_val_acc"] or 1) for r in rows) - 0.02)
    return [_finish(fig, "learning-rate schedules on one budget",
                    out_dir / "plots" / "schedules.png")]


def plot_adam_bias(out_dir: Path) -> Path:
    """Adam with and without bias correction: ‖Δθ‖ and the loss over MNIST's first
    updates (mean over seeds), and |Δx| on the bowl."""
    out_dir = Path(out_dir)
    series: dict[tuple[str, str], dict[int, list[tuple[float, float]]]] = {}
    for r in read_csv(out_dir / "adam_bias.csv"):
        runs = series.setdefault((r["source"], r["variant"]), {})
        runs.setdefault(int(r["seed"]), []).append((float(r["step"]), float(r["loss"])))
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    panels = ((axes[0], "mnist", 0, "‖Δθ‖ per update", "MNIST: step size (mean of seeds)"),
              (axes[1], "mnist", 1, "minibatch loss", "MNIST: loss (mean of seeds)"),
              (axes[2], "surface", 0, "|Δx| per update", "x²/20 + y², η = 0.3: step along x"))
    for ax, source, col, ylabel, title in panels:
        for k, variant in enumerate(("corrected", "uncorrected")):
            runs = series.get((source, variant), {})
            y = np.mean([[p[col] for p in run] for run in runs.values()], axis=0)  # (T,)
            ax.plot(np.arange(1, len(y) + 1), y, color=f"C{k}", label=variant, lw=1.2)
        ax.set(xlabel="update", ylabel=ylabel, title=title)
        ax.set_yscale("log")
        ax.legend(fontsize="small")
        ax.grid(alpha=0.3)
    return _finish(fig, "Adam with and without bias correction of m and v",
                   out_dir / "plots" / "adam_bias.png")
