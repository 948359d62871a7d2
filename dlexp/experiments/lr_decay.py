"""The ``lr-decay`` preset (§6.1.5): for SGD (η₀ 0.1) and Momentum (η₀ 0.02), one variant
per schedule of :mod:`dlexp.optim.schedules` on ``configs/compare-optimizers.yaml``, each
fitted to the run's E epochs so that every decay ends near η₀/10 (e = epoch, T = updates):

    constant     η₀                       step         η₀ · 0.3^⌊e / ⌈E/3⌉⌉
    exponential  η₀ · (0.1^(1/E))^e       inverse_time η₀ / (1 + (9/E) e)
    cosine       η₀ (1 + cos(π t / T)) / 2      (to 0)

η₀ is large enough that the noise of the last updates limits the loss: the regime decay
is for.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from dlexp.config import config_from_dict
from dlexp.data.splits import val_count
from dlexp.experiments.sweep import Sweep
from dlexp.experiments.variants import Variant, seeded
from dlexp.train.loop import plan_steps

NAME = "lr-decay"
CONFIG = "compare-optimizers"
LABEL_COLUMN = "variant"
SCHEDULES = ("constant", "step", "exponential", "inverse_time", "cosine")
BASE_LR = {"sgd": 0.1, "momentum": 0.02}
MNIST_TRAIN = 60_000                    # images in MNIST's training file


def schedule_settings(name: str, epochs: float) -> dict[str, Any]:
    """``{"name": …, settings}`` of schedule ``name`` over a run of ``epochs`` epochs."""
    e = max(epochs, 1.0)
    settings = {"step": {"every": max(1, math.ceil(e / 3)), "gamma": 0.3},
                "exponential": {"gamma": round(0.1 ** (1 / e), 4)},
                "inverse_time": {"k": round(9 / e, 4)}}.get(name, {})
    return {"name": name, **settings}


def run_epochs(base: Mapping) -> float:
    """Epochs of one run of the raw ``base`` config (its updates / updates per epoch)."""
    cfg = config_from_dict(dict(base), "base config")
    pool = cfg.data.train_size or MNIST_TRAIN
    n_train = pool - val_count(cfg.data.val_size, pool)
    t = cfg.training
    per_epoch, total = plan_steps(n_train, t.batch_size, t.epochs, t.iterations)
    return total / per_epoch


def decay_variants(seeds: Sequence[int] | None, epochs: float,
                   optimizers: Sequence[str] = tuple(BASE_LR),
                   schedules: Sequence[str] = SCHEDULES) -> list[Variant]:
    """One variant per optimiser × schedule × seeds, on runs of ``epochs`` epochs."""
    return seeded({f"{o}_{s}": {"optimizer.name": o, "optimizer.lr": BASE_LR[o],
                                "optimizer.schedule": schedule_settings(s, epochs)}
                   for o in optimizers for s in schedules}, seeds)


def plan(base: Mapping, seeds: Sequence[int] | None) -> Sweep:
    """The preset's sweep on ``base``."""
    return Sweep(NAME, decay_variants(seeds, run_epochs(base)), LABEL_COLUMN,
                 figures=("comparison", "sub_runs", "schedules"),
                 columns=("status", "final_smoothed_loss", "best_val_acc", "test_acc"))
