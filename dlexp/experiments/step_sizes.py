"""How large each update is: AdaGrad's steps fade, RMSProp's do not (§6.1.5); Adam's bias
correction sets the size of its first steps (§6.1.6). Each runs on MNIST (the
compare-optimizers setup, the one training loop; ‖Δθ_t‖ over all parameters) and on the
bowl f = x²/20 + y² from (−7, 2) (the optimiser code of :mod:`~dlexp.experiments.paths`).

step-fade (η = 0.1 on the bowl), into step_sizes.csv and step_fade.json:

    AdaGrad   h_t = h_{t−1} + g_t²              Δθ_t = −η g_t / (√h_t + ε)
    RMSProp   h_t = α h_{t−1} + (1 − α) g_t²    Δθ_t = −η g_t / (√h_t + ε)

On the bowl every step vanishes at the minimum, so the rate along x is measured:
r_t = |Δx_t| / |∂f/∂x| = η / (√h_t + ε). fade = median of the last 10 % of updates /
median of the first 10 %.

adam-bias (MNIST: η = 0.001, ‖Δθ_t‖ and ℓ_t; the bowl: η = 0.3, |Δx_t| and f), into
adam_bias.csv and adam_bias.json:

    m_t = β₁ m_{t−1} + (1 − β₁) g_t,   v_t = β₂ v_{t−1} + (1 − β₂) g_t²,   m_0 = v_0 = 0
    corrected (default)   Δθ_t = −η m̂_t / (√v̂_t + ε),  m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ)
    uncorrected           Δθ_t = −η m_t / (√v_t + ε)

With a steady gradient the corrected first step is η per coordinate, the uncorrected
η (1 − β₁)/√(1 − β₂) ≈ 3.2 η.
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
from dlexp.train.runner import build_model, build_optimizer_for, fit_options, load_splits, streams
from dlexp.train.signals import StopOnRequest, requested

STEP_FADE = "step-fade"
ADAM_BIAS = "adam-bias"
OPTIMIZERS = ("adagrad", "rmsprop")
ITERATIONS = 5000                   # MNIST updates (the book's comparison runs 2000)
SURFACE_STEPS = 300                 # updates on the bowl (the paths figure shows 30)
SURFACE_LR = 0.1                    # η of both on the bowl
ADAM_SURFACE_LR = 0.3
EARLY = 10                          # "the first steps": updates 1…10
BIAS_VARIANTS = {"corrected": True, "uncorrected": False}


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
    model = build_model(cfg, data.x_train.shape[1], 10, s)
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
                  sets: Sequence[str] = ()) -> dict:
    """step-fade: both sources for every optimiser (module docstring)."""
    out_dir = _start(out_dir)
    rows, result = ["source,optimizer,update,step,rate"], {}
    for name in OPTIMIZERS:
        lr, sizes, _ = mnist_steps(name, iterations, 0, sets)
        if requested():                            # stopped early: nothing to write
            return {}
        result.setdefault("mnist", {})[name] = {"lr": lr, "measure": "step",
                                                "updates": len(sizes), **fade(sizes)}
        rows += [f"mnist,{name},{t},{v!r}," for t, v in enumerate(sizes, 1)]
    for name in OPTIMIZERS:
        sizes, rate = surface_steps(name, steps)
        result.setdefault("surface", {})[name] = {"lr": SURFACE_LR, "measure": "rate",
                                                  "updates": len(sizes), **fade(rate)}
        rows += [f"surface,{name},{t},{v!r},{r!r}"
                 for t, (v, r) in enumerate(zip(sizes.tolist(), rate.tolist()), 1)]
    atomic_write_text(out_dir / "step_sizes.csv", "\n".join(rows) + "\n")
    write_json(out_dir / "step_fade.json", result)
    return result


def run_adam_bias(out_dir: Path, iterations: int = 300, steps: int = 30, seeds: int = 3,
                  sets: Sequence[str] = ()) -> dict:
    """adam-bias: both variants on both sources (module docstring)."""
    out_dir = _start(out_dir)
    rows, result = ["source,variant,seed,update,step,loss"], {"mnist": {}, "surface": {}}
    for label, on in BIAS_VARIANTS.items():
        early, losses = [], []
        for seed in range(seeds):
            _, sizes, loss = mnist_steps("adam", iterations, seed, sets,
                                         {"bias_correction": on})
            early.append(float(np.median(sizes[:EARLY])))
            losses.append(float(np.mean(loss)))
            rows += [f"mnist,{label},{seed},{t},{v!r},{ell!r}"
                     for t, (v, ell) in enumerate(zip(sizes, loss), 1)]
        result["mnist"][label] = {"lr": 0.001, "seeds": seeds, "updates": iterations,
                                  "early_step": float(np.mean(early)),
                                  "mean_loss": float(np.mean(losses)),
                                  "mean_loss_min": min(losses), "mean_loss_max": max(losses)}
    fn = get_function("anisotropic")
    for label, on in BIAS_VARIANTS.items():
        path = optimizer_path(fn, "adam", ADAM_SURFACE_LR, fn.start, steps,
                              bias_correction=on)
        dx = np.abs(np.diff(path[:, 0]))                                   # (steps,)
        f = fn.value(path[1:, 0], path[1:, 1])                             # (steps,)
        rows += [f"surface,{label},0,{t},{a!r},{b!r}"
                 for t, (a, b) in enumerate(zip(dx.tolist(), f.tolist()), 1)]
        result["surface"][label] = {"lr": ADAM_SURFACE_LR, "updates": steps,
                                    "early_step": float(np.median(dx[:EARLY])),
                                    "first_step_over_lr": float(dx[0] / ADAM_SURFACE_LR),
                                    "final_f": float(f[-1])}
    atomic_write_text(out_dir / "adam_bias.csv", "\n".join(rows) + "\n")
    write_json(out_dir / "adam_bias.json", result)
    return result


def _start(out_dir: Path) -> Path:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / "meta.json", run_meta(time.time()))
    return out_dir
