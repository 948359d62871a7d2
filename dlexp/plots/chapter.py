"""The figures of the chapter's own experiments, each drawn from its folder's files, and
:data:`DRAW`: every figure of each experiment of ``dlexp reproduce``, by its name."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter, MaxNLocator

from dlexp.fmt import fmt
from dlexp.io import read_csv, read_json
from dlexp.plots.base import grouped_bars, save_figure
from dlexp.plots.compare import plot_compare, plot_schedules
from dlexp.plots.overfit import plot_bn_grid, plot_bn_summary, plot_ensemble, plot_train_val
from dlexp.surfaces import get_function


def _column(rows: list[dict], column: str, **match: str) -> np.ndarray:
    """``column`` as floats (empty: NaN) of the rows whose values match ``match``."""
    return np.array([float(r[column] or "nan") for r in rows
                     if all(r[k] == v for k, v in match.items())])


def _lines(ax: plt.Axes, ys: dict[str, np.ndarray], ylabel: str, title: str) -> None:
    """One line per label against the update number, on a log y axis."""
    for k, (label, y) in enumerate(ys.items()):
        ax.plot(np.arange(1, len(y) + 1), y, color=f"C{k}", lw=1.2, label=label)
    ax.set(xlabel="update", ylabel=ylabel, title=title, yscale="log")
    ax.legend()


def plot_step_fade(out_dir: Path) -> Path:
    """``plots/step_fade.png``: ‖Δθ‖ per update on MNIST and the rate η/√h on the bowl,
    AdaGrad against RMSProp."""
    info = read_json(out_dir / "step_fade.json")
    rows = read_csv(out_dir / "step_sizes.csv")
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
    for ax, source, column, ylabel, title in (
            (axes[0], "mnist", "step", "‖Δθ‖ per update (rolling median of 25)",
             "MNIST, all parameters"),
            (axes[1], "surface", "rate", "rate η/(√h+ε) applied to ∂f/∂x",
             "f = x²/20 + y², η = 0.1")):
        ys = {}
        for name, s in info.get(source, {}).items():
            y = _column(rows, column, source=source, optimizer=name)       # (T,)
            if source == "mnist":                  # the median of the last 25 values
                y = np.array([np.median(y[max(0, i - 24):i + 1]) for i in range(len(y))])
            ys[f"{name} (η {fmt(s['lr'])}): late/early {fmt(s['fade'], 2)}"] = y
        _lines(ax, ys, ylabel, title)
    fig.suptitle("AdaGrad's steps fade; RMSProp's do not")
    return save_figure(fig, out_dir / "plots" / "step_fade.png")


def plot_adam_bias(out_dir: Path) -> Path:
    """``plots/adam_bias.png``: Adam with and without bias correction, ‖Δθ‖ and the loss
    over MNIST's first updates (mean over seeds), and |Δx| on the bowl."""
    rows = read_csv(out_dir / "adam_bias.csv")
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), layout="constrained")
    for ax, source, column, ylabel, title in (
            (axes[0], "mnist", "step", "‖Δθ‖ per update", "MNIST: step size (mean of seeds)"),
            (axes[1], "mnist", "loss", "minibatch loss", "MNIST: loss (mean of seeds)"),
            (axes[2], "surface", "step", "|Δx| per update",
             "x²/20 + y², η = 0.3: step along x")):
        seeds = dict.fromkeys(r["seed"] for r in rows if r["source"] == source)
        _lines(ax, {variant: np.mean([_column(rows, column, source=source, variant=variant,
                                              seed=seed) for seed in seeds], axis=0)
                    for variant in ("corrected", "uncorrected")}, ylabel, title)
    fig.suptitle("Adam with and without bias correction of m and v")
    return save_figure(fig, out_dir / "plots" / "adam_bias.png")


