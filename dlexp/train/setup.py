"""From a :class:`~dlexp.config.Config` to the pieces :func:`~dlexp.train.loop.fit` needs.

One seed feeds four independent streams (``np.random.SeedSequence(seed).spawn``): the
data split, the weight initialisation, dropout masks and the batch order. Changing the
model therefore never changes the split, and the same config + seed gives the same run.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from threadpoolctl import threadpool_limits

from dlexp.config import Config
from dlexp.data.splits import Splits
from dlexp.nn.model import DECAY_MASK, MLP
from dlexp.optim.optimizers import build_optimizer
from dlexp.optim.schedules import make_schedule
from dlexp.optim.transforms import GradientTransformation, Schedule
from dlexp.train.loop import Callback, EarlyStopping, FitState, fit, plan_steps


class Streams(NamedTuple):
    split: np.random.Generator
    init: np.random.Generator
    dropout: np.random.Generator
    order: np.random.Generator


def streams(seed: int | tuple[int, ...]) -> Streams:
    """Independent generators for the split, initialisation, dropout and batch order
    (``seed``: an int, or a tuple of ints such as (seed, round, trial))."""
    return Streams(*map(np.random.default_rng, np.random.SeedSequence(seed).spawn(4)))


def split_seed(cfg: Config) -> int:
    """The seed of the training/validation split: ``data.split_seed``, else the run's."""
    return cfg.seed if cfg.data.split_seed is None else cfg.data.split_seed


def build_model(cfg: Config, input_size: int, output_size: int, s: Streams) -> MLP:
    """The configured MLP: weights from the ``init`` stream, masks from ``dropout``."""
    return MLP(cfg.model, input_size, output_size, s.init, np.dtype(cfg.dtype),
               dropout_rng=s.dropout)


def build_optimizer_for(cfg: Config, n_train: int) -> tuple[GradientTransformation, Schedule]:
    """The configured optimiser (with L2/L1 in front) and its learning-rate schedule."""
    o, r, t = cfg.optimizer, cfg.regularization, cfg.training
    per_epoch, total = plan_steps(n_train, t.batch_size, t.epochs, t.iterations)
    schedule = make_schedule(o.schedule.name, o.lr, per_epoch, total, **o.schedule.settings)
    return build_optimizer(o.name, schedule, l2=r.l2, l1=r.l1, mask=DECAY_MASK, **o.hyper), schedule


def fit_options(cfg: Config) -> dict:
    """The config's training and regularization settings as :func:`fit`'s keywords."""
    t, r = cfg.training, cfg.regularization
    return dict(batch_size=t.batch_size, epochs=t.epochs, iterations=t.iterations,
                eval_every=t.eval_every, train_eval=t.train_eval,
                sample_with_replacement=t.sampling == "with_replacement",
                loss_after_update=t.record_loss == "after_update", l2=r.l2, l1=r.l1,
                decay_all=r.decay_all)


def train_model(cfg: Config, data: Splits, s: Streams, callbacks: tuple[Callback, ...] = ()
                ) -> tuple[MLP, FitState]:
    """Build the configured model and optimiser (plus early stopping if asked) and train
    them with :func:`fit`. A non-finite loss is the status ``diverged``, not a warning.

    BLAS runs on one thread: these matrices are too small to gain from more, worker
    processes must not oversubscribe the cores, and the rounding of a matrix product
    depends on the thread count — so every command gives the same numbers."""
    model = build_model(cfg, data.x_train.shape[1], 10, s)
    optimizer, schedule = build_optimizer_for(cfg, data.x_train.shape[0])
    es = cfg.training.early_stopping
    if es.patience:
        callbacks = (*callbacks, EarlyStopping(es.patience, es.min_delta))
    with threadpool_limits(limits=1, user_api="blas"), \
            np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        state = fit(model, optimizer, schedule, data.x_train, data.y_train, data.x_val,
                    data.y_val, rng=s.order, callbacks=tuple(callbacks), **fit_options(cfg))
    return model, state
