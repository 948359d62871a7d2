"""Figures of a search, made from its folder (``trials.csv``, ``curves.json``,
``summary.json``); plotting never trains.

    plots/top20.png    the 20 best trials' accuracy curves, 4 × 5 (the book's figure):
                       validation solid, training dashed
    plots/params.png   final validation accuracy against each parameter (log axes for
                       log-uniform ones), coloured by round; pruned trials hollow
    plots/scatter.png  the first two numeric parameters (lr × weight decay) coloured by
                       validation accuracy
    plots/history.png  each trial's validation accuracy and the best so far, in trial order
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import matplotlib.pyplot as plt

from dlexp.fmt import fmt
from dlexp.plots.runs import save_figure

TOP = 20
ROUND_COLOURS = plt.get_cmap("tab10")


def plot_search(search_dir: Path) -> list[Path]:
    """Write the four figures into ``search_dir/plots``; the paths written."""
    d = Path(search_dir)
    summary = _read_json(d / "summary.json")
    rows = _read_rows(d / "trials.csv", summary.get("params", []))
    if not rows:
        return []
    space = summary["rounds"][0]["space"]
    curves = {(c["round"], c["number"]): c for c in _read_json(d / "curves.json") or []}
    scored = [r for r in rows if r["val_acc"] is not None]
    ranked = sorted((r for r in scored if r["state"] == "complete"),
                    key=lambda r: (-r["val_acc"], r["round"], r["number"]))
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
    fig, axes = plt.subplots(4, 5, figsize=(12, 8.4), sharex=True, sharey=True)
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
        ax.set_title(f"Best-{i + 1}  val {fmt(r['val_acc'], 2)}", fontsize=9)
        ax.text(0.97, 0.04, "\n".join(f"{_short(k)} {fmt(r['params'][k], 2)}" for k in space),
                transform=ax.transAxes, ha="right", va="bottom", fontsize=7)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7)
    axes.flat[0].legend(fontsize=7, loc="upper left")
    fig.supxlabel("evaluation (epoch)")
    fig.supylabel("accuracy")
    fig.tight_layout()
    save_figure(fig, path, dpi=80)
    return path


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
    ax.grid(alpha=0.3)
    save_figure(fig, path, dpi=90)
    return path


def _history(rows: list[dict], path: Path) -> Path:
    ordered = sorted(rows, key=lambda r: (r["round"], r["number"]))
    fig, ax = plt.subplots(figsize=(7, 4))
    best, so_far = -math.inf, []
    for r in ordered:
        if r["state"] == "complete" and r["val_acc"] is not None:
            best = max(best, r["val_acc"])
        so_far.append(best if best > -math.inf else None)
    x = range(1, len(ordered) + 1)
    for state, marker in (("complete", "o"), ("pruned", "x")):
        pts = [(i, r["val_acc"]) for i, r in zip(x, ordered)
               if r["state"] == state and r["val_acc"] is not None]
        if pts:
            ax.plot(*zip(*pts), marker, ms=4, alpha=0.6, ls="none", label=state)
    ax.step(list(x), [v if v is not None else math.nan for v in so_far], where="post",
            color="C3", label="best so far")
    for i in range(1, len(ordered)):
        if ordered[i]["round"] != ordered[i - 1]["round"]:
            ax.axvline(i + 0.5, color="grey", ls=":", lw=1)
    ax.set_xlabel("trial")
    ax.set_ylabel("final validation accuracy")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    save_figure(fig, path, dpi=90)
    return path


def _read_rows(path: Path, keys: list[str]) -> list[dict]:
    try:
        with open(path, newline="", encoding="utf-8") as f:
            raw = list(csv.DictReader(f))
    except OSError:
        return []
    return [{"round": int(r["round"]), "number": int(r["number"]), "state": r["state"],
             "val_acc": _float(r["val_acc"]), "params": {k: _value(r[k]) for k in keys}}
            for r in raw]


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def _float(text: str) -> float | None:
    return float(text) if text else None


def _value(text: str):
    try:
        return float(text)
    except ValueError:
        return text


def _short(key: str) -> str:
    return key.rsplit(".", 1)[-1]
