"""Figures of a comparison folder, drawn from its CSVs (see
:mod:`dlexp.experiments.aggregate`): nothing here reads a model or trains.

* ``plots/loss.png``: per label, the raw mean loss of every update (faint), its moving
  average (bold) and, with several seeds, a band (min–max or ±std of the seeds'
  smoothed curves).
* ``plots/val_accuracy.png``: mean validation accuracy at each evaluation, same band.
* each sub-run's own ``plots/loss.png`` and ``plots/accuracy.png`` (as ``dlexp train``).
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from dlexp.experiments.aggregate import read_csv
from dlexp.plots.runs import plot_run, save_figure

BANDS = ("minmax", "std")


def plot_compare(out_dir: Path, band: str = "minmax", sub_runs: bool = True,
                 title: str | None = None) -> list[Path]:
    """Write the comparison's figures under ``out_dir/plots``; return their paths.

    ``title`` defaults to the comparison's name (compare.json)."""
    if band not in BANDS:
        from dlexp.errors import ConfigError
        raise ConfigError(f"--band {band!r}: choose one of {', '.join(BANDS)}")
    out_dir = Path(out_dir)
    if title is None:
        spec = out_dir / "compare.json"
        title = json.loads(spec.read_text())["name"] if spec.is_file() else out_dir.name
    loss = _by_label(read_csv(out_dir / "loss.csv"))
    val = _by_label(read_csv(out_dir / "val_accuracy.csv"))
    colors = {label: f"C{i % 10}" for i, label in enumerate(dict.fromkeys([*loss, *val]))}
    out = []
    if loss:
        out.append(_plot_loss(loss, colors, band, title, out_dir / "plots" / "loss.png"))
    if val:
        out.append(_plot_val(val, colors, band, title, out_dir / "plots" / "val_accuracy.png"))
    if sub_runs and (out_dir / "runs.csv").is_file():
        for r in read_csv(out_dir / "runs.csv"):
            out += plot_run(out_dir / r["run"])
    return out


def _plot_loss(curves: dict, colors: dict, band: str, title: str, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(8, 5))
    top = 0.0
    for label, c in curves.items():
        color = colors[label]
        ax.plot(c["step"], c["raw"], color=color, alpha=0.2, lw=0.5)
        ax.plot(c["step"], c["smooth"], color=color, lw=1.8, label=label)
        _band(ax, c["step"], c["smooth"], c["smooth_std"], c["smooth_min"], c["smooth_max"],
              c["n"], band, color)
        top = max(top, float(c["smooth"][0]))
    ax.set_ylim(0, 1.1 * top if np.isfinite(top) and top > 0 else None)   # initial loss
    ax.set_xlabel("update")
    ax.set_ylabel("training loss")
    _finish(ax, f"{title}: training loss (faint: raw, bold: moving average)")
    save_figure(fig, path)
    return path


def _plot_val(curves: dict, colors: dict, band: str, title: str, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(8, 5))
    for label, c in curves.items():
        color = colors[label]
        ax.plot(c["step"], c["mean"], "o-", ms=3, color=color, label=label)
        _band(ax, c["step"], c["mean"], c["std"], c["min"], c["max"], c["n"], band, color)
    ax.set_xlabel("update")
    ax.set_ylabel("validation accuracy")
    _finish(ax, f"{title}: validation accuracy")
    save_figure(fig, path)
    return path


def _band(ax, x, mean, std, lo, hi, n, band: str, color: str) -> None:
    if np.nanmax(n) < 2:
        return
    if band == "std":
        lo, hi = mean - std, mean + std
    ax.fill_between(x, lo, hi, color=color, alpha=0.18, lw=0)


def _finish(ax, title: str) -> None:
    ax.set_title(title, fontsize="medium")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")


def _by_label(rows: list[dict[str, str]]) -> dict[str, dict[str, np.ndarray]]:
    """CSV rows → {label: {column: float array}} (empty cells become NaN)."""
    groups: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        groups.setdefault(r["label"], []).append(r)
    return {label: {k: np.array([float(r[k]) if r[k] != "" else np.nan for r in rs])
                    for k in rs[0] if k != "label"}
            for label, rs in groups.items()}
