"""``dlexp optimizer-paths`` and ``dlexp activations`` end to end: compute, write the run folder, plot
from its files, print a table. One function per command:

    paths_report(function, optimizers, lrs, steps, start, runs_root)   dlexp optimizer-paths
    activations_report(activation, init, std, grid=…, runs_root=…)     dlexp activations

Each returns the run folder; matplotlib is imported only after the folder is written.
Numbers are printed with :func:`dlexp.fmt.fmt` (a learning rate of 1e300 as 1.000e+300;
a point that overflowed as —).
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from dlexp.experiments.tables import print_rows
from dlexp.io import read_json

STATS_HEADERS = {"act_mean": "mean h", "act_std": "std h", "saturated_or_zero":
                 "saturated or 0", "delta_abs_mean": "mean |δ|"}


def paths_report(function: str = "anisotropic", optimizers: tuple[str, ...] | None = None,
                 lrs: Mapping[str, float] | None = None, steps: int | None = None,
                 start: tuple[float, float] | None = None, runs_root: Path = Path("runs")
                 ) -> Path:
    """Optimiser paths on a 2-D function: paths.csv, paths.json, the figure, a table."""
    from dlexp.experiments.paths import run_paths, save_paths
    run_dir = save_paths(run_paths(function, optimizers, lrs, steps, start), runs_root)
    from dlexp.plots.chapter import plot_paths
    plot_paths(run_dir)
    info = read_json(run_dir / "paths.json")
    rows = [{"optimizer": name, "lr": info["lrs"][name], **e,
             "note": "" if e.get("diverged_at") is None else
             f"diverged at update {e['diverged_at']}"}
            for name, e in info["final"].items()]
    columns = ["optimizer", "lr", "x", "y", "f", "distance"]
    columns += ["note"] if any(r["note"] for r in rows) else []
    print_rows(rows, columns, title=f"{info['formula']}: after {info['steps']} updates",
               headers={"f": "f(x,y)", "distance": "distance to minimum"})
    print(run_dir, flush=True)
    return run_dir


def activations_report(activation: str, init: str, std: float | None = None, *,
                       grid: bool = False, samples: int = 1000, units: int = 100,
                       layers: int = 5, seed: int = 0, runs_root: Path = Path("runs")
                       ) -> Path:
    """Activation and gradient histograms: the run folder, both figures, a table."""
    from dlexp.experiments.activations import run_activations
    result = run_activations(activation, init, std, grid=grid, samples=samples, units=units,
                             layers=layers, seed=seed, runs_root=runs_root)
    from dlexp.plots.chapter import plot_activations
    plot_activations(result.dir)
    print_rows(result.rows, ["init", "layer", *STATS_HEADERS], headers=STATS_HEADERS,
               title=f"{activation}: per-layer statistics (saturated or 0: share of the "
               "layer's outputs over all inputs; δ = dL/da)")
    print(result.dir, flush=True)
    return result.dir
