"""The ``compare-optimizers`` preset (§6.1): one variant per update rule on
``configs/compare-optimizers.yaml``, whose base leaves ``optimizer.lr`` out so each gets
its own default rate (the book's). The exception, :data:`PRESET_HYPER`: RMSProp gets
0.001, not 0.01, which made its first updates ~10× too large (measured, 3 seeds: loss
0.18 vs 0.055, test accuracy 0.951 vs 0.974). A base setting overrides the preset's,
and ``hyper`` (``{"adam": {"lr": 0.01}}``) overrides both.

The ``lr-decay`` preset (§6.1.5) runs, on the same base, SGD (η₀ 0.1) and Momentum
(η₀ 0.02) with every schedule of :mod:`dlexp.optim.schedules`, each fitted to the run's E
epochs so that every decay ends near η₀/10 (e = epoch, T = updates):

    constant     η₀                       step         η₀ · 0.3^⌊e / ⌈E/3⌉⌉
    exponential  η₀ · (0.1^(1/E))^e       inverse_time η₀ / (1 + (9/E) e)
    cosine       η₀ (1 + cos(π t / T)) / 2      (to 0)

η₀ is large enough that the noise of the last updates limits the loss: the regime decay
is for.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import yaml

from dlexp.config import config_from_dict
from dlexp.data.splits import val_count
from dlexp.errors import ConfigError
from dlexp.book import BOOK_OPTIMIZERS, OPTIMIZERS as BOOK_LIST
from dlexp.experiments.sweep import Sweep
from dlexp.experiments.variants import Variant, grid, seeded, split_list
from dlexp.optim.optimizers import OPTIMIZERS
from dlexp.train.loop import plan_steps

NAME = "compare-optimizers"
LR_DECAY = "lr-decay"
SCHEDULES = ("constant", "step", "exponential", "inverse_time", "cosine")
DECAY_LR = {"sgd": 0.1, "momentum": 0.02}
MNIST_TRAIN = 60_000                    # images in MNIST's training file
REPORT_KEYS = ("optimizer.lr",)
PRESET_HYPER: dict[str, dict[str, Any]] = {"rmsprop": {"lr": 0.001}}


def parse_optimizers(text: str) -> list[str]:
    """``"sgd,adam"`` → ``["sgd", "adam"]``, each a known optimiser, none twice."""
    names = split_list(text, f"--optimizers {text!r}")
    for n in names:
        if n not in OPTIMIZERS:
            raise ConfigError(f"--optimizers: unknown optimizer {n!r}; choose from: "
                              f"{', '.join(OPTIMIZERS)}")
    return names


def parse_hyper(items: Sequence[str], names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``["adam.lr=0.01", "momentum.momentum=0.95"]`` → ``{"adam": {"lr": 0.01}, …}``."""
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        key, sep, text = item.partition("=")
        name, dot, setting = key.strip().partition(".")
        if not (sep and dot and name and setting and text.strip()):
            raise ConfigError(f"--hyper {item!r}: expected OPTIMIZER.SETTING=VALUE, "
                              "e.g. --hyper adam.lr=0.01")
        if name not in names:
            raise ConfigError(f"--hyper {item!r}: {name!r} is not among the optimizers "
                              f"compared ({', '.join(names)})")
        try:
            out.setdefault(name, {})[setting] = yaml.safe_load(text)
        except yaml.YAMLError:
            raise ConfigError(f"--hyper {item!r}: the value is not valid YAML") from None
    return out


def optimizer_variants(names: Sequence[str], hyper: Mapping[str, Mapping[str, Any]],
                       seeds: Sequence[int] | None, base: Mapping | None = None,
                       book: bool = False) -> list[Variant]:
    """One variant per optimiser × seeds, with :data:`PRESET_HYPER` (``book``: the book's
    classes) unless the raw ``base`` sets them, then ``hyper``."""
    variants = grid({"optimizer.name": list(names)}, seeds)
    in_base = set((base or {}).get("optimizer") or {}) - {"name"}   # name: per variant
    preset = BOOK_OPTIMIZERS if book else PRESET_HYPER
    own = {n: {**{k: v for k, v in preset.get(n, {}).items() if k not in in_base},
               **hyper.get(n, {})} for n in names}
    return [Variant(v.label, {**v.overrides, **{f"optimizer.{k}": x
                                                 for k, x in own[v.label].items()}}, v.seed)
            for v in variants]


def plan(base: Mapping, seeds: Sequence[int] | None, optimizers: str = BOOK_LIST,
         hyper: Sequence[str] = (), book: bool = False) -> Sweep:
    """The preset's sweep: ``"sgd,adam"``, ``hyper`` as ``["adam.lr=0.01"]``."""
    names = parse_optimizers(optimizers)
    return Sweep(NAME, optimizer_variants(names, parse_hyper(hyper, names), seeds, base, book),
                 "optimizer", report_keys=REPORT_KEYS, lr_hint="give one optimizer its own "
                 "with --hyper NAME.lr=…")


def fitted_schedule(name: str, epochs: float) -> dict[str, Any]:
    """``{"name": …, settings}`` of schedule ``name`` over a run of ``epochs`` epochs."""
    e = max(epochs, 1.0)
    settings = {"step": {"every": max(1, math.ceil(e / 3)), "gamma": 0.3},
                "exponential": {"gamma": round(0.1 ** (1 / e), 4)},
                "inverse_time": {"k": round(9 / e, 4)}}.get(name, {})
    return {"name": name, **settings}


def decay_plan(base: Mapping, seeds: Sequence[int] | None) -> Sweep:
    """``lr-decay``: one variant per optimiser × schedule × seeds, fitted to the epochs of
    one run of the raw ``base`` (its updates / updates per epoch)."""
    cfg = config_from_dict(dict(base), "base config")
    pool = cfg.data.train_size or MNIST_TRAIN
    t = cfg.training
    per_epoch, total = plan_steps(pool - val_count(cfg.data.val_size, pool), t.batch_size,
                                  t.epochs, t.iterations)
    variants = seeded({f"{o}_{s}": {"optimizer.name": o, "optimizer.lr": lr,
                                    "optimizer.schedule": fitted_schedule(s, total / per_epoch)}
                       for o, lr in DECAY_LR.items() for s in SCHEDULES}, seeds)
    return Sweep(LR_DECAY, variants, "variant", figures=("comparison", "sub_runs", "schedules"),
                 columns=("status", "final_smoothed_loss", "best_val_acc", "test_acc"))
