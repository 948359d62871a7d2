"""Run the speed benchmark: dlexp, PyTorch eager, the book-style NumPy baseline and the
NumPy floor (matrix products and batch gathers only), interleaved on the same machine,
for each thread count; write JSON and Markdown.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.run

Per thread count, one process per implementation holds its data and network; the
parent asks each in turn (rotating the order every round) for one epoch, one
evaluation pass or one search trial, so a change in machine load hits all of them alike.
Ratios are taken per round (dlexp's time over the other's time in the same round) and
summarised by their median and range. The first epoch of each network is a warm-up:
its mean loss is kept for the agreement check, its time is not.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

from benchmarks import cli_checks, machine, report
from benchmarks.workers import Worker

RESULTS = Path(__file__).resolve().parent / "results"


def _have_torch() -> bool:
    """Whether PyTorch is installed (found, not imported: only its workers load it)."""
    import importlib.util
    return importlib.util.find_spec("torch") is not None


# Set from the command line; "budget" is the total waiting allowed over the whole run.
IDLE = {"max_busy": 0.15, "timeout": 20.0, "retries": 3, "budget": 900.0}


def measured_call(worker: Worker, method: str, args: tuple, retry: bool = True) -> dict:
    """One timed call on an idle machine: wait until other processes leave the CPUs
    idle, call, and repeat the call (up to ``retries`` times, if ``retry``) if they kept
    more than ``max_busy`` of the CPUs busy while it ran; the last attempt is kept."""
    for attempt in range(IDLE["retries"] + 1 if retry else 1):
        t0 = time.monotonic()
        busy = machine.wait_until_idle(IDLE["max_busy"],
                                       max(min(IDLE["timeout"], IDLE["budget"]), 0.0))
        IDLE["budget"] -= time.monotonic() - t0
        before = machine.cpu_times()
        result = worker.call(method, *args)
        during = machine.others_share(before, machine.cpu_times(), result["cpu_seconds"])
        if during is None or during <= IDLE["max_busy"]:
            break
    return {**result, "busy_before": busy, "others_during": during, "attempts": attempt + 1}


def interleave(workers: dict[str, Worker], method: str, rounds: int, args_of=lambda r: (),
               retry: bool = True) -> dict[str, list[dict]]:
    """``rounds`` calls of ``method`` on every worker, rotating who goes first, each
    through :func:`measured_call`."""
    names = list(workers)
    out: dict[str, list[dict]] = {n: [] for n in names}
    for r in range(rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            out[name].append(measured_call(workers[name], method, args_of(r), retry))
    return out


def bench_threads(threads: int, impls: list[str], a: argparse.Namespace, log) -> dict:
    log(f"[threads={threads}] starting {', '.join(impls)}")
    workers = {name: Worker(name, threads) for name in impls}
    try:
        res: dict = {"threads": threads, "blas": workers["dlexp"].call("blas_info"),
                     "peak_gflops": {
                         "numpy_float32": workers["dlexp"].call("peak_gflops", "numpy",
                                                                "float32"),
                         "numpy_float64": workers["dlexp"].call("peak_gflops", "numpy",
                                                                "float64")}}
        if "pytorch" in workers:
            res["blas_torch"] = workers["pytorch"].call("blas_info")
            res["peak_gflops"]["torch_float32"] = workers["pytorch"].call(
                "peak_gflops", "torch", "float32")
        for wl in ("sgd", "bn_adam"):
            for w in workers.values():
                w.call("setup", wl)
            first = interleave(workers, "epoch", 1, retry=False)   # the agreement check
            log(f"[threads={threads}] {wl}: warm-up epoch done; {a.epochs} timed epochs")
            timed = interleave(workers, "epoch", a.epochs)
            res[wl] = {"first_epoch": {n: v[0] for n, v in first.items()}, "epochs": timed}
            if wl == "sgd":
                res["eval"] = interleave(workers, "evaluate", a.evals)
        log(f"[threads={threads}] {a.trials} search trials each")
        res["trial"] = interleave(workers, "trial", a.trials, lambda r: (r,))
        return res
    finally:
        for w in workers.values():
            w.close()


def agreement(log) -> dict:
    """First-epoch losses of dlexp in float64 (to set against float32 and the book)."""
    log("[agreement] dlexp float64, one epoch of each training workload")
    w = Worker("dlexp_f64", 1)
    try:
        out = {}
        for wl in ("sgd", "bn_adam"):
            w.call("setup", wl)
            out[wl] = w.call("epoch")
        return out
    finally:
        w.close()


def sequential_trials(n: int, log) -> dict:
    """``n`` book trials in one process with 1 BLAS thread (the fallback search figure)."""
    log(f"[search] dlexp search not available: {n} sequential trials instead")
    w = Worker("dlexp", 1)
    try:
        times = [w.call("trial", i)["seconds"] for i in range(n)]
    finally:
        w.close()
    return {"how": f"{n} sequential trials via fit, 1 BLAS thread; total / 2",
            "seconds": sum(times) / 2, "trial_seconds": times}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split(
        "\n\n")[0])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--epochs", type=int, default=7, help="timed epochs per implementation")
    p.add_argument("--evals", type=int, default=15, help="timed evaluation passes")
    p.add_argument("--trials", type=int, default=5, help="timed search trials")
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch reference")
    p.add_argument("--torch-fused", action="store_true",
                   help="also time PyTorch with its fused optimisers (optim.SGD/Adam(fused=True))")
    p.add_argument("--no-floor", action="store_true",
                   help="skip the NumPy floor (matrix products and batch gathers only)")
    p.add_argument("--no-commands", action="store_true",
                   help="skip --help, train peak memory and the search")
    p.add_argument("--search-trials", type=int, default=100)
    p.add_argument("--max-busy", type=float, default=IDLE["max_busy"],
                   help="before each timed call, wait until other processes keep the CPUs "
                        "busy less than this share of the time (1 disables)")
    p.add_argument("--idle-timeout", type=float, default=IDLE["timeout"],
                   help="longest wait for an idle machine before a timed call (s)")
    p.add_argument("--retries", type=int, default=IDLE["retries"],
                   help="repeats of a timed call that other processes disturbed")
    p.add_argument("--wait-budget", type=float, default=IDLE["budget"],
                   help="total seconds the run may spend waiting for an idle machine")
    p.add_argument("--out", type=Path, default=RESULTS, help="folder for JSON and Markdown")
    a = p.parse_args(argv)
    log = lambda msg: print(msg, file=sys.stderr, flush=True)         # noqa: E731
    IDLE.update(max_busy=a.max_busy, timeout=a.idle_timeout, retries=a.retries,
                budget=a.wait_budget)

    torch = [] if a.no_torch or not _have_torch() else ["pytorch"] + (
        ["pytorch_fused"] if a.torch_fused else [])
    impls = ["dlexp", *torch, "book"] + ([] if a.no_floor else ["floor"])
    started = dt.datetime.now().astimezone()
    data: dict = {"started": started.isoformat(timespec="seconds"),
                  "command": "python -m benchmarks.run " + " ".join(argv or sys.argv[1:]),
                  "machine": machine.describe(), "load_before": machine.load_average(),
                  "settings": {"epochs": a.epochs, "evals": a.evals, "trials": a.trials,
                               **IDLE},
                  "impls": impls, "runs": []}
    if any(data["machine"]["environment"].get(k) for k in ("OPENBLAS_CORETYPE",
                                                           "OPENBLAS_L2_SIZE")):
        log("warning: OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE are set; they slow NumPy's BLAS. "
            "Run with: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.run")
    for t in a.threads:
        data["runs"].append(bench_threads(t, impls, a, log))
    data["agreement_f64"] = agreement(log)
    if not a.no_commands:
        log("[commands] dlexp --help, dlexp train peak memory, search")
        data["help"] = cli_checks.help_startup()
        data["train_memory"] = cli_checks.train_peak_memory()
        if cli_checks.search_available():
            data["search"] = cli_checks.search_wall_time(a.search_trials, 2)
        else:
            data["search"] = sequential_trials(a.search_trials, log)
    data["load_after"] = machine.load_average()
    data["finished"] = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    summary = report.summarise(data)
    paths = report.write(data, summary, a.out, started.strftime("%Y-%m-%d_%H%M"))
    print(report.markdown(data, summary))
    log("wrote " + ", ".join(str(x) for x in paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
