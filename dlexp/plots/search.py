"""Figures of a search, made from its folder (``trials.csv``, ``curves.json``,
``summary.json``); plotting never trains.

    plots/top20.png    the 20 best trials' accuracy curves, 4 × 5 (the book's figure):
                       validation solid, training dashed; each panel's title names the
                       trial and its parameters (above the curves, never over them)
    plots/params.png   final validation accuracy against each parameter (log axes for
                       log-uniform ones), coloured by round; pruned trials hollow
    plots/scatter.png  the first two numeric parameters (lr × weight decay) coloured by
                       validation accuracy
    plots/history.png  each trial's validation accuracy and the best so far against its
                       trial number in trials.csv (numbered from 0 in each round; the
                       rounds side by side, numbered as in the table)
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

from dlexp.fmt import fmt
from dlexp.io import read_json
from dlexp.plots.save import save_figure
from dlexp.fmt import rank_key

TOP = 20
ROUND_COLOURS = plt.get_cmap("tab10")


def plot_search(search_dir: Path) -> list[Path]:
    """Write the four figures into ``search_dir/plots``; the paths written."""
    d = Path(search_dir)
    summary = read_json(d / "summary.json", {})
    rows = _read_rows(d / "trials.csv", summary.get("params", []))
    if not rows:
        return []
    space = summary["rounds"][0]["space"]
    curves = {(c["round"], c["number"]): c for c in read_json(d / "curves.json", [])}
    scored = [r for r in rows if r["val_acc"] is not None]
    ranked = sorted((r for r in scored if r["state"] == "complete"), key=rank_key)
    out = [_history(rows, d / "plots" / "history.png")]
    if ranked:
        out.append(_top_curves(ranked[:TOP], curves, space, d / "plots" / "top20.png"))
    if scored:
        out.append(_against_params(scored, space, d / "plots" / "params.png"))
    numeric = [k for k, s in space.items() if s["distribution"] != "choice"]
    if scored and len(numeric) >= 2:
        out.append(_scatter(scored, numeric[:2], space, d / "plots" / "scatter.png"))
    return out


def _top_curves(top: list[dict], curves: dict, space: dict, path: Path) -> Path:
    fig, axes = plt.subplots(4, 5, figsize=(12, 9.6), sharex=True, sharey=True)
    for i, ax in enumerate(axes.flat):
        if i >= len(top):
            ax.axis("off")
            continue
        r = top[i]
        c = curves.get((r["round"], r["number"]), {})
        x = range(1, len(c.get("val_acc", [])) + 1)
        ax.plot(x, c.get("val_acc", []), "-", lw=1.2, label="validation")
        ax.plot(x, c.get("train_acc", []), "--", lw=1.0, label="training")
        ax.set_ylim(0, 1)
        ax.set_title(f"Best-{i + 1}: {_trial_name(r)}, val {fmt(r['val_acc'], 2)}\n"
                     + _param_lines(r["params"], list(space)), fontsize=7.5)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper right", ncol=2, fontsize=8, frameon=False)
    fig.suptitle("the best trials' accuracy curves", x=0.01, ha="left", fontsize=10)
    fig.supxlabel("evaluation (epoch)")
    fig.supylabel("accuracy")
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    save_figure(fig, path, dpi=80)
    return path


def _trial_name(r: dict) -> str:
    """``trial 57``, or ``r2 trial 5`` when the search had rounds (as in trials.csv)."""
    return f"trial {r['number']}" if r["round"] == 1 else f"r{r['round']} trial {r['number']}"


def _param_lines(params: dict, keys: list[str]) -> str:
    """``lr 9.2e-03  l2 2.8e-06``: two parameters to a line."""
    parts = [f"{_short(k)} {fmt(params[k], 2)}" for k in keys]
    return "\n".join("  ".join(parts[i:i + 2]) for i in range(0, len(parts), 2))


def _against_params(rows: list[dict], space: dict, path: Path) -> Path:
    keys = list(space)
    fig, axes = plt.subplots(1, len(keys), figsize=(4.6 * len(keys), 3.8), sharey=True,
                             squeeze=False)
    n_rounds = max(r["round"] for r in rows)
    for ax, key in zip(axes[0], keys):
        for rnd in range(1, n_rounds + 1):
            colour = ROUND_COLOURS(rnd - 1)
            for state, face in (("complete", colour), ("pruned", "none")):
                pts = [r for r in rows if r["round"] == rnd and r["state"] == state]
                if pts:
                    ax.scatter([r["params"][key] for r in pts], [r["val_acc"] for r in pts],
                               s=18, facecolors=face, edgecolors=colour,
                               label=f"round {rnd}" + (" (pruned)" if state == "pruned" else ""))
        if space[key]["distribution"] == "log_uniform":
            ax.set_xscale("log")
        ax.set_xlabel(key)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("final validation accuracy")
    axes[0][-1].legend(fontsize=7, loc="best")
    fig.suptitle("each trial's validation accuracy against each hyperparameter",
                 fontsize="medium")
    fig.tight_layout()
    save_figure(fig, path, dpi=90)
    return path


def _scatter(rows: list[dict], keys: list[str], space: dict, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6, 4.8))
    pts = sorted(rows, key=lambda r: r["val_acc"])          # best drawn last, on top
    sc = ax.scatter([r["params"][keys[0]] for r in pts], [r["params"][keys[1]] for r in pts],
                    c=[r["val_acc"] for r in pts], cmap="viridis", vmin=0, vmax=1, s=24,
                    edgecolors="k", linewidths=0.3)
    for axis, key in (("x", keys[0]), ("y", keys[1])):
        if space[key]["distribution"] == "log_uniform":
            getattr(ax, f"set_{axis}scale")("log")
    ax.set_xlabel(keys[0])
    ax.set_ylabel(keys[1])
    fig.colorbar(sc, ax=ax, label="final validation accuracy")
    ax.set_title(f"the trials in the {_short(keys[0])}–{_short(keys[1])} plane "
                 "(colour: accuracy)", fontsize="medium")
    ax.grid(alpha=0.3)
    save_figure(fig, path, dpi=90)
    return path


def _history(rows: list[dict], path: Path) -> Path:
    ordered = sorted(rows, key=lambda r: (r["round"], r["number"]))
    starts = _round_starts(ordered)                    # round → x of its trial 0
    x = [starts[r["round"]] + r["number"] for r in ordered]
    fig, ax = plt.subplots(figsize=(7, 4))
    best, so_far = -math.inf, []
    for r in ordered:
        if r["state"] == "complete" and r["val_acc"] is not None:
            best = max(best, r["val_acc"])
        so_far.append(best if best > -math.inf else math.nan)
    for state, marker in (("complete", "o"), ("pruned", "x")):
        pts = [(i, r["val_acc"]) for i, r in zip(x, ordered)
               if r["state"] == state and r["val_acc"] is not None]
        if pts:
            ax.plot(*zip(*pts), marker, ms=4, alpha=0.6, ls="none", label=state)
    ax.step(x, so_far, where="post", color="C3", label="best so far")
    if len(starts) > 1:
        _mark_rounds(ax, starts, x[-1] + 1)
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("trial number (as in trials.csv" +
                  (", from 0 in each round)" if len(starts) > 1 else ")"))
    ax.set_ylabel("final validation accuracy")
    ax.set_ylim(0, 1)
    ax.set_title("validation accuracy trial by trial, and the best so far",
                 fontsize="medium")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    save_figure(fig, path, dpi=90)
    return path


def _round_starts(ordered: list[dict]) -> dict[int, int]:
    """Where each round's trial 0 goes on the x axis: the rounds one after another."""
    starts, at = {}, 0
    for rnd in sorted({r["round"] for r in ordered}):
        starts[rnd] = at
        at += max(r["number"] for r in ordered if r["round"] == rnd) + 1
    return starts


