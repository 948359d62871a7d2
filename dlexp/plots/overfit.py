"""Training against validation accuracy per epoch, one colour per variant (§6.4), drawn
from a comparison's train_accuracy.csv and val_accuracy.csv: solid training, dashed
validation, a band over the seeds. The space between a variant's two curves is the
overfitting gap; the test set is not in this figure (it is scored once, at the end).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.lines import Line2D

from dlexp.io import read_csv
from dlexp.plots.compare import by_label, comparison_title, draw_band
from dlexp.plots.save import save_figure


def plot_train_val(out_dir: Path, band: str = "minmax", title: str | None = None,
                   path: Path | None = None) -> list[Path]:
    """Write ``plots/train_val_accuracy.png`` (or ``path``); the list of what was written.

    ``title`` defaults to the comparison's name."""
    out_dir = Path(out_dir)
    path = out_dir / "plots" / "train_val_accuracy.png" if path is None else Path(path)
    title = comparison_title(out_dir) if title is None else title
    train = by_label(read_csv(out_dir / "train_accuracy.csv", optional=True))
    val = by_label(read_csv(out_dir / "val_accuracy.csv", optional=True))
    if not train and not val:
        return []
    fig, ax = plt.subplots(figsize=(8, 5))
    handles = []
    for i, label in enumerate(dict.fromkeys([*train, *val])):
        color = f"C{i % 10}"
        for curves, style in ((train, "-"), (val, "--")):
            c = curves.get(label)
            if c is not None:
                ax.plot(c["epoch"], c["mean"], style, color=color, lw=1.5)
                draw_band(ax, c["epoch"], c["mean"], c["std"], c["min"], c["max"], c["n"],
                      band, color)
        handles.append(Line2D([], [], color=color, lw=2, label=label))
    handles += [Line2D([], [], color="0.3", ls="-", label="training accuracy"),
                Line2D([], [], color="0.3", ls="--", label="validation accuracy")]
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.set_title(f"{title}: training (solid) vs validation (dashed) accuracy",
                 fontsize="medium")
    ax.grid(alpha=0.3)
    ax.legend(handles=handles, fontsize="small", loc="lower right")
    save_figure(fig, path)
    return [path]
