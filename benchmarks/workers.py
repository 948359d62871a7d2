"""Each implementation runs in its own long-lived process, so the three never share a
BLAS or OpenMP thread pool, and the parent interleaves their timed calls one at a time.

The thread count is fixed in the child before any work: ``threadpoolctl`` limits
NumPy's BLAS, ``torch.set_num_threads`` PyTorch's pool. A child answers
``(method, args)`` messages with the method's result (or the error text); the methods
are those of the implementation's ``Impl``, plus ``blas_info`` and ``peak_gflops``.
"""

from __future__ import annotations

import multiprocessing as mp
import sys
import traceback
from typing import Any

IMPLS = {   # name: (module, keyword arguments of its Impl)
    "dlexp": ("benchmarks.impl_dlexp", {}),
    "dlexp_f64": ("benchmarks.impl_dlexp", {"dtype": "float64"}),
    "pytorch": ("benchmarks.impl_torch", {}),
    "pytorch_fused": ("benchmarks.impl_torch", {"variant": "fused"}),
    "book": ("benchmarks.impl_book", {}),
    "floor": ("benchmarks.impl_floor", {}),
    "sweep_dlexp": ("benchmarks.sweep", {"engine": "dlexp"}),
    "sweep_torch": ("benchmarks.sweep", {"engine": "torch"}),
}


def _child(conn, impl: str, threads: int, options: dict) -> None:
    import importlib

    import numpy  # noqa: F401  (threadpoolctl limits only libraries already loaded)
    from threadpoolctl import threadpool_limits
    threadpool_limits(threads)
    module, kwargs = IMPLS[impl]
    if module == "benchmarks.impl_torch":          # only PyTorch's processes load torch
        import torch
        torch.set_num_threads(threads)
    from benchmarks.common import load_data
    obj = importlib.import_module(module).Impl(load_data(), **kwargs, **options)
    conn.send(("ok", None))
    while True:
        msg = conn.recv()
        if msg is None:
            break
        method, args = msg
        try:
            fn = _SHARED[method] if method in _SHARED else getattr(obj, method)
            conn.send(("ok", fn(*args)))
        except Exception:                                   # reported by the parent
            conn.send(("error", traceback.format_exc()))


def blas_info() -> dict:
    """BLAS/OpenMP pools as seen from this process, and PyTorch's thread count."""
    from threadpoolctl import threadpool_info
    pools = [{k: p.get(k) for k in ("user_api", "internal_api", "prefix", "version",
                                     "architecture", "num_threads", "threading_layer")}
             for p in threadpool_info()]
    info: dict[str, Any] = {"numpy": [p for p in pools if p["user_api"] == "blas"],
                            "openmp": [p for p in pools if p["user_api"] == "openmp"]}
    torch = sys.modules.get("torch")
    info["torch"] = None if torch is None else {
        "version": torch.__version__, "num_threads": torch.get_num_threads(),
        "blas": _torch_blas()}
    return info


def _torch_blas() -> str:
    import re

    import torch
    found = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    return f"BLAS_INFO={found.group(1)}" if found else "unknown"


def _peak(*args):
    from benchmarks.machine import peak_gflops
    return peak_gflops(*args)


_SHARED = {"blas_info": blas_info, "peak_gflops": _peak}


class Worker:
    """A child process holding one implementation with its data loaded."""

    def __init__(self, impl: str, threads: int, options: dict | None = None) -> None:
        self.impl, self.threads = impl, threads
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_child, args=(child, impl, threads, options or {}),
                                daemon=True)
        self.proc.start()
        child.close()                   # ours: so a dead worker's pipe reads as ended
        self._receive()

    def call(self, method: str, *args) -> Any:
        self.conn.send((method, args))
        return self._receive()

    def _receive(self) -> Any:
        try:
            status, value = self.conn.recv()
        except EOFError:                # the worker died (its traceback is on stderr)
            self.proc.join(timeout=10)
            raise RuntimeError(f"{self.impl} worker ended, exit code {self.proc.exitcode}")
        if status != "ok":
            raise RuntimeError(f"{self.impl} worker failed:\n{value}")
        return value

    def close(self) -> None:
        try:
            self.conn.send(None)
        except (BrokenPipeError, OSError):
            pass
        self.proc.join(timeout=10)
        if self.proc.is_alive():
            self.proc.terminate()