def _mark_rounds(ax, starts: dict[int, int], end: int) -> None:
    """Ticks labelled with the trial number within each round; a line and a name per round."""
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 10 ** 9)
                if end / s <= 12)
    bounds = [*starts.values(), end]
    ticks, labels = [], []
    for (rnd, start), stop in zip(starts.items(), bounds[1:]):
        for n in range(0, stop - start, step):
            if n == 0 or start + n <= stop - step / 2:    # not crowding the next 0
                ticks.append(start + n)
                labels.append(str(n))
        if start:
            ax.axvline(start - 0.5, color="grey", ls=":", lw=1)
        ax.text(start - 0.5, 1.01, f" round {rnd}", transform=ax.get_xaxis_transform(),
                fontsize=8, va="bottom", ha="left")
    ax.set_xticks(ticks, labels)


def _read_rows(path: Path, keys: list[str]) -> list[dict]:
    try:
        with open(path, newline="", encoding="utf-8") as f:
            raw = list(csv.DictReader(f))
    except OSError:
        return []
    return [{"round": int(r["round"]), "number": int(r["number"]), "state": r["state"],
             "val_acc": _float(r["val_acc"]), "params": {k: _value(r[k]) for k in keys}}
            for r in raw]


def _float(text: str) -> float | None:
    return float(text) if text else None


def _value(text: str):
    try:
        return float(text)
    except ValueError:
        return text


def _short(key: str) -> str:
    return key.rsplit(".", 1)[-1]
