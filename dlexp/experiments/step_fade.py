"""AdaGrad's steps fade, RMSProp's do not (§6.1.5): the size of every update, measured.

    AdaGrad   h_t = h_{t−1} + g_t²              Δθ_t = −η g_t / (√h_t + ε)
    RMSProp   h_t = α h_{t−1} + (1 − α) g_t²    Δθ_t = −η g_t / (√h_t + ε)

On MNIST (the compare-optimizers setup, each at its preset rate) ‖Δθ_t‖ over all
parameters after every update; on the bowl f = x²/20 + y² (both η = 0.1), where every
step vanishes at the minimum, the rate along x, r_t = |Δx_t| / |∂f/∂x| = η / (√h_t + ε).
fade = median over the last 10 % of updates / median over the first 10 %.
Files: step_sizes.csv (source, optimizer, update, step, rate) and step_fade.json (per
source and optimiser: lr, measure, updates, early, late, fade).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from threadpoolctl import threadpool_limits

from dlexp.config import apply_overrides, read_yaml_mapping
from dlexp.experiments.optimizers import PRESET_HYPER
from dlexp.experiments.paths import get_function, optimizer_path
from dlexp.bundled import bundled
from dlexp.experiments.variants import Variant, variant_config
from dlexp.io import atomic_write_text, write_json
from dlexp.nn.model import MLP
from dlexp.train.loop import Callback, FitState, fit
from dlexp.train.rundir import run_meta
from dlexp.train.runner import load_splits
from dlexp.train.setup import build_model_for, build_optimizer_for, fit_options, streams
from dlexp.train.signals import StopOnRequest, requested

NAME = "step-fade"
OPTIMIZERS = ("adagrad", "rmsprop")
ITERATIONS = 5000                   # MNIST updates (the book's comparison runs 2000)
SURFACE_STEPS = 300                 # updates on the bowl (the paths figure shows 30)
SURFACE_LR = 0.1                    # η of both on the bowl


class StepNorms(Callback):
    """Record ‖θ_t − θ_{t−1}‖ (all parameters) after every update into ``self.steps``."""

    def __init__(self, model: MLP) -> None:
        self.params = model.flat_params                  # (P,), updated in place
        self.prev = self.params.copy()
        self.steps: list[float] = []

    def on_step_end(self, state: FitState, loss: float) -> None:
        d = (self.params - self.prev).astype(np.float64)  # (P,)
        self.steps.append(float(np.sqrt(d @ d)))
        self.prev[:] = self.params


def mnist_steps(optimizer: str, iterations: int, seed: int = 0, sets: Sequence[str] = (),
                hyper: Mapping[str, Any] | None = None
                ) -> tuple[float, list[float], list[float]]:
    """(lr, ‖Δθ_t‖, minibatch loss ℓ_t for t = 1…iterations) of ``optimizer`` on the
    compare-optimizers setup (``sets``: ``--set`` overrides of it; ``hyper``: optimiser
    settings, default the preset's)."""
    base = apply_overrides(read_yaml_mapping(bundled("compare-optimizers")), sets)
    hyper = PRESET_HYPER.get(optimizer, {}) if hyper is None else hyper
    overrides = {"optimizer.name": optimizer, "training.iterations": iterations,
                 **{f"optimizer.{k}": v for k, v in hyper.items()}}
    cfg = variant_config(base, Variant(optimizer, overrides, seed))
    data = load_splits(cfg, progress=False)
    s = streams(cfg.seed)
    model = build_model_for(cfg, data, s)
    opt, schedule = build_optimizer_for(cfg, data.x_train.shape[0])
    norms = StepNorms(model)
    with threadpool_limits(limits=1, user_api="blas"):
        state = fit(model, opt, schedule, data.x_train, data.y_train, data.x_val[:0],
                    data.y_val[:0], rng=s.order, callbacks=(norms, StopOnRequest()),
                    **fit_options(cfg))
    return cfg.optimizer.lr, norms.steps, list(state.step_losses)


def surface_steps(optimizer: str, steps: int, lr: float = SURFACE_LR
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(‖p_t − p_{t−1}‖, r_t) for t = 1…steps on the bowl (r: NaN where ∂f/∂x = 0)."""
    fn = get_function("anisotropic")
    path = optimizer_path(fn, optimizer, lr, fn.start, steps)            # (steps + 1, 2)
    delta = np.diff(path, axis=0)                                        # (steps, 2)
    gx, _ = fn.grad(path[:-1, 0], path[:-1, 1])                          # (steps,)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(gx != 0, np.abs(delta[:, 0]) / np.abs(gx), np.nan)
    return np.linalg.norm(delta, axis=1), rate


def fade(values) -> dict:
    """early, late (medians of the first and last 10 % of updates) and late / early."""
    x = np.asarray(values, dtype=np.float64)
    k = max(1, len(x) // 10)
    early, late = float(np.nanmedian(x[:k])), float(np.nanmedian(x[-k:]))
    return {"early": early, "late": late, "fade": late / early if early > 0 else None}


def run_step_fade(out_dir: Path, iterations: int = ITERATIONS, steps: int = SURFACE_STEPS,
                  optimizers: tuple[str, ...] = OPTIMIZERS, seed: int = 0,
                  sets: Sequence[str] = ()) -> dict:
    """Measure both sources for every optimiser; write the files of the module docstring."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / "meta.json", run_meta(time.time()))
    rows, result = ["source,optimizer,update,step,rate"], {}
    for name in optimizers:
        lr, sizes, _ = mnist_steps(name, iterations, seed, sets)
        if requested():                            # stopped early: nothing to write
            return {}
        result.setdefault("mnist", {})[name] = {"lr": lr, "measure": "step",
                                                "updates": len(sizes), **fade(sizes)}
        rows += [f"mnist,{name},{t},{v!r}," for t, v in enumerate(sizes, 1)]
    for name in optimizers:
        sizes, rate = surface_steps(name, steps)
        result.setdefault("surface", {})[name] = {"lr": SURFACE_LR, "measure": "rate",
                                                  "updates": len(sizes), **fade(rate)}
        rows += [f"surface,{name},{t},{v!r},{r!r}"
                 for t, (v, r) in enumerate(zip(sizes.tolist(), rate.tolist()), 1)]
    atomic_write_text(out_dir / "step_sizes.csv", "\n".join(rows) + "\n")
    write_json(out_dir / "step_fade.json", result)
    return result
