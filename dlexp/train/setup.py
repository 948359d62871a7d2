"""From a :class:`~dlexp.config.Config` to the pieces :func:`~dlexp.train.loop.fit` needs.

One seed feeds four independent streams (``np.random.SeedSequence(seed).spawn``): the
data split, the weight initialisation, dropout masks and the batch order. Changing the
model therefore never changes the split, and the same config + seed gives the same run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dlexp.config import Config
from dlexp.nn.model import MLP
from dlexp.optim.optimizers import build_optimizer
from dlexp.optim.schedules import make_schedule
from dlexp.optim.transforms import GradientTransformation, Schedule
from dlexp.train.loop import plan_steps


@dataclass(frozen=True)
class Streams:
    split: np.random.Generator
    init: np.random.Generator
    dropout: np.random.Generator
    order: np.random.Generator


def streams(seed: int) -> Streams:
    """Independent generators for the split, initialisation, dropout and batch order."""
    children = np.random.SeedSequence(seed).spawn(4)
    return Streams(*(np.random.default_rng(c) for c in children))


def build_model(cfg: Config, input_size: int, output_size: int, s: Streams) -> MLP:
    """The configured MLP: weights from the ``init`` stream, masks from ``dropout``."""
    return MLP(cfg.model, input_size, output_size, s.init, np.dtype(cfg.dtype),
               dropout_rng=s.dropout)


def build_optimizer_for(cfg: Config, n_train: int) -> tuple[GradientTransformation, Schedule]:
    """The configured optimiser (with L2/L1 in front) and its learning-rate schedule."""
    o, r = cfg.optimizer, cfg.regularization
    per_epoch, total = plan_steps(n_train, cfg.training)
    schedule = make_schedule(o.schedule.name, o.lr, per_epoch, total, **o.schedule.settings)
    mask = {"all": True} if r.decay_all else {"decay": True, "other": False}
    opt = build_optimizer(o.name, schedule, l2=r.l2, l1=r.l1, mask=mask, **o.hyper)
    return opt, schedule
