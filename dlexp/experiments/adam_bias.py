"""Adam's bias correction (§6.1.6), on and off: the size of the first steps, and the loss.

    m_t = β₁ m_{t−1} + (1 − β₁) g_t,   v_t = β₂ v_{t−1} + (1 − β₂) g_t²,   m_0 = v_0 = 0
    corrected (default)   Δθ_t = −η m̂_t / (√v̂_t + ε),  m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ)
    uncorrected           Δθ_t = −η m_t / (√v_t + ε)

With a steady gradient the corrected first step is η per coordinate, the uncorrected
η (1 − β₁)/√(1 − β₂) ≈ 3.2 η. Both run on MNIST (compare-optimizers setup, η = 0.001,
‖Δθ_t‖ and ℓ_t) and on the bowl x²/20 + y² (η = 0.3, |Δx_t| and f). Files: adam_bias.csv
(source, variant, seed, update, step, loss) and adam_bias.json (per source and variant:
median step over the first 10 updates, mean loss or final f, first step / η).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Sequence

import numpy as np

from dlexp.experiments.paths import get_function, optimizer_path
from dlexp.experiments.step_fade import mnist_steps
from dlexp.io import atomic_write_text, write_json
from dlexp.train.rundir import run_meta

NAME = "adam-bias"
VARIANTS = {"corrected": True, "uncorrected": False}
SURFACE_LR = 0.3
EARLY = 10                          # "the first steps": updates 1…10


def run_adam_bias(out_dir: Path, iterations: int = 300, steps: int = 30, seeds: int = 3,
                  sets: Sequence[str] = ()) -> dict:
    """Measure both variants on both sources; write the files of the module docstring."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / "meta.json", run_meta(time.time()))
    rows, result = ["source,variant,seed,update,step,loss"], {"mnist": {}, "surface": {}}
    for label, on in VARIANTS.items():
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
    for label, on in VARIANTS.items():
        path = optimizer_path(fn, "adam", SURFACE_LR, fn.start, steps, bias_correction=on)
        dx = np.abs(np.diff(path[:, 0]))                                   # (steps,)
        f = fn.value(path[1:, 0], path[1:, 1])                             # (steps,)
        rows += [f"surface,{label},0,{t},{a!r},{b!r}"
                 for t, (a, b) in enumerate(zip(dx.tolist(), f.tolist()), 1)]
        result["surface"][label] = {"lr": SURFACE_LR, "updates": steps,
                                    "early_step": float(np.median(dx[:EARLY])),
                                    "first_step_over_lr": float(dx[0] / SURFACE_LR),
                                    "final_f": float(f[-1])}
    atomic_write_text(out_dir / "adam_bias.csv", "\n".join(rows) + "\n")
    write_json(out_dir / "adam_bias.json", result)
    return result
