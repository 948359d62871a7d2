"""One training run, from a config to a complete run folder (:mod:`dlexp.train.rundir`):
load the data, build the model and optimiser, train, test once at the end; never plot.
One seed feeds four independent streams (``SeedSequence(seed).spawn``): the split, the
initial weights, the dropout masks and the batch order; so a change of model never
changes the split.
"""

from __future__ import annotations

import contextlib
import time
from collections import namedtuple
from pathlib import Path
from typing import NamedTuple

import numpy as np
from threadpoolctl import threadpool_limits

from dlexp.config import Config, config_to_dict
from dlexp.data.mnist import load_mnist, locate_mnist
from dlexp.data.splits import Splits, make_splits
from dlexp.errors import ConfigError, DataError, WriteError
from dlexp.io import append_jsonl, atomic_write_text, folder_lock, write_json, write_yaml
from dlexp.nn.model import DECAY_MASK, MLP
from dlexp.optim.optimizers import build_optimizer
from dlexp.optim.schedules import make_schedule
from dlexp.optim.transforms import GradientTransformation, Schedule
from dlexp.train.loop import Callback, EarlyStopping, FitState, fit, plan_steps
from dlexp.train.rundir import finish_meta, new_run_dir, run_meta
from dlexp.train.signals import StopOnRequest, stoppable

EXIT_CODES = {"completed": 0, "diverged": 1, "failed": 1, "interrupted": 130}
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


class RunResult(NamedTuple):
    dir: Path
    summary: dict


class MetricsWriter(Callback):
    """Append each evaluation record to ``metrics.jsonl``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def on_train_begin(self, state: FitState) -> None:
        self.path.touch()                  # present (maybe empty) even if no epoch ends

    def on_eval(self, state: FitState, record: dict) -> None:
        append_jsonl(self.path, record)


def load_splits(cfg: Config, progress: bool = True) -> Splits:
    """MNIST split as the config says, in its dtype (the uint8 pixels split first)."""
    d = cfg.data
    return make_splits(load_mnist(locate_mnist(progress=progress), dtype=np.uint8),
                       val_size=d.val_size, train_size=d.train_size,
                       rng=streams(split_seed(cfg)).split, stratify=d.stratify,
                       subset=d.subset, val_take=d.val_take, dtype=np.dtype(cfg.dtype))


def model_bytes(cfg: Config, n_inputs: int, n_classes: int = 10) -> int:
    """A lower bound of the bytes training takes beyond the data: itemsize · (5·P +
    4·max(B, 2000)·Σ widths) for P parameters (weights, gradients, three optimiser slots)
    and the activations of batch B (evaluation: chunks of 2000) kept for backward."""
    widths = [*cfg.model.hidden, n_classes]
    params = sum((a + 1) * b for a, b in zip([n_inputs, *widths[:-1]], widths))
    rows = max(cfg.training.batch_size, 2000)
    return np.dtype(cfg.dtype).itemsize * (5 * params + 4 * rows * sum(widths))


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux: MemAvailable), else None."""
    try:
        with open("/proc/meminfo") as f:
            return next(int(x.split()[1]) * 1024 for x in f if x.startswith("MemAvailable:"))
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def check_fits(cfg: Config, splits: Splits) -> None:
    """Raise when the config asks more of the data or the memory than there is."""
    n = splits.x_train.shape[0]
    if splits.x_test.shape[0] == 0:
        raise DataError("the test set has 0 images, so a run could not be tested; check the "
                        "t10k-* files in the MNIST folder (`dlexp data` verifies them)")
    if cfg.training.batch_size > n:
        raise ConfigError(f"training.batch_size ({cfg.training.batch_size}) is larger than "
                          f"the training set ({n} images after the validation split); "
                          "lower it, or lower data.val_size")
    need, have = model_bytes(cfg, splits.x_train.shape[1]), available_memory()
    if have is not None and need > have:
        raise ConfigError(f"model.hidden={list(cfg.model.hidden)} needs about "
                          f"{need / 2**30:.1f} GiB to train, more than the "
                          f"{have / 2**30:.1f} GiB available; use fewer or smaller layers")


def train_run(cfg: Config, *, runs_root: Path = Path("runs"), run_dir: Path | None = None,
              callbacks: tuple[Callback, ...] = (), splits: Splits | None = None,
              save_model: bool = True, progress: bool = True) -> RunResult:
    """Train one model as ``cfg`` says and record everything in a new run folder. Input
    problems raise before the folder is made; once made it always gets a ``summary.json``
    (status ``failed`` if a file could not be written; the WriteError is raised)."""
    started = time.time()
    with stoppable():
        splits = splits if splits is not None else load_splits(cfg, progress)
        check_fits(cfg, splits)
        run_dir = new_run_dir(Path(runs_root), cfg.name) if run_dir is None else Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        with folder_lock(run_dir, "run"):
            meta, state, test = run_meta(started), FitState(0, 0), (None, None)
            try:
                write_yaml(run_dir / "config.yaml", config_to_dict(cfg))
                write_json(run_dir / "meta.json", meta)
                model, state = train_model(cfg, splits, streams(cfg.seed), (
                    MetricsWriter(run_dir / "metrics.jsonl"), *callbacks, StopOnRequest()))
                if state.status == "completed":
                    test = model.evaluate(splits.x_test, splits.y_test)
                steps = "".join(f"{i},{v!r}\n" for i, v in enumerate(state.step_losses, 1))
                atomic_write_text(run_dir / "steps.csv", "step,loss\n" + steps)
                if save_model and state.status != "diverged":
                    model.save(run_dir / "model.npz")
                summary = _summary(cfg, state, *test)
                write_json(run_dir / "summary.json", summary)
                finish_meta(run_dir)
            except WriteError as e:
                state.status, state.stop = "failed", str(e)
                with contextlib.suppress(WriteError):     # the reason, if it still fits
                    write_json(run_dir / "summary.json", _summary(cfg, state, *test))
                raise
    return RunResult(run_dir, summary)


def _summary(cfg: Config, state: FitState, test_loss, test_acc) -> dict:
    with_val = [r for r in state.history if r.get("val_acc") is not None]
    best = max(with_val, key=lambda r: r["val_acc"]) if with_val else {}
    last = state.history[-1] if state.history else {}
    return {
        "name": cfg.name, "status": state.status, "stop_reason": state.stop,
        "best_val_acc": best.get("val_acc"), "best_epoch": best.get("epoch"),
        "final_val_acc": last.get("val_acc"), "final_train_acc": last.get("train_acc"),
        "final_train_loss": last.get("train_loss"),
        "test_acc": test_acc, "test_loss": test_loss,
        "epochs": state.epoch if state.status == "completed" else last.get("epoch", 0),
        "steps": state.step, "seed": cfg.seed, "train_seconds": round(state.train_seconds, 3),
    }
