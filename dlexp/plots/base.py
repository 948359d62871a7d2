"""What every figure shares: curves read from a CSV by label, the band over seeds, grouped
bars, and saving atomically in the format of the file's extension (PNG, PDF or SVG)."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from dlexp.errors import ConfigError
from dlexp.io import atomic_write_bytes, read_json

FORMATS = ("png", "pdf", "svg")          # what save_figure writes, by extension


def check_figure_path(path: Path) -> str:
    """The format of ``path`` by its extension; ConfigError naming the fix for any other
    extension, a folder at ``path`` or a file where a folder on the way belongs."""
    path = Path(path)
    ext = path.suffix.lower().lstrip(".")
    names = ", ".join("." + f for f in FORMATS)
    if ext not in FORMATS:
        what = f"cannot write a figure as .{ext}" if ext else "no extension"
        raise ConfigError(f"{path}: {what}; use a name ending in {names}")
    parent = next(p for p in path.parents if p.exists())
    if not parent.is_dir():
        raise ConfigError(f"{path}: {parent} is a file, not a folder; choose another "
                          "output path")
    if path.is_dir():
        raise ConfigError(f"{path}: a folder; give a file name ending in {names}")
    return ext


def save_figure(fig: plt.Figure, path: Path, dpi: int = 110) -> Path:
    """Save ``fig`` (then close it) atomically, so a reader never sees half a figure."""
    path = Path(path)
    try:
        ext = check_figure_path(path)
        buf = io.BytesIO()
        fig.savefig(buf, format=ext, dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buf.getvalue())
    return path


def by_label(rows: list[dict[str, str]]) -> dict[str, dict[str, np.ndarray]]:
    """CSV rows → {label: {column: float array}} (empty cells become NaN)."""
    groups: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        groups.setdefault(r["label"], []).append(r)
    return {label: {k: np.array([float(r[k] or "nan") for r in rs])
                    for k in rs[0] if k != "label"} for label, rs in groups.items()}


def draw_curve(ax: plt.Axes, c: dict, band: str, x: str = "step", y: str = "mean",
               **style) -> None:
    """``c[y]`` against ``c[x]``; where ≥ 2 seeds are averaged, a band: min–max
    (``minmax``) or mean ± std (``std``) of the columns ``[y_]min``, ``max``, ``std``."""
    ax.plot(c[x], c[y], **style)
    pre = "" if y == "mean" else f"{y}_"
    if c["n"].size and np.nanmax(c["n"]) >= 2:        # (none in an empty zoomed tail)
        spread = c[pre + "std"]
        lo, hi = ((c[y] - spread, c[y] + spread) if band == "std" else
                  (c[pre + "min"], c[pre + "max"]))
        ax.fill_between(c[x], lo, hi, color=style.get("color"), alpha=0.18, lw=0)


def grouped_bars(ax: plt.Axes, values: dict[str, list], names: list[str],
                 errors: dict[str, list] | None = None) -> None:
    """One bar per name for each group (colour ``C<k>``), the groups side by side."""
    width = 0.8 / len(values)
    for k, (group, ys) in enumerate(values.items()):
        at = np.arange(len(names)) + (k - (len(values) - 1) / 2) * width
        ax.bar(at, ys, width, color=f"C{k}", label=group, capsize=2,
               yerr=errors[group] if errors else None)
    ax.set_xticks(range(len(names)), names)
    ax.grid(axis="x", visible=False)                  # no line through the bars


def comparison_title(out_dir: Path) -> str:
    """The comparison's name from compare.json (else the folder's name)."""
    return read_json(Path(out_dir) / "compare.json", {}).get("name", Path(out_dir).name)
