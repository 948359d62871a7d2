"""Optimiser paths on 2-D functions (:mod:`dlexp.surfaces`), step by step, with the same
``build_optimizer`` / ``apply_updates`` that train the networks. The book's figure
minimises f(x, y) = x²/20 + y² from (−7, 2) for 30 updates: the slope is 20× steeper in
y, so SGD zig-zags across the valley while it creeps along x; momentum averages the
zig-zag away, and AdaGrad, RMSProp and Adam (u/√h per coordinate) even out the two.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from dlexp.errors import ConfigError
from dlexp.io import write_csv, write_json
from dlexp.optim import OPTIMIZERS, apply_updates, build_optimizer
from dlexp.optim.optimizers import hyperparameters
from dlexp.surfaces import Function2D, get_function
from dlexp.train.rundir import new_run_dir, run_meta


def optimizer_path(fn: Function2D, optimizer: str, lr: float, start: tuple[float, float],
                   steps: int, **hyper: Any) -> np.ndarray:
    """The points (steps + 1, 2) visited by ``optimizer`` (with settings ``hyper``) from
    ``start``; row 0 is start.

    A path that *diverges* (a coordinate, or f there, overflows to ±inf or NaN) stops
    there: that row and the ones after it are NaN (see :func:`diverged_at`)."""
    params = {"xy": np.array(start, dtype=np.float64)}                    # (2,)
    opt = build_optimizer(optimizer, lr, **hyper)
    state = opt.init(params)
    path = np.full((steps + 1, 2), np.nan)                                # (steps + 1, 2)
    path[0] = params["xy"]
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, steps + 1):
            x, y = params["xy"]
            grads = {"xy": np.array(fn.grad(x, y), dtype=np.float64)}     # fresh: updated in place
            updates, state = opt.update(grads, state, params)
            apply_updates(params, updates)
            if not np.isfinite(fn.value(*params["xy"])):      # NaN/inf point or f
                break
            path[t] = params["xy"]
    return path


def diverged_at(path: np.ndarray) -> int | None:
    """The first update whose point is not finite (None: the path stayed finite)."""
    bad = np.flatnonzero(~np.all(np.isfinite(path), axis=1))
    return int(bad[0]) if bad.size else None


MAX_STEPS = 1_000_000


def run_paths(function: str = "anisotropic", optimizers: tuple[str, ...] | None = None,
              lrs: Mapping[str, float] | None = None, steps: int | None = None,
              start: tuple[float, float] | None = None, runs_root: Path = Path("runs"),
              into: Path | None = None) -> Path:
    """Every optimiser's path on ``function`` (None: the function's defaults; ``lrs``
    overrides some of its learning rates) into a new run folder ``optimizer-paths-<time>/``
    (or the folder ``into``): paths.csv (optimizer, step, x, y; step 0 is the start) and
    paths.json (its ``final`` point per optimiser: x, y, f, distance to the minimum — null
    once the path diverged — and ``diverged_at``, the update where it did)."""
    fn = get_function(function)
    steps = fn.steps if steps is None else steps
    chosen = _learning_rates(fn, tuple(optimizers or fn.lrs), dict(lrs or {}))
    if not 1 <= steps <= MAX_STEPS:
        raise ConfigError(f"--steps {steps}: must be 1 to {MAX_STEPS:,} (every point of each "
                          "path is kept in memory)")
    start = tuple(float(v) for v in (start if start is not None else fn.start))
    if not all(math.isfinite(v) for v in start):
        raise ConfigError(f"--start={start[0]},{start[1]}: the start must be a finite "
                          "point, e.g. --start=-7,2")
    run_dir = into or new_run_dir(Path(runs_root), "optimizer-paths")
    write_json(run_dir / "meta.json", run_meta(time.time()))
    rows, final = [], {}
    for name, lr in chosen.items():
        path = optimizer_path(fn, name, lr, start, steps)              # (steps + 1, 2)
        rows += [{"optimizer": name, "step": t, "x": x, "y": y}
                 for t, (x, y) in enumerate(path.tolist())]
        x, y = path[-1].tolist()
        with np.errstate(over="ignore", invalid="ignore"):
            f = float(fn.value(x, y))                           # may overflow: JSON null
        final[name] = {"x": x, "y": y, "f": f, "distance": math.dist((x, y), fn.minimum),
                       "diverged_at": diverged_at(path)}
    write_json(run_dir / "paths.json", {"function": function, "formula": fn.formula,
                                        "start": list(start), "steps": steps,
                                        "lrs": chosen, "final": final})
    write_csv(run_dir / "paths.csv", rows)
    return run_dir


def _learning_rates(fn: Function2D, optimizers: tuple[str, ...], lrs: dict[str, float]
                    ) -> dict[str, float]:
    """Each optimiser's η: ``lrs``, else the function's, else the optimiser's default."""
    for name in optimizers:
        if name not in OPTIMIZERS:
            raise ConfigError(f"unknown optimizer {name!r}; choose from: {', '.join(OPTIMIZERS)}")
    for name in lrs:
        if name not in optimizers:
            raise ConfigError(f"--lr {name}=…: {name!r} is not among the optimizers run "
                              f"({', '.join(optimizers)}); add it with --optimizers")
    chosen = {name: float(lrs.get(name, fn.lrs.get(name, hyperparameters(name)["lr"])))
              for name in optimizers}
    for name, lr in chosen.items():
        if not (math.isfinite(lr) and lr > 0):
            raise ConfigError(f"--lr {name}={lr}: a learning rate must be a positive number")
    return chosen
