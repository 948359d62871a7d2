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
* **stopping** (:mod:`~dlexp.train.signals`): the parent and its workers share one stop
  record. On Ctrl-C or SIGTERM (to the parent, or to the whole process group) each
  running sub-run stops after its current update as ``interrupted by SIGINT`` (or
  SIGTERM) — its folder stays complete — and runs not yet started end as ``skipped``,
  in the serial path too. Workers die with the parent (``kill -9`` of it leaves no
  orphan writing a sub-run folder).
* **failures**: an exception in one run is caught in its worker and reported as status
  ``failed`` (with a summary.json in its folder, naming the file a full disk could not
  take); the other runs go on.
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
from dlexp.errors import WriteError
from dlexp.io import write_json
from dlexp.train.runner import train_run
from dlexp.train import signals

SUMMARY_KEYS = ("steps", "final_train_loss", "best_val_acc", "final_val_acc", "test_acc",
                "train_seconds")


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
    with signals.stoppable():
        if jobs <= 1:
            return _serial(configs, run_dirs, on_done)
        return _parallel(configs, run_dirs, jobs, on_done)


def run_one(cfg: Config, run_dir: Path) -> dict:
    """One sub-run, in whichever process calls it; never raises."""
    if signals.requested():
        return outcome("skipped")
    try:
        s = train_run(cfg, run_dir=run_dir, progress=False).summary
    except Exception as e:                  # noqa: BLE001 — one failure must not stop the rest
        error = str(e) if isinstance(e, WriteError) else f"{type(e).__name__}: {e}"
        if not isinstance(e, WriteError):   # (train_run recorded that one itself)
            try:
                Path(run_dir).mkdir(parents=True, exist_ok=True)
                write_json(Path(run_dir) / "summary.json", {"name": cfg.name, "status": "failed",
                                                            "stop_reason": error, "seed": cfg.seed})
            except (OSError, WriteError):
                pass
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
            outcomes.append(run_one(cfg, run_dir))
            on_done(i, outcomes[-1])
    return outcomes


def _init_worker(shared) -> None:
    signals.install(shared)
    # A worker outliving the parent would take the next queued run and write into the
    # comparison folder unseen (a --resume would then train that run a second time).
    signals.stop_with_parent(signal.SIGKILL)
    threadpool_limits(limits=1)                      # for the life of this process


def _parallel(configs: Sequence[Config], run_dirs: Sequence[Path], jobs: int,
              on_done: Callable[[int, dict], None]) -> list[dict]:
    ctx = multiprocessing.get_context("spawn")
    shared = ctx.Value("i", 0)
    outcomes: list[dict | None] = [None] * len(configs)
    with signals.sharing(shared), ProcessPoolExecutor(
            jobs, mp_context=ctx, initializer=_init_worker, initargs=(shared,)) as pool:
        futures = {pool.submit(run_one, c, d): i
                   for i, (c, d) in enumerate(zip(configs, run_dirs))}
        for fut in as_completed(futures):       # a stop: running runs end, queued ones skip
            i = futures[fut]
            outcomes[i] = _result(fut)
            on_done(i, outcomes[i])
    return outcomes


def _result(fut: Future) -> dict:
    try:
        return fut.result()
    except Exception as e:                  # noqa: BLE001 — a worker died (killed, out of memory)
        return outcome("failed", f"worker process failed: {type(e).__name__}: {e}")