def plot_search_methods(out_dir: Path) -> Path:
    """``plots/search_methods.png``: best-so-far validation accuracy per method (mean,
    min–max band over the searches), the distinct values each tried, the importances."""
    summary = read_json(out_dir / "search_methods.json")
    rows = read_csv(out_dir / "best_so_far.csv")
    first = next(iter(summary.values()))
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), width_ratios=(2, 1, 1),
                             layout="constrained")
    for k, (method, s) in enumerate(summary.items()):
        trial, mean, lo, hi = (_column(rows, c, method=method)
                               for c in ("trial", "mean", "min", "max"))
        axes[0].plot(trial, mean, color=f"C{k}", label=f"{method}: {fmt(s['best_mean'], 3)}")
        axes[0].fill_between(trial, lo, hi, color=f"C{k}", alpha=0.2, lw=0)
    axes[0].set(xlabel="trial", ylabel="best validation accuracy so far",
                title=f"mean and min–max of {first['searches']} searches")
    axes[0].legend(title="best after all trials", title_fontsize="small")
    axes[0].xaxis.set_major_locator(MaxNLocator(integer=True))
    keys = list(first["distinct"])
    for ax, what, title in ((axes[1], "distinct", "distinct values tried"),
                            (axes[2], "importances", f"importance ({first['importance_method']})")):
        grouped_bars(ax, {m: [s[what][key] for key in keys] for m, s in summary.items()},
                     [key.rsplit(".", 1)[-1] for key in keys])
        ax.set_title(title)
    fig.legend(*axes[1].get_legend_handles_labels(), loc="outside lower center",
               ncols=len(summary))                               # under the bars, not on them
    fig.suptitle(f"grid, random and TPE search, {first['trials']} trials each")
    return save_figure(fig, out_dir / "plots" / "search_methods.png")


def plot_paths(run_dir: Path) -> Path:
    """``plots/optimizer-paths.png``: a panel per optimiser, its path over the contours of
    f (levels even in log f, so the ellipses spread), + at the minimum."""
    info = read_json(run_dir / "paths.json")
    fn = get_function(info["function"])
    rows = read_csv(run_dir / "paths.csv")
    names = list(dict.fromkeys(r["optimizer"] for r in rows))
    cols = 3 if len(names) > 4 else min(2, len(names))
    fig, axes = plt.subplots(math.ceil(len(names) / cols), cols, squeeze=False,
                             figsize=(4.2 * cols, 3.4 * math.ceil(len(names) / cols)),
                             layout="constrained")
    for ax, name in zip(axes.flat, names):
        x, y = (_column(rows, c, optimizer=name) for c in ("x", "y"))     # (steps + 1,)
        xlim, ylim = _frame(fn.xlim, x), _frame(fn.ylim, y)
        gx, gy = np.meshgrid(np.linspace(*xlim, 240), np.linspace(*ylim, 200))  # (200, 240)
        z = fn.value(gx, gy)
        low = max(float(z.min()), 1e-3 * float(z.max()))
        ax.contour(gx, gy, z, levels=np.geomspace(low, float(z.max()), 14), colors="0.7",
                   linewidths=0.7)
        ax.plot(x, y, "o-", color="C3", ms=3, lw=1)
        ax.plot(*fn.minimum, "+", color="k", ms=10, mew=1.5)
        diverged = info["final"][name].get("diverged_at")
        note = f", diverged at update {diverged}" if diverged is not None else ""
        ax.set(xlim=xlim, ylim=ylim, xlabel="x", ylabel="y",
               title=f"{name} (lr {info['lrs'][name]:g}{note})")
        ax.grid(False)
    for ax in axes.flat[len(names):]:
        ax.set_visible(False)
    start = ", ".join(f"{v:g}" for v in info["start"])
    fig.suptitle(f"{fn.formula}: {info['steps']} updates from ({start}); + the minimum")
    return save_figure(fig, run_dir / "plots" / "optimizer-paths.png")


def _frame(limits: tuple[float, float], values: np.ndarray) -> tuple[float, float]:
    """The function's frame, widened to hold the path's finite points (a point on the
    edge shows whole) unless that makes it over 4 times as wide (a diverging path)."""
    low, high = limits
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return low, high
    lo = min(low, float(finite.min()) - 0.04 * (high - low))
    hi = max(high, float(finite.max()) + 0.04 * (high - low))
    return (lo, hi) if hi - lo <= 4 * (high - low) else (low, high)


HISTOGRAMS = {"outputs": ("activations.png", "activations h", "h", "act_std"),
              "grads": ("gradients.png", "gradients δ = dL/da", "δ", "delta_std")}


