"""The figures a comparison command may draw, by exact name (what
:class:`dlexp.experiments.sweep.Sweep` lists in ``figures``).

Each entry is ``draw(out_dir, band) -> [paths written]`` and reads only the CSVs and
JSON files of the comparison folder ``out_dir``; ``band`` is ``minmax`` or ``std``.

    comparison   plots/loss.png, plots/val_accuracy.png          (every comparison)
    sub_runs     each sub-run's plots/loss.png, plots/accuracy.png
    train_val    plots/train_val_accuracy.png   (overfit presets, ensemble)
    batchnorm    plots/batchnorm_grid.png, plots/batchnorm_summary.png   (reads batchnorm.csv)
    ensemble     plots/ensemble.png                                       (reads ensemble.csv)
    schedules    plots/schedules.png      (lr-decay: final loss and val acc per schedule)

``comparison`` and ``sub_runs`` need only what every comparison writes, so they are also
drawn for an interrupted one; the others need a preset's analysis first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

from dlexp.plots.batchnorm import plot_batchnorm
from dlexp.plots.chapter import plot_schedules
from dlexp.plots.compare import plot_compare, plot_sub_runs
from dlexp.plots.ensemble import plot_ensemble
from dlexp.plots.overfit import plot_train_val

GENERIC = ("comparison", "sub_runs")

FIGURES: dict[str, Callable[[Path, str], list[Path]]] = {
    "comparison": plot_compare,
    "sub_runs": lambda out_dir, band: plot_sub_runs(out_dir),
    "train_val": plot_train_val,
    "batchnorm": plot_batchnorm,
    "ensemble": plot_ensemble,
    "schedules": plot_schedules,
}


def draw_figures(names: Sequence[str], out_dir: Path, band: str, interrupted: bool) -> None:
    """Draw the figures ``names`` of a comparison; only the generic ones if interrupted."""
    for name in names:
        if name in GENERIC or not interrupted:
            FIGURES[name](out_dir, band)
