"""Many runs at once (a sweep's sub-runs, search-methods' searches): worker processes,
one BLAS thread each, stoppable.

* spawn, not fork: a forked child can inherit OpenBLAS's threads frozen mid-lock and hang.
* One BLAS thread per worker, and in the serial path (``jobs=1``, in this process) too:
  N workers × N threads fight for the cores (measured on 2 cores: 62 s against 2.9 s for
  one 2000-update run), and BLAS sums in a thread-count-dependent order, so the numbers
  must not depend on ``jobs``. MNIST is read once per worker (it is memoised per process).
* The parent and its workers share one stop record (:mod:`dlexp.train.signals`);
  workers die with the parent.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Callable, Sequence

from threadpoolctl import threadpool_limits

from dlexp.config import Config
from dlexp.errors import DlexpError, WriteError
from dlexp.io import write_json
from dlexp.train import signals
from dlexp.train.runner import train_run

SUMMARY_KEYS = ("steps", "final_train_loss", "best_val_acc", "final_val_acc", "test_acc",
                "train_seconds")


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:                  # not on Linux
        return os.cpu_count() or 1


def execute(work: Callable[..., dict], tasks: Sequence[tuple[Any, ...]], jobs: int | None,
            on_done: Callable[[int, dict], None] = lambda i, result: None) -> list[dict]:
    """``work(*task)`` for every task (``work`` checks :func:`signals.requested` before it
    starts); ``on_done(i, result)`` as task i ends. Results in input order."""
    jobs = min(jobs or default_jobs(), len(tasks))
    results: list[dict] = [{}] * len(tasks)
    with signals.stoppable():
        if jobs <= 1:
            with threadpool_limits(limits=1):
                for i, task in enumerate(tasks):
                    results[i] = work(*task)
                    on_done(i, results[i])
            return results
        ctx = multiprocessing.get_context("spawn")
        shared = ctx.Value("i", 0)                  # the stop record parent and workers share
        with signals.sharing(shared), ProcessPoolExecutor(
                jobs, mp_context=ctx, initializer=_init_worker, initargs=(shared,)) as pool:
            futures = {pool.submit(work, *task): i for i, task in enumerate(tasks)}
            for fut in as_completed(futures):    # a stop: running tasks end, queued ones skip
                i = futures[fut]
                results[i] = _result(fut)
                on_done(i, results[i])
    return results


def run_one(cfg: Config, run_dir: Path) -> dict:
    """One training run (a sweep's task), in whichever process calls it; never raises (a
    failure is recorded in its folder's summary.json and the other runs go on)."""
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
    """One sub-run's result: status, error and SUMMARY_KEYS."""
    return {"status": status, "error": error, **{k: values.get(k) for k in SUMMARY_KEYS}}


def _init_worker(shared) -> None:
    signals.install(shared)
    # A worker outliving the parent would take the next queued run and write into the
    # comparison folder unseen (a --resume would then train that run a second time).
    signals.stop_with_parent(signal.SIGKILL)
    threadpool_limits(limits=1)                      # for the life of this process


def _result(fut: Future) -> dict:
    try:
        return fut.result()
    except DlexpError:                      # a task other than run_one met a user error
        raise
    except Exception as e:                  # noqa: BLE001 — a worker died (killed, out of memory)
        return outcome("failed", f"worker process failed: {type(e).__name__}: {e}")