def plot_activations(run_dir: Path, kinds: tuple[str, ...] = tuple(HISTOGRAMS)) -> list[Path]:
    """``plots/activations.png`` (h_k) and ``plots/gradients.png`` (δ_k = dL/da_k) of an
    activations run: a row per initialiser, a column per layer, and a last column with the
    std per layer on one log axis for every row (0, under zeros: left out). Each histogram
    spans its own bins: the fixed range of sigmoid and tanh outputs (so saturation at 0 and
    1 and a collapse to 0.5 show as such), else the layer's own min…max (so a distribution
    that narrows by 10⁶ still shows its shape; its std says how wide it is)."""
    info = read_json(run_dir / "activations.json")
    hist, stats = read_csv(run_dir / "histograms.csv"), read_csv(run_dir / "stats.csv")
    inits, layers = info["inits"], range(1, info["layers"] + 1)
    out = []
    for kind in kinds:
        file, what, symbol, std_column = HISTOGRAMS[kind]
        std = {(r["init"], int(r["layer"])): float(r[std_column]) for r in stats}
        fig, axes = plt.subplots(len(inits), len(layers) + 1, squeeze=False,
                                 figsize=(2.3 * (len(layers) + 1), 1.8 * len(inits) + 0.6),
                                 layout="constrained")
        spans = set()
        for row, init in zip(axes, inits):
            for ax, k in zip(row, layers):
                spans.add(_histogram(ax, [r for r in hist if (r["kind"], r["init"], r["layer"])
                                          == (kind, init, str(k))]))
                head = f"layer {k}\n" if init == inits[0] else ""     # over the top row
                ax.set_title(f"{head}std {fmt(std.get((init, k)))}", fontsize="x-small")
                ax.set_xlabel(symbol if init == inits[-1] else "")
            row[0].set_ylabel(init, fontsize="small")
            shown = [k for k in layers if std.get((init, k))]
            row[-1].plot(shown, [std[init, k] for k in shown], "o-", ms=3, color="C3")
            row[-1].set(yscale="log", xticks=layers, xlim=(0.5, len(layers) + 0.5))
        positive = [v for v in std.values() if v > 0] or [1.0]
        for ax in axes[:, -1]:                      # one log axis for every std panel
            ax.set_ylim(min(positive) / 2, max(positive) * 2)
        axes[0, -1].set_title(f"std of {symbol} (log)", fontsize="small")
        axes[-1, -1].set_xlabel("layer")
        for ax in axes.flat:
            ax.tick_params(labelsize="x-small")
        spans.discard(None)
        span = (f"x from {fmt(min(spans)[0])} to {fmt(max(spans)[1])} in every panel"
                if len(spans) == 1 else "x axis: each panel its own min…max")
        fig.suptitle(f"{info['activation']}: {what} per layer, under each initialiser\n"
                     f"histograms: share of values; {span}", fontsize="medium")
        out.append(save_figure(fig, run_dir / "plots" / file))
    return out


def _histogram(ax: plt.Axes, bins: list[dict]) -> tuple[float, float] | None:
    """The share of values per bin, the x axis spanning exactly the bins; their span."""
    ax.set(yticks=[])
    ax.grid(False)
    if not bins:
        return None
    counts = np.array([int(b["count"]) for b in bins])                   # (bins,)
    edges = [float(b["low"]) for b in bins] + [float(bins[-1]["high"])]  # (bins + 1,)
    ax.stairs(counts / max(counts.sum(), 1), edges, fill=True, color="C0")
    ax.set_xlim(edges[0], edges[-1])
    ax.xaxis.set_major_locator(MaxNLocator(2, steps=[1, 2, 2.5, 5, 10]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: fmt(x)))
    return edges[0], edges[-1]


DRAW: dict[str, tuple[Callable[[Path], object], ...]] = {
    "optimizer-paths": (plot_paths,),
    "compare-optimizers": (plot_compare,),
    "step-fade": (plot_step_fade,),
    "adam-bias": (plot_adam_bias,),
    "lr-decay": (plot_schedules, plot_compare),
    "activations": (lambda folder: plot_activations(folder, ("outputs",)),),
    "compare-inits": (plot_compare,),
    "batchnorm": (plot_bn_grid, plot_bn_summary),
    "batchnorm-overfit": (plot_train_val, plot_compare),
    "overfit-weight-decay": (plot_train_val,),
    "overfit-dropout": (plot_train_val,),
    "ensemble": (plot_ensemble, plot_train_val),
    "search-methods": (plot_search_methods,),
}


def draw_experiment(name: str, folder: Path) -> None:
    """Every figure of the chapter experiment ``name`` into ``folder``/plots."""
    for draw in DRAW[name]:
        draw(Path(folder))
