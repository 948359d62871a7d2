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

from dlexp.fmt import check_band, fmt
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
    tall = 5 + 0.16 * max(0, len(curves) - 8) / 2                     # room for a legend below
    fig, (ax, zoom) = plt.subplots(1, 2, figsize=(11, tall), gridspec_kw={"width_ratios": [3, 2]},
                                   layout="constrained")
    end = max(float(np.nanmax(c["step"])) for c in curves.values())
    top = max(float(c["smooth"][0]) for c in curves.values())            # initial loss
    final = {label: _last(c["smooth"]) for label, c in curves.items()}
    stuck = [label for label, f in final.items()        # not learning: left out of the zoom
             if not decay and not f < 0.75 * float(curves[label]["smooth"][0])]
    tail_values = []
    for label, c in curves.items():
        style = curve_style(order[label])
        ax.plot(c["step"], c["raw"], color=style["color"], alpha=0.2, lw=0.5, zorder=1)
        tail = {k: v[c["step"] > end / 2] for k, v in c.items()}       # the last half
        ends = f"{label} (ends {fmt(final[label], 2)})"
        for axis, part in ((ax, c), (zoom, tail)):
            axis.plot(part["step"], part["smooth"], label=ends, **style)
            draw_band(axis, part["step"], part["smooth"], part["smooth_std"],
                      part["smooth_min"], part["smooth_max"], part["n"], band, style["color"])
        if label not in stuck:
            tail_values += [v for v in (tail["smooth_min"], tail["smooth_max"],
                                        tail["smooth"]) if v.size]
    if decay:                                  # objectives of different λ differ in scale
        for axis in (ax, zoom):
            axis.set_yscale("log")
    else:
        ax.set_ylim(0, 1.1 * top if np.isfinite(top) and top > 0 else None)
        _zoom_to(zoom, tail_values)
    for axis in (ax, zoom):
        axis.set_xlabel("update")
    ax.set_ylabel(minibatch_loss_label(decay) + (", log scale" if decay else ""))
    _finish(ax, f"{title}: training {'objective' if decay else 'loss'} "
                "(faint: raw, bold: trailing average)")
    off = ""
    if stuck and len(stuck) < len(curves):
        off = (f"\noff the scale: {', '.join(stuck)}" if len(stuck) <= 3 else
               f"\noff the scale: {len(stuck)} curves that stay at their start")
    zoom.set_title(f"the last half of the updates, zoomed in{off}", fontsize="medium")
    if decay:
        zoom.set_title("the objective adds the penalty ½λ₂‖W‖² + λ₁‖W‖₁: not\ncomparable "
                       "across λ; compare accuracies instead", fontsize="medium")
    zoom.grid(alpha=0.3)
    save_figure(fig, path)
    return path


def _last(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite[-1]) if finite.size else float("nan")


def _zoom_to(axis: "plt.Axes", parts: list) -> None:
    finite = np.concatenate(parts) if parts else np.empty(0)
    finite = finite[np.isfinite(finite)]
    if finite.size:
        lo, hi = float(finite.min()), float(finite.max())
        axis.set_ylim(lo - 0.05 * (hi - lo + 1e-12), hi + 0.05 * (hi - lo + 1e-12))


def _plot_val(curves: dict, order: dict, band: str, title: str, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(8, 5 + 0.16 * max(0, len(curves) - 8) / 2),
                           layout="constrained")
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


def _finish(ax, title: str, inside: int = 8) -> None:
    """Title, grid and legend; a legend of more than ``inside`` entries goes below the
    axes, in columns, so it never covers the curves."""
    ax.set_title(title, fontsize="medium")
    ax.grid(alpha=0.3)
    n = len(ax.get_legend_handles_labels()[1])
    if n <= inside:
        ax.legend(fontsize="small")
    else:
        ax.figure.legend(loc="outside lower center", fontsize="x-small", frameon=False,
                         ncols=min(4, -(-n // 8)), handles=ax.get_legend_handles_labels()[0])


def by_label(rows: list[dict[str, str]]) -> dict[str, dict[str, np.ndarray]]:
    """CSV rows → {label: {column: float array}} (empty cells become NaN)."""
    groups: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        groups.setdefault(r["label"], []).append(r)
    return {label: {k: np.array([float(r[k]) if r[k] != "" else np.nan for r in rs])
                    for k in rs[0] if k != "label"}
            for label, rs in groups.items()}
