"""From a config to the pieces :func:`~dlexp.train.loop.fit` needs. One seed feeds four
independent streams (``SeedSequence(seed).spawn``): the split, the initial weights, the
dropout masks and the batch order; so a change of model never changes the split.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from threadpoolctl import threadpool_limits

from dlexp.config import Config
from dlexp.data.splits import Splits
from dlexp.nn.model import DECAY_MASK, MLP
from dlexp.optim.optimizers import build_optimizer
from dlexp.optim.schedules import make_schedule
from dlexp.optim.transforms import GradientTransformation, Schedule
from dlexp.train.loop import Callback, EarlyStopping, FitState, fit, plan_steps


Streams = namedtuple("Streams", "split init dropout order")     # np.random.Generator each


def streams(seed: int | tuple[int, ...]) -> Streams:
    """The four generators (``seed``: an int, or ints such as (seed, round, trial))."""
    return Streams(*map(np.random.default_rng, np.random.SeedSequence(seed).spawn(4)))


def split_seed(cfg: Config) -> int:
    """``data.split_seed``, else the run's seed."""
    return cfg.seed if cfg.data.split_seed is None else cfg.data.split_seed


def build_model(cfg: Config, input_size: int, output_size: int, s: Streams) -> MLP:
    return MLP(cfg.model, input_size, output_size, s.init, np.dtype(cfg.dtype),
               dropout_rng=s.dropout)


def build_optimizer_for(cfg: Config, n_train: int) -> tuple[GradientTransformation, Schedule]:
    """The configured optimiser (L2/L1 gradients in front) and its schedule."""
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
    """Build the configured model and optimiser (and early stopping) and :func:`fit` them.
    BLAS runs on one thread: these matrices gain little from more, workers must not
    oversubscribe the cores, and a product's rounding depends on the thread count."""
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
