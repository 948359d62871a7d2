"""Two versions of dlexp side by side: the epoch time of one against another's, measured
in alternation on the same machine (what a speed change bought).

    python -m benchmarks.ab BASE [NEW] [--workload sgd|bn_adam] [--rounds N]

BASE and NEW are git revisions of this repository (NEW defaults to the working tree).
Each is exported to a temporary folder and run in its own process, which loads MNIST
through that version's own ``load_splits`` and trains one epoch at a time with its own
``train_model`` (workload 1 or 2 of ``benchmarks.run``, one BLAS thread). Every round
times BASE, NEW, NEW, BASE, so a drift of the machine's speed hits both alike; the
ratio NEW/BASE is taken per round and reported as its median and range, with each
version's median epoch and its first epoch's loss (which should agree to float rounding).
The first epoch of each version is a warm-up and not timed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The child runs in the exported version, so it may use only what every version has:
# load_splits(cfg, progress=...), train_model(cfg, data, streams) and the config keys.
CHILD = r"""
import json, sys
from dlexp.config import config_from_dict
from dlexp.train.runner import load_splits, streams, train_model
w = json.loads(sys.argv[1])
cfg = config_from_dict({
    "name": "ab", "seed": 0, "dtype": "float32", "data": {"val_size": 0},
    "model": {"hidden": [100] * 4, "batchnorm": w["batchnorm"], "initializer": "he_normal"},
    "optimizer": {"name": w["optimizer"], "lr": w["lr"]},
    "training": {"epochs": 1, "batch_size": 100, "train_eval": "running"}})
data = load_splits(cfg, progress=False)
print("ready", flush=True)
for _ in sys.stdin:
    model, state = train_model(cfg, data, streams(0))
    print(json.dumps({"seconds": state.train_seconds,
                      "loss": state.history[-1]["train_loss"]}), flush=True)
"""

WORKLOADS = {"sgd": {"batchnorm": False, "optimizer": "sgd", "lr": 0.01},
             "bn_adam": {"batchnorm": True, "optimizer": "adam", "lr": 0.001}}


def export(rev: str, into: Path) -> Path:
    """The files of git revision ``rev`` in ``into`` (what ``git archive`` gives)."""
    into.mkdir(parents=True)
    archive = into / "src.tar"
    subprocess.run(["git", "-C", str(ROOT), "archive", "-o", str(archive), rev], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into / "src", filter="data")
    return into / "src"


class Version:
    """One version's process: ``epoch()`` trains an epoch and returns (seconds, loss)."""

    def __init__(self, name: str, src: Path, workload: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(src), "OPENBLAS_NUM_THREADS": "1",
               "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        self.name = name
        self.proc = subprocess.Popen([sys.executable, "-c", CHILD,
                                      json.dumps(WORKLOADS[workload])], cwd=src, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            raise SystemExit(f"{name}: the version did not start (see the error above)")

    def epoch(self) -> tuple[float, float]:
        self.proc.stdin.write("epoch\n")
        self.proc.stdin.flush()
        out = json.loads(self.proc.stdout.readline())
        return out["seconds"], out["loss"]

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


def compare(base: Version, new: Version, rounds: int) -> dict:
    """Warm-up, then ``rounds`` rounds of BASE, NEW, NEW, BASE; the per-round ratios."""
    losses = {v.name: v.epoch()[1] for v in (base, new)}
    times: dict[str, list[float]] = {base.name: [], new.name: []}
    ratios = []
    for _ in range(rounds):
        t = [v.epoch()[0] for v in (base, new, new, base)]
        times[base.name] += [t[0], t[3]]
        times[new.name] += [t[1], t[2]]
        ratios.append((t[1] + t[2]) / (t[0] + t[3]))
    return {"ratio": statistics.median(ratios), "low": min(ratios), "high": max(ratios),
            "seconds": {k: statistics.median(v) for k, v in times.items()},
            "first_loss": losses}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.ab", description=__doc__.split(
        "\n\n")[0])
    p.add_argument("base", help="git revision to compare against, e.g. HEAD~3")
    p.add_argument("new", nargs="?", help="git revision (default: the working tree)")
    p.add_argument("--workload", choices=sorted(WORKLOADS), default="sgd")
    p.add_argument("--rounds", type=int, default=12)
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="dlexp-ab-") as tmp:
        base_src = export(a.base, Path(tmp, "base"))
        new_src = export(a.new, Path(tmp, "new")) if a.new else ROOT
        versions = [Version(a.base, base_src, a.workload),
                    Version(a.new or "working tree", new_src, a.workload)]
        try:
            r = compare(*versions, rounds=a.rounds)
        finally:
            for v in versions:
                v.close()
    base, new = (v.name for v in versions)
    print(f"workload {a.workload}, {a.rounds} rounds (each BASE, NEW, NEW, BASE):")
    for name in (base, new):
        print(f"  {name}: median epoch {r['seconds'][name]:.4f} s, first epoch's loss "
              f"{r['first_loss'][name]:.6f}")
    print(f"  NEW / BASE: {r['ratio']:.3f} (range {r['low']:.3f}–{r['high']:.3f})")


if __name__ == "__main__":
    main()
