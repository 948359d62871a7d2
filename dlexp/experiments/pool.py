"""Run many training runs at once: worker processes, one BLAS thread each, stoppable.

:func:`execute` trains ``configs[i]`` into ``run_dirs[i]`` with
:func:`~dlexp.train.runner.train_run` and reports each outcome as it finishes.

* **spawn**, not fork: a forked child inherits a copy of the parent's memory in which
  OpenBLAS's worker threads and any locks they held are frozen mid-flight, so a BLAS call
  in the child can hang. ``forkserver`` is safe only while its server process never
  imported numpy. ``spawn`` starts a fresh interpreter (≈1 s, nothing next to a
  training run) and behaves the same on every OS.
* **one BLAS thread per worker** (threadpoolctl): N workers × N BLAS threads on N cores
  fight for the CPU (measured on 2 cores: one 2000-update MNIST run took 62 s with
  2 BLAS threads under load, 2.9 s with 1). BLAS also sums in a thread-count-dependent
  order, so the serial path (``jobs=1``, in this process) is pinned too: the numbers
  do not depend on ``jobs``.
* **MNIST once per worker**: :func:`~dlexp.data.load_mnist` is memoised per process, so
  each worker reads the files for its first run only; splits are made per run from
  the run's own seed, exactly as ``dlexp train`` makes them.
* **stopping**: workers ignore SIGINT. On Ctrl-C (or SIGTERM) the parent records the
  signal and sets a shared event; each worker's :class:`StopWhenSet` stops its run
  after the current update, which :func:`~dlexp.train.loop.fit` records as
  ``interrupted by SIGINT`` (or SIGTERM) — the sub-run folder stays complete. Runs not
  yet started end as ``skipped``. Workers die with the parent (``kill -9`` of it leaves
  no orphan writing a sub-run folder).
* **failures**: an exception in one run is caught in its worker and reported as status
  ``failed`` (with a summary.json in its folder); the other runs go on.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Callable, Sequence

from threadpoolctl import threadpool_limits

from dlexp.config import Config
from dlexp.io import write_json
from dlexp.train.loop import Callback, FitState
from dlexp.train.runner import train_run
from dlexp.train.signals import (interrupt_on_sigterm, interrupted_by, signal_of,
                                 stop_with_parent)

SUMMARY_KEYS = ("steps", "final_train_loss", "best_val_acc", "final_val_acc", "test_acc",
                "train_seconds")

_STOP = None                                # the shared stop event, in a worker process
_SIGNAL = None                              # the signal that stopped it (a shared int)


class StopWhenSet(Callback):
    """Once ``event`` is set, stop after the current update, as Ctrl-C would, naming the
    signal in ``signum`` (a shared int; None or 0: unknown)."""

    def __init__(self, event, signum=None) -> None:
        self.event, self.signum = event, signum

    def on_step_end(self, state: FitState, loss: float) -> None:
        if self.event.is_set():
            signum = self.signum.value if self.signum is not None else 0
            state.status, state.stop = "interrupted", interrupted_by(signum)


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:                  # not on Linux
        return os.cpu_count() or 1


def execute(configs: Sequence[Config], run_dirs: Sequence[Path], jobs: int | None,
            on_done: Callable[[int, dict], None]) -> list[dict]:
    """Train every config; ``on_done(i, outcome)`` as run i ends. Outcomes in input order."""
    jobs = min(jobs or default_jobs(), len(configs))
    if jobs <= 1:
        return _serial(configs, run_dirs, on_done)
    return _parallel(configs, run_dirs, jobs, on_done)


def run_one(cfg: Config, run_dir: Path) -> dict:
    """One sub-run, in whichever process calls it; never raises but KeyboardInterrupt."""
    if _STOP is not None and _STOP.is_set():
        return outcome("skipped")
    callbacks = (StopWhenSet(_STOP, _SIGNAL),) if _STOP is not None else ()
    try:
        s = train_run(cfg, run_dir=run_dir, callbacks=callbacks, progress=False).summary
    except KeyboardInterrupt:
        raise
    except Exception as e:                  # noqa: BLE001 — one failure must not stop the rest
        error = f"{type(e).__name__}: {e}"
        Path(run_dir).mkdir(parents=True, exist_ok=True)
        write_json(Path(run_dir) / "summary.json",
                   {"name": cfg.name, "status": "failed", "stop_reason": error, "seed": cfg.seed})
        return outcome("failed", error)
    error = s["stop_reason"] if s["status"] != "completed" else None
    return outcome(s["status"], error, **{k: s.get(k) for k in SUMMARY_KEYS})


def outcome(status: str, error: str | None = None, **values) -> dict:
    """One sub-run's result as the pool reports it: status, error and SUMMARY_KEYS."""
    return {"status": status, "error": error, **{k: values.get(k) for k in SUMMARY_KEYS}}


def _serial(configs: Sequence[Config], run_dirs: Sequence[Path],
            on_done: Callable[[int, dict], None]) -> list[dict]:
    outcomes: list[dict] = []
    with threadpool_limits(limits=1):
        for i, (cfg, run_dir) in enumerate(zip(configs, run_dirs)):
            if outcomes and outcomes[-1]["status"] in ("interrupted", "skipped"):
                result = outcome("skipped")
            else:
                try:
                    result = run_one(cfg, run_dir)
                except KeyboardInterrupt as e:   # outside fit: loading data, writing files
                    result = outcome("interrupted", interrupted_by(signal_of(e)))
            outcomes.append(result)
            on_done(i, result)
    return outcomes


def _init_worker(stop, signum) -> None:
    global _STOP, _SIGNAL
    _STOP, _SIGNAL = stop, signum
    signal.signal(signal.SIGINT, signal.SIG_IGN)     # the parent decides when to stop
    # A worker outliving the parent would take the next queued run and write into the
    # comparison folder unseen (a --resume would then train that run a second time).
    stop_with_parent(signal.SIGKILL)
    threadpool_limits(limits=1)                      # for the life of this process


def _parallel(configs: Sequence[Config], run_dirs: Sequence[Path], jobs: int,
              on_done: Callable[[int, dict], None]) -> list[dict]:
    ctx = multiprocessing.get_context("spawn")
    stop, signum = ctx.Event(), ctx.Value("i", 0)
    outcomes: list[dict | None] = [None] * len(configs)
    with ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_init_worker,
                             initargs=(stop, signum)) as pool:
        futures = {pool.submit(run_one, c, d): i
                   for i, (c, d) in enumerate(zip(configs, run_dirs))}
        try:
            with interrupt_on_sigterm():
                for fut in as_completed(futures):
                    i = futures[fut]
                    outcomes[i] = _result(fut)
                    on_done(i, outcomes[i])
        except KeyboardInterrupt as e:
            signum.value = signal_of(e)
            stop.set()
            for fut in futures:
                fut.cancel()
            for fut, i in futures.items():            # running ones stop at their next update
                if outcomes[i] is None:
                    outcomes[i] = outcome("skipped") if fut.cancelled() else _result(fut)
                    on_done(i, outcomes[i])
    return outcomes


def _result(fut: Future) -> dict:
    try:
        return fut.result()
    except Exception as e:                  # noqa: BLE001 — a worker died (killed, out of memory)
        return outcome("failed", f"worker process failed: {type(e).__name__}: {e}")
