"""The machine a benchmark ran on, and its measured matrix-multiply peak.

The peak is the best of several large square products (n = 2048) in the calling
process, so it uses that process's BLAS and thread setting:
    GFLOP/s = 2 n³ / seconds.
"""

from __future__ import annotations

import os
import platform
import time

import numpy as np

BLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
            "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_flags() -> list[str]:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = line.split(":", 1)[1].split()
                    return sorted(x for x in flags if x.startswith(("avx", "fma", "amx")))
    except OSError:
        pass
    return []


def describe() -> dict:
    """Host, CPU, cores, memory, Python/NumPy versions and BLAS-related environment."""
    mem_gib = None
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            mem_gib = round(int(f.readline().split()[1]) / 2**20, 1)
    except (OSError, ValueError, IndexError):
        pass
    return {
        "host": platform.node(),
        "cpu": cpu_model(),
        "cpu_flags": cpu_flags(),
        "cores": os.cpu_count(),
        "memory_gib": mem_gib,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "environment": {k: os.environ.get(k) for k in BLAS_ENV},
    }


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def cpu_times() -> tuple[float, float] | None:
    """(busy, total) CPU-seconds of all CPUs since boot, from /proc/stat (None off Linux)."""
    try:
        with open("/proc/stat", encoding="utf-8") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)          # idle + iowait
    hz = os.sysconf("SC_CLK_TCK")
    return (sum(fields) - idle) / hz, sum(fields) / hz


def others_share(before, after, own_cpu_seconds: float = 0.0) -> float | None:
    """Share of all CPUs that processes other than ours kept busy between two
    :func:`cpu_times` readings (``own_cpu_seconds``: what our process used meanwhile)."""
    if before is None or after is None or after[1] <= before[1]:
        return None
    return max(after[0] - before[0] - own_cpu_seconds, 0.0) / (after[1] - before[1])


def busy_fraction(window: float = 0.3) -> float | None:
    """Share of all CPUs busy over the next ``window`` seconds."""
    before = cpu_times()
    time.sleep(window)
    return others_share(before, cpu_times())


def wait_until_idle(max_busy: float, timeout: float) -> float | None:
    """Wait (at most ``timeout`` s) until other processes keep the CPUs busy less than
    ``max_busy`` of the time; returns the last busy share seen. A shared machine's
    other work would otherwise land inside the timed calls."""
    deadline = time.monotonic() + timeout
    while True:
        busy = busy_fraction()
        if busy is None or busy <= max_busy or time.monotonic() > deadline:
            return busy


def peak_gflops(backend: str = "numpy", dtype: str = "float32", n: int = 2048,
                repeats: int = 5) -> float:
    """Best GFLOP/s of an (n × n) · (n × n) product, in this process."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    if backend == "torch":
        import torch
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        out = torch.empty_like(ta)
        run = lambda: torch.mm(ta, tb, out=out)                   # noqa: E731
    else:
        out = np.empty_like(a)
        run = lambda: np.matmul(a, b, out=out)                    # noqa: E731
    run()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best / 1e9
