"""Whole-command measurements: ``dlexp --help`` start-up, the peak memory of a full-MNIST
``dlexp train``, and the wall time of the book's 100-trial search with 2 workers.

Each command runs as a child process of this one; its peak resident memory is the
``ru_maxrss`` that ``os.wait4`` reports for exactly that child.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def dlexp_command() -> list[str]:
    """The installed ``dlexp`` console script next to this interpreter, if any."""
    exe = Path(sys.executable).with_name("dlexp")
    if exe.is_file():
        return [str(exe)]
    found = shutil.which("dlexp")
    return [found] if found else [sys.executable, "-c", "from dlexp.cli import main; main()"]


def run_measured(args: list[str], timeout: float = 600) -> dict:
    """Run ``args``; wall seconds, exit code and peak RSS (MB, 10⁶ bytes) of that process."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    with tempfile.TemporaryFile() as errfile:
        t0 = time.perf_counter()
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=errfile, env=env,
                                cwd=REPO)
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        _, status, usage = os.wait4(proc.pid, 0)                  # blocks until it exits
        seconds = time.perf_counter() - t0
        killer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        errfile.seek(0)
        err = errfile.read().decode(errors="replace")
    return {"seconds": seconds, "exit_code": proc.returncode,
            "peak_rss_mb": usage.ru_maxrss * 1024 / 1e6, "stderr_tail": err[-500:]}


def help_startup(repeats: int = 7) -> dict:
    """Median wall time of ``dlexp --help`` over ``repeats`` runs (after one warm-up)."""
    cmd = dlexp_command() + ["--help"]
    run_measured(cmd)
    times = [run_measured(cmd)["seconds"] for _ in range(repeats)]
    return {"command": "dlexp --help", "median_s": statistics.median(times),
            "min_s": min(times), "max_s": max(times), "runs": times}


def train_peak_memory(epochs: int = 2) -> dict:
    """Peak RSS of ``dlexp train configs/baseline.yaml`` on full MNIST (fewer epochs:
    the peak does not depend on their number)."""
    with tempfile.TemporaryDirectory(prefix="dlexp-bench-") as tmp:
        args = ["train", str(REPO / "configs" / "baseline.yaml"), "-q", "--runs-dir", tmp,
                "--set", f"training.epochs={epochs}"]
        result = run_measured(dlexp_command() + args)
    result["command"] = f"dlexp train configs/baseline.yaml -q --set training.epochs={epochs}"
    return result


def search_available() -> bool:
    r = subprocess.run(dlexp_command() + ["search", "--help"], capture_output=True, cwd=REPO)
    return r.returncode == 0


def search_wall_time(trials: int = 100, workers: int = 2) -> dict:
    """Wall time of the book's search (configs/search.yaml) with ``workers`` processes."""
    with tempfile.TemporaryDirectory(prefix="dlexp-bench-") as tmp:
        args = ["search", "--trials", str(trials), "--workers", str(workers), "-q",
                "--no-plots", "--runs-dir", tmp]
        result = run_measured(dlexp_command() + args, timeout=1200)
    result["command"] = "dlexp " + " ".join(args[:-2])
    return result
