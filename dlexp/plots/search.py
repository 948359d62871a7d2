"""Figures of a search, made from its folder (``trials.csv``, ``curves.json``, ``summary.json``):

    plots/top20.png    the 20 best trials' accuracy curves, 4 × 5 (the book's figure)
    plots/params.png   final validation accuracy against each parameter, by round
    plots/scatter.png  the first two numeric parameters, coloured by validation accuracy
    plots/history.png  each trial's validation accuracy and the best so far, numbered as in
                       trials.csv (from 0 in each round; the rounds side by side)
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from dlexp.fmt import fmt, rank_key
from dlexp.io import read_csv, read_json
from dlexp.plots.base import save_figure

TOP = 20


def plot_search(d: Path) -> list[Path]:
    """The four figures of search folder ``d``, into ``d/plots``."""
    summary = read_json(d / "summary.json", {})
    rows = [{"round": int(r["round"]), "number": int(r["number"]), "state": r["state"],
             "val_acc": float(r["val_acc"]) if r["val_acc"] else None,
             "params": {k: _value(r[k]) for k in summary.get("params", [])}}
            for r in read_csv(d / "trials.csv", optional=True)]
    if not rows:
        return []
    space = summary["rounds"][0]["space"]
    scored = [r for r in rows if r["val_acc"] is not None]
    ranked = sorted((r for r in scored if r["state"] == "complete"), key=rank_key)
    numeric = [k for k, s in space.items() if s["distribution"] != "choice"]
    out = [_history(rows, d / "plots" / "history.png")]
    if ranked:
        curves = {(c["round"], c["number"]): c for c in read_json(d / "curves.json", [])}
        out.append(_top_curves(ranked[:TOP], curves, list(space), d / "plots" / "top20.png"))
    if scored:
        out.append(_against_params(scored, space, d / "plots" / "params.png"))
    if scored and len(numeric) >= 2:
        out.append(_scatter(scored, numeric[:2], space, d / "plots" / "scatter.png"))
    return out


def _value(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


def _scale(key: str, space: dict) -> str:
    return "log" if space[key]["distribution"] == "log_uniform" else "linear"


def _top_curves(top: list[dict], curves: dict, keys: list[str], path: Path) -> Path:
    fig, axes = plt.subplots(4, 5, figsize=(12, 9.6), sharex=True, sharey=True,
                             layout="constrained")
    for i, ax in enumerate(axes.flat):
        if i >= len(top):
            ax.axis("off")
            continue
        r = top[i]
        c = curves.get((r["round"], r["number"]), {})
        x = range(1, len(c.get("val_acc", [])) + 1)
        ax.plot(x, c.get("val_acc", []), "-", lw=1.2, label="validation")
        ax.plot(x, c.get("train_acc", []), "--", lw=1.0, label="training")
        name = f"trial {r['number']}" if r["round"] == 1 else f"r{r['round']} trial {r['number']}"
        params = [f"{key.rsplit('.', 1)[-1]} {fmt(r['params'][key], 2)}" for key in keys]
        lines = ["  ".join(params[j:j + 2]) for j in range(0, len(params), 2)]  # two a line
        ax.set_title("\n".join([f"Best-{i + 1}: {name}, val {fmt(r['val_acc'], 2)}", *lines]),
                     fontsize=7.5)
        ax.set_ylim(0, 1)
        ax.tick_params(labelsize=7)
    fig.legend(*axes.flat[0].get_legend_handles_labels(), loc="outside upper right", ncol=2,
               fontsize=8, frameon=False)
    fig.suptitle("the best trials' accuracy curves", x=0.01, ha="left", fontsize=10)
    fig.supxlabel("evaluation (epoch)")
    fig.supylabel("accuracy")
    return save_figure(fig, path, dpi=80)


def _against_params(rows: list[dict], space: dict, path: Path) -> Path:
    fig, axes = plt.subplots(1, len(space), figsize=(4.6 * len(space), 3.8), sharey=True,
                             squeeze=False, layout="constrained")
    for ax, key in zip(axes[0], space):
        for rnd in sorted({r["round"] for r in rows}):
            colour = f"C{(rnd - 1) % 10}"
            for state, face in (("complete", colour), ("pruned", "none")):
                pts = [r for r in rows if r["round"] == rnd and r["state"] == state]
                if pts:
                    ax.scatter([r["params"][key] for r in pts], [r["val_acc"] for r in pts],
                               s=18, facecolors=face, edgecolors=colour,
                               label=f"round {rnd}" + " (pruned)" * (state == "pruned"))
        ax.set(xscale=_scale(key, space), xlabel=key)
    axes[0][0].set_ylabel("final validation accuracy")
    axes[0][-1].legend(fontsize=7)
    fig.suptitle("each trial's validation accuracy against each hyperparameter")
    return save_figure(fig, path, dpi=90)


def _scatter(rows: list[dict], keys: list[str], space: dict, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6, 4.8), layout="constrained")
    pts = sorted(rows, key=lambda r: r["val_acc"])          # best drawn last, on top
    sc = ax.scatter([r["params"][keys[0]] for r in pts], [r["params"][keys[1]] for r in pts],
                    c=[r["val_acc"] for r in pts], cmap="viridis", vmin=0, vmax=1, s=24,
                    edgecolors="k", linewidths=0.3)
    short = [key.rsplit(".", 1)[-1] for key in keys]
    ax.set(xscale=_scale(keys[0], space), yscale=_scale(keys[1], space),
           xlabel=keys[0], ylabel=keys[1],
           title=f"the trials in the {short[0]}–{short[1]} plane (colour: accuracy)")
    fig.colorbar(sc, ax=ax, label="final validation accuracy")
    return save_figure(fig, path, dpi=90)


def _history(rows: list[dict], path: Path) -> Path:
    ordered = sorted(rows, key=lambda r: (r["round"], r["number"]))
    starts, at = {}, 0                             # round → x of its trial 0: one after another
    for rnd in sorted({r["round"] for r in ordered}):
        starts[rnd] = at
        at += max(r["number"] for r in ordered if r["round"] == rnd) + 1
    x = [starts[r["round"]] + r["number"] for r in ordered]
    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    complete = [r["val_acc"] if r["state"] == "complete" and r["val_acc"] is not None
                else np.nan for r in ordered]
    for state, marker in (("complete", "o"), ("pruned", "x")):
        pts = [(i, r["val_acc"]) for i, r in zip(x, ordered)
               if r["state"] == state and r["val_acc"] is not None]
        if pts:
            ax.plot(*zip(*pts), marker, ms=4, alpha=0.6, ls="none", label=state)
    ax.step(x, np.fmax.accumulate(complete), where="post", color="C3", label="best so far")
    if len(starts) > 1:
        _mark_rounds(ax, starts, at)
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(xlabel="trial number (as in trials.csv" + (", from 0 in each round)"
                                                      if len(starts) > 1 else ")"),
           ylabel="final validation accuracy", ylim=(0, 1))
    ax.set_title("validation accuracy trial by trial, and the best so far",
                 pad=14 if len(starts) > 1 else 6)      # above the rounds' names
    ax.legend(fontsize=8, loc="lower right")
    return save_figure(fig, path, dpi=90)


def _mark_rounds(ax: plt.Axes, starts: dict[int, int], end: int) -> None:
    """Ticks labelled with the trial number within each round; a line and a name per round."""
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 10 ** 9)
                if end / s <= 12)
    ticks: dict[int, str] = {}
    for (rnd, start), stop in zip(starts.items(), [*list(starts.values())[1:], end]):
        ticks |= {start + n: str(n) for n in range(0, stop - start, step)
                  if n == 0 or start + n <= stop - step / 2}     # not crowding the next 0
        if start:
            ax.axvline(start - 0.5, color="grey", ls=":", lw=1)
        ax.text(start - 0.5, 1.01, f" round {rnd}", transform=ax.get_xaxis_transform(),
                fontsize=8, va="bottom", ha="left")
    ax.set_xticks(list(ticks), list(ticks.values()))
