"""One training run from a config to a complete run directory.

``train_run`` is what ``dlexp train`` calls, and what ``compare`` runs once per variant.
It loads the data, trains with :func:`~dlexp.train.loop.fit`, evaluates the test set
once at the end, and leaves the files listed in :mod:`dlexp.train.rundir`. It never
plots (see :mod:`dlexp.plots`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dlexp.config import Config, config_to_dict
from dlexp.data import Splits, load_mnist, locate_mnist, make_splits
from dlexp.errors import ConfigError, DataError, WriteError
from dlexp.io import atomic_write_text, folder_lock, write_json, write_yaml
from dlexp.train.callbacks import MetricsWriter
from dlexp.train.loop import Callback, FitState
from dlexp.train.rundir import new_run_dir, run_meta
from dlexp.train.setup import split_seed, streams, train_model
from dlexp.train.signals import StopOnRequest, stoppable

EXIT_CODES = {"completed": 0, "diverged": 1, "failed": 1, "interrupted": 130}


@dataclass(frozen=True)
class RunResult:
    dir: Path
    summary: dict
    state: FitState


def load_splits(cfg: Config, progress: bool = True) -> Splits:
    """MNIST split as the config says, each split in the config's dtype. The raw uint8
    pixels are split first, so no float copy of the whole set is made (peak memory)."""
    raw = load_mnist(locate_mnist(progress=progress), dtype=np.uint8)
    d = cfg.data
    return make_splits(raw, val_size=d.val_size, train_size=d.train_size,
                       rng=streams(split_seed(cfg)).split,
                       stratify=d.stratify, subset=d.subset,
                       val_take=d.val_take, dtype=np.dtype(cfg.dtype))


def train_run(cfg: Config, *, runs_root: Path = Path("runs"), run_dir: Path | None = None,
              callbacks: tuple[Callback, ...] = (), splits: Splits | None = None,
              save_model: bool = True, progress: bool = True) -> RunResult:
    """Train one model as ``cfg`` says and record everything in a new run directory.

    Everything that can be wrong with the input (data, sizes, memory, the runs folder)
    raises before the folder is made. Once it exists it always gets a ``summary.json``:
    a run stopped by Ctrl-C/SIGTERM says ``interrupted``
    (:mod:`~dlexp.train.signals`), one whose loss became NaN/inf ``diverged``, one
    whose files could not be written (disk full) ``failed``, naming the file.
    """
    started = time.time()
    with stoppable():
        splits = splits if splits is not None else load_splits(cfg, progress)
        check_fits_data(cfg, splits)
        check_memory(cfg, splits)
        if run_dir is None:
            run_dir = new_run_dir(Path(runs_root), cfg.name)
        else:
            run_dir = Path(run_dir)
            run_dir.mkdir(parents=True, exist_ok=True)
        with folder_lock(run_dir, "run"):
            summary, state = _train_into(run_dir, cfg, splits, run_meta(started), callbacks,
                                         save_model)
    return RunResult(run_dir, summary, state)


def _train_into(run_dir: Path, cfg: Config, splits: Splits, meta: dict,
                callbacks: tuple[Callback, ...], save_model: bool) -> tuple[dict, FitState]:
    """Train and write the run's files; on a failed write (disk full) the summary says
    ``failed`` with the reason (if it still fits) and the WriteError is raised."""
    state = FitState(total_steps=0, steps_per_epoch=0)
    test = (None, None)
    try:
        write_yaml(run_dir / "config.yaml", config_to_dict(cfg))
        write_json(run_dir / "meta.json", meta)
        model, state = train_model(cfg, splits, streams(cfg.seed),
                                   (MetricsWriter(run_dir / "metrics.jsonl"), *callbacks,
                                    StopOnRequest()))
        if state.status == "completed":
            test = model.evaluate(splits.x_test, splits.y_test)
        summary = _finish(run_dir, _summary(cfg, state, *test), state, meta,
                          model if save_model else None)
    except WriteError as e:
        state.status, state.stop = "failed", str(e)
        _try(write_json, run_dir / "summary.json", _summary(cfg, state, *test))
        raise
    return summary, state


def _finish(run_dir: Path, summary: dict, state: FitState, meta: dict, model) -> dict:
    """Write steps.csv, model.npz (not of a diverged run), summary.json and meta.json's
    end time; each is whole or absent (:mod:`dlexp.io`)."""
    _write_steps(run_dir / "steps.csv", state.step_losses)
    if model is not None and state.status != "diverged":
        model.save(run_dir / "model.npz")
    write_json(run_dir / "summary.json", summary)
    meta["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    write_json(run_dir / "meta.json", meta)
    return summary


def _try(write, *args) -> None:
    """``write(*args)``, ignoring a second failure (the first one is reported)."""
    try:
        write(*args)
    except WriteError:
        pass


def check_fits_data(cfg: Config, splits: Splits) -> None:
    """Raise ConfigError when the config asks more of the data than it has (DataError
    for a test set of no images)."""
    if splits.x_test.shape[0] == 0:
        raise DataError("the test set has 0 images, so a run could not be tested; check the "
                        "t10k-* files in the MNIST folder (`dlexp data` verifies them)")
    n = splits.x_train.shape[0]
    if cfg.training.batch_size > n:
        raise ConfigError(f"training.batch_size ({cfg.training.batch_size}) is larger than "
                          f"the training set ({n} images after the validation split); "
                          "lower it, or lower data.val_size")


def model_bytes(cfg: Config, n_inputs: int, n_classes: int = 10) -> int:
    """A lower estimate of the memory training takes beyond the data, in bytes:

        itemsize · (5·P + 4·max(B, 2000)·Σ widths)

    P parameters (the weights, their gradients and up to three optimiser slots or
    temporaries each), B the batch (evaluation runs in chunks of 2000 images) and the
    activations of every layer kept for backward."""
    widths = [*cfg.model.hidden, n_classes]
    params = sum((a + 1) * b for a, b in zip([n_inputs, *widths[:-1]], widths))
    rows = max(cfg.training.batch_size, 2000)
    return np.dtype(cfg.dtype).itemsize * (5 * params + 4 * rows * sum(widths))


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux: MemAvailable), else None."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def check_memory(cfg: Config, splits: Splits) -> None:
    """Raise ConfigError, before anything is allocated or a folder made, when the model
    would not fit in the memory available (:func:`model_bytes`)."""
    need, have = model_bytes(cfg, splits.x_train.shape[1]), available_memory()
    if have is not None and need > have:
        raise ConfigError(f"model.hidden={list(cfg.model.hidden)} needs about "
                          f"{need / 2**30:.1f} GiB to train, more than the "
                          f"{have / 2**30:.1f} GiB available; use fewer or smaller layers")


def _summary(cfg: Config, state: FitState, test_loss, test_acc) -> dict:
    hist = state.history
    with_val = [r for r in hist if r.get("val_acc") is not None]
    best = max(with_val, key=lambda r: r["val_acc"]) if with_val else None
    last = hist[-1] if hist else {}
    return {
        "name": cfg.name,
        "status": state.status,
        "stop_reason": state.stop,
        "best_val_acc": best["val_acc"] if best else None,
        "best_epoch": best["epoch"] if best else None,
        "final_val_acc": last.get("val_acc"),
        "final_train_acc": last.get("train_acc"),
        "final_train_loss": last.get("train_loss"),
        "test_acc": test_acc,
        "test_loss": test_loss,
        "epochs": state.epoch if state.status == "completed" else last.get("epoch", 0),
        "steps": state.step,
        "seed": cfg.seed,
        "train_seconds": round(state.train_seconds, 3),
    }


def _write_steps(path: Path, losses: list[float]) -> None:
    lines = ["step,loss"] + [f"{i},{v!r}" for i, v in enumerate(losses, 1)]
    atomic_write_text(path, "\n".join(lines) + "\n")
