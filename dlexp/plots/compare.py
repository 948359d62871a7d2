"""Figures of a comparison folder, drawn from its CSVs (see
:mod:`dlexp.experiments.aggregate`): nothing here reads a model or trains.

* ``plots/loss.png``: per label, the raw mean loss of every update (faint), its smoothed
  curve (bold: the trailing average of the aggregate docstring) and, with several
  seeds, a band (min–max or ±std of the seeds' smoothed curves); on the right the
  smoothed curves of the last half of the updates, the y-axis zoomed to their range.
  With weight decay in any run the loss of an update is the training objective
  (cross-entropy + penalty), and the y label says so.
* ``plots/val_accuracy.png``: mean validation accuracy at each evaluation, same band
  (none without a validation set).
* :func:`plot_sub_runs`: each sub-run's own ``plots/loss.png`` and ``plots/accuracy.png``
  (as ``dlexp train``).

Curves that coincide must not hide each other: label k gets colour ``C<k>``, the k-th
of :data:`LINE_STYLES` (cyclically) and a width falling with k, and is drawn above the
ones before it, so a thinner dashed line shows on top of a thicker solid one.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from dlexp.fmt import check_band
from dlexp.io import read_csv
from dlexp.io import read_json
from dlexp.plots.labels import minibatch_loss_label
from dlexp.train.rundir import has_weight_decay
from dlexp.plots.runs import plot_run
from dlexp.plots.save import save_figure

LINE_STYLES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "D", "v", "P")


def curve_style(k: int) -> dict:
    """Colour, line style, width and draw order of the k-th label's bold curve."""
    return {"color": f"C{k % 10}", "ls": LINE_STYLES[k % len(LINE_STYLES)],
            "lw": max(2.8 - 0.35 * k, 1.1), "zorder": 3 + k}


def plot_compare(out_dir: Path, band: str = "minmax", title: str | None = None) -> list[Path]:
    """Write the comparison's figures under ``out_dir/plots``; return their paths.

    ``title`` defaults to the comparison's name (compare.json)."""
    check_band(band)
    out_dir = Path(out_dir)
    title = comparison_title(out_dir) if title is None else title
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
        out.append(_plot_val(val, order, band, title, out_dir / "plots" / "val_accuracy.png"))
    return out


def plot_sub_runs(out_dir: Path) -> list[Path]:
    """Each sub-run's own figures (those listed in runs.csv), as ``dlexp train`` draws."""
    out: list[Path] = []
    for r in read_csv(Path(out_dir) / "runs.csv", optional=True):
        out += plot_run(Path(out_dir) / r["run"])
    return out


def comparison_title(out_dir: Path) -> str:
    """The comparison's name from compare.json (else the folder's name)."""
    spec = Path(out_dir) / "compare.json"
    return read_json(spec)["name"] if spec.is_file() else Path(out_dir).name


def _plot_loss(curves: dict, order: dict, band: str, title: str, decay: bool,
               path: Path) -> Path:
    fig, (ax, zoom) = plt.subplots(1, 2, figsize=(11, 5), gridspec_kw={"width_ratios": [3, 2]})
    top, end = 0.0, max(float(np.nanmax(c["step"])) for c in curves.values())
    tail_values = []
    for label, c in curves.items():
        style = curve_style(order[label])
        ax.plot(c["step"], c["raw"], color=style["color"], alpha=0.2, lw=0.5, zorder=1)
        tail = {k: v[c["step"] > end / 2] for k, v in c.items()}       # the last half
        for axis, part in ((ax, c), (zoom, tail)):
            axis.plot(part["step"], part["smooth"], label=label, **style)
            draw_band(axis, part["step"], part["smooth"], part["smooth_std"],
                      part["smooth_min"], part["smooth_max"], part["n"], band, style["color"])
        top = max(top, float(c["smooth"][0]))
        tail_values += [part for part in (tail["smooth_min"], tail["smooth_max"],
                                          tail["smooth"]) if part.size]
    ax.set_ylim(0, 1.1 * top if np.isfinite(top) and top > 0 else None)   # initial loss
    finite = np.concatenate(tail_values) if tail_values else np.empty(0)
    finite = finite[np.isfinite(finite)]
    if finite.size:
        lo, hi = float(finite.min()), float(finite.max())
        zoom.set_ylim(lo - 0.05 * (hi - lo + 1e-12), hi + 0.05 * (hi - lo + 1e-12))
    for axis in (ax, zoom):
        axis.set_xlabel("update")
    ax.set_ylabel(minibatch_loss_label(decay))
    _finish(ax, f"{title}: training {'objective' if decay else 'loss'} "
                "(faint: raw, bold: trailing average)")
    zoom.set_title("the last half of the updates, zoomed in", fontsize="medium")
    zoom.grid(alpha=0.3)
    save_figure(fig, path)
    return path


def _plot_val(curves: dict, order: dict, band: str, title: str, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(8, 5))
    for label, c in curves.items():
        k = order[label]
        style = {**curve_style(k), "lw": 1.5}
        ax.plot(c["step"], c["mean"], marker=MARKERS[k % len(MARKERS)], ms=4, label=label,
                **style)
        draw_band(ax, c["step"], c["mean"], c["std"], c["min"], c["max"], c["n"], band,
              style["color"])
    ax.set_xlabel("update")
    ax.set_ylabel("validation accuracy")
    _finish(ax, f"{title}: validation accuracy")
    save_figure(fig, path)
    return path


def draw_band(ax: "plt.Axes", x: np.ndarray, mean: np.ndarray, std: np.ndarray,
              lo: np.ndarray, hi: np.ndarray, n: np.ndarray, band: str, color: str) -> None:
    """Shade min–max (``minmax``) or mean ± std (``std``) where ≥ 2 seeds are averaged
    (nothing for an empty curve: a run cut short has no points in the zoomed last half)."""
    if n.size == 0 or np.nanmax(n) < 2:
        return
    if band == "std":
        lo, hi = mean - std, mean + std
    ax.fill_between(x, lo, hi, color=color, alpha=0.18, lw=0)


def _finish(ax, title: str) -> None:
    ax.set_title(title, fontsize="medium")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")


def by_label(rows: list[dict[str, str]]) -> dict[str, dict[str, np.ndarray]]:
    """CSV rows → {label: {column: float array}} (empty cells become NaN)."""
    groups: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        groups.setdefault(r["label"], []).append(r)
    return {label: {k: np.array([float(r[k]) if r[k] != "" else np.nan for r in rs])
                    for k in rs[0] if k != "label"}
            for label, rs in groups.items()}
