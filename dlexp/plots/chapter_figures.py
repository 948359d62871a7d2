"""The figures of each chapter experiment (by its name in
:data:`dlexp.experiments.reproduce.EXPERIMENTS`), drawn from its folder's files."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from dlexp.plots.activations import plot_histograms
from dlexp.plots.batchnorm import plot_batchnorm
from dlexp.plots.chapter import (plot_adam_bias, plot_schedules, plot_search_methods,
                                 plot_step_fade)
from dlexp.plots.compare import plot_compare
from dlexp.plots.ensemble import plot_ensemble
from dlexp.plots.overfit import plot_train_val
from dlexp.plots.paths import plot_paths

Draw = Callable[[Path], object]
DRAW: dict[str, tuple[Draw, ...]] = {
    "optimizer-paths": (plot_paths,),
    "compare-optimizers": (plot_compare,),
    "step-fade": (plot_step_fade,),
    "adam-bias": (plot_adam_bias,),
    "lr-decay": (plot_schedules, plot_compare),
    "activations": (plot_histograms,),
    "compare-inits": (plot_compare,),
    "batchnorm": (plot_batchnorm,),
    "batchnorm-overfit": (plot_train_val, plot_compare),
    "overfit-weight-decay": (plot_train_val,),
    "overfit-dropout": (plot_train_val,),
    "ensemble": (plot_ensemble, plot_train_val),
    "search-methods": (plot_search_methods,),
}


def draw_experiment(name: str, folder: Path) -> None:
    """Every figure of experiment ``name`` into ``folder``/plots."""
    for draw in DRAW[name]:
        draw(Path(folder))
