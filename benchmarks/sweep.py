"""Speed sweep: dlexp's ``fit`` against PyTorch eager, side by side, one thread each.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.sweep

Points (He-normal ReLU nets, SGD η 0.01 unless stated, float32 unless stated):

    ref_b32 … ref_b1024   784-100×4-10 at batch 32, 100 (the reference), 256, 1024
    w512_b100, w512_b256  784-512-512-10 at batch 100 and 256
    w2048_b100, w2048_b256  784-2048-2048-10 at batch 100 and 256
    bn_adam_dropout       784-100×4-10, batch norm + Adam (η 0.001) + dropout 0.2, batch 100
    float64               the reference in float64

The images are MNIST standardised per pixel (x − mean) / std over the training set (a
pixel that never varies stays 0), so no input is sparse. Each engine runs in its own
process with one BLAS/intra-op thread, the same initial weights and the same batch
order. A round is a fixed number of training steps (about 15 GFLOP of matrix products
at float32, half a second or so) by each engine in turn, the order alternating; the ratio
dlexp / PyTorch is taken per round and summarised by its median and range, after one
untimed warm-up round. Both the process CPU time (the main figure: on a machine shared
with other work it counts only what the engine itself computed) and the wall time are
taken. Both engines do the same work a step: gather the batch, forward,
loss as a Python float, backward, optimiser step, running accuracy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Point:
    hidden: tuple[int, ...] = (100,) * 4
    batch: int = 100
    batchnorm: bool = False
    dropout: float = 0.0
    optimizer: str = "sgd"
    lr: float = 0.01
    dtype: str = "float32"


REF = (100,) * 4
POINTS = {
    "ref_b32": Point(batch=32), "ref_b100": Point(), "ref_b256": Point(batch=256),
    "ref_b1024": Point(batch=1024),
    "w512_b100": Point((512, 512)), "w512_b256": Point((512, 512), 256),
    "w2048_b100": Point((2048, 2048)), "w2048_b256": Point((2048, 2048), 256),
    "bn_adam_dropout": Point(batchnorm=True, dropout=0.2, optimizer="adam", lr=0.001),
    "float64": Point(dtype="float64"),
}


def step_flops(p: Point) -> int:
    """Matrix-product work of one step: forward, weight gradients, input gradients
    (none for the input layer)."""
    d = [784, *p.hidden, 10]
    prods = [a * b for a, b in zip(d[:-1], d[1:])]
    return 2 * p.batch * (2 * sum(prods) + sum(prods[1:]))


def steps_per_round(p: Point, gflop: float) -> int:
    return max(20, int(gflop * 1e9 / step_flops(p)))


def standardised(x: np.ndarray) -> np.ndarray:
    """(x − mean) / std per pixel over these images; std 0 → 1."""
    x = x.astype(np.float64)
    std = x.std(axis=0)
    return (x - x.mean(axis=0)) / np.where(std > 0, std, 1.0)


class Impl:
    """One engine's side of the sweep (run in a worker process)."""

    def __init__(self, data, engine: str = "dlexp", threads: int = 1) -> None:
        self.engine = engine
        self.x64 = standardised(data.x_train)
        self.y = np.array(data.y_train, dtype=np.int64)                # writable
        if engine == "torch":
            import torch
            torch.set_num_threads(threads)

    def setup(self, name: str) -> None:
        from dlexp.nn.model import MLP, ModelSpec
        from dlexp.train.runner import streams
        p = self.p = POINTS[name]
        self.rng = streams(0).order
        spec = ModelSpec(hidden=p.hidden, batchnorm=p.batchnorm, dropout=p.dropout)
        s = streams(0)
        self.model = MLP(spec, 784, 10, s.init, np.dtype(p.dtype), dropout_rng=s.dropout)
        self.x = self.x64.astype(p.dtype)
        if self.engine == "torch":
            self._torch_setup()
        else:
            from dlexp.optim import build_optimizer
            self.opt = build_optimizer(p.optimizer, p.lr)

    def run(self, steps: int) -> tuple[float, float]:
        """(CPU seconds, wall seconds) for ``steps`` training steps."""
        from threadpoolctl import threadpool_limits
        with threadpool_limits(1, user_api="blas"):
            cpu, wall = time.process_time(), time.perf_counter()
            self._torch_steps(steps) if self.engine == "torch" else self._dlexp_steps(steps)
            return time.process_time() - cpu, time.perf_counter() - wall

    def _dlexp_steps(self, steps: int) -> None:
        from dlexp.train.loop import fit
        fit(self.model, self.opt, lambda t: self.p.lr, self.x, self.y, self.x[:0], self.y[:0],
            rng=self.rng, batch_size=self.p.batch, iterations=steps, train_eval="running")

    def _torch_setup(self) -> None:
        import torch
        p, state = self.p, self.model.state()
        dt = getattr(torch, p.dtype)
        mods: list = []
        n = len(p.hidden) + 1
        for i in range(1, n + 1):
            W = state[f"W{i}"]
            lin = torch.nn.Linear(*W.shape, dtype=dt)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
                lin.bias.zero_()
            mods.append(lin)
            if i < n:
                mods += [torch.nn.BatchNorm1d(W.shape[1], dtype=dt)] if p.batchnorm else []
                mods.append(torch.nn.ReLU())
                mods += [torch.nn.Dropout(p.dropout)] if p.dropout else []
        self.net = torch.nn.Sequential(*mods)
        opt = torch.optim.SGD if p.optimizer == "sgd" else torch.optim.Adam
        self.opt = opt(self.net.parameters(), lr=p.lr)
        self.tx, self.ty = torch.from_numpy(self.x), torch.from_numpy(self.y)

    def _torch_steps(self, steps: int) -> None:
        import torch
        import torch.nn.functional as F
        self.net.train()
        n, b = self.tx.shape[0], self.p.batch
        perm = torch.from_numpy(self.rng.permutation(n))
        total, correct = 0.0, 0
        for k in range(steps):
            start = (k * b) % n
            idx = perm[start:start + b]
            xb, yb = self.tx.index_select(0, idx), self.ty.index_select(0, idx)
            out = self.net(xb)
            loss = F.cross_entropy(out, yb)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            total += loss.item()
            correct += int((out.argmax(1) == yb).sum())


def sweep(names: list[str], rounds: int, gflop: float, log) -> dict:
    from benchmarks.workers import Worker
    workers = {"dlexp": Worker("sweep_dlexp", 1), "pytorch": Worker("sweep_torch", 1)}
    out: dict = {"blas": {k: w.call("blas_info") for k, w in workers.items()}, "points": {}}
    try:
        for name in names:
            p = POINTS[name]
            steps = steps_per_round(p, gflop * (0.5 if p.dtype == "float64" else 1.0))
            for w in workers.values():
                w.call("setup", name)
                w.call("run", steps)                          # warm-up, untimed
            times: dict[str, list] = {"dlexp": [], "pytorch": []}      # (cpu, wall) a round
            for r in range(rounds):
                for k in (["dlexp", "pytorch"] if r % 2 == 0 else ["pytorch", "dlexp"]):
                    times[k].append(workers[k].call("run", steps))
            res = out["points"][name] = {"point": asdict(p), "steps": steps, "seconds": times}
            for i, clock in enumerate(("cpu", "wall")):
                ratios = [a[i] / b[i] for a, b in zip(times["dlexp"], times["pytorch"])]
                res[clock] = {"median": statistics.median(ratios), "min": min(ratios),
                              "max": max(ratios),
                              "dlexp": statistics.median(t[i] for t in times["dlexp"]),
                              "pytorch": statistics.median(t[i] for t in times["pytorch"])}
            c = res["cpu"]
            log(f"{name}: dlexp/PyTorch CPU {c['median']:.3f} ({c['min']:.3f}–{c['max']:.3f}), "
                f"wall {res['wall']['median']:.3f}, {steps} steps a round")
    finally:
        for w in workers.values():
            w.close()
    return out


def markdown(data: dict) -> str:
    lines = [f"Sweep {data['started']} on {data['machine']}; `{data['command']}`", "",
             "| point | steps a round | dlexp CPU s | PyTorch CPU s | dlexp / PyTorch, CPU "
             "(median, range) | wall (median) |", "| --- | --- | --- | --- | --- | --- |"]
    for name, r in data["points"].items():
        c = r["cpu"]
        lines.append(f"| {name} | {r['steps']} | {c['dlexp']:.3f} | {c['pytorch']:.3f} | "
                     f"**{c['median']:.2f}** ({c['min']:.2f}–{c['max']:.2f}) | "
                     f"{r['wall']['median']:.2f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    a = argparse.ArgumentParser(prog="python -m benchmarks.sweep", description=__doc__.split(
        "\n\n")[0])
    a.add_argument("--points", nargs="+", default=list(POINTS), choices=list(POINTS))
    a.add_argument("--rounds", type=int, default=9)
    a.add_argument("--gflop", type=float, default=15.0, help="matrix work of one round")
    a.add_argument("--out", type=Path, default=RESULTS)
    args = a.parse_args(argv)
    from benchmarks import machine
    started = dt.datetime.now(dt.timezone.utc)
    log = lambda m: print(m, file=sys.stderr, flush=True)          # noqa: E731
    data = {"started": started.strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{machine.cpu_model()}, {machine.describe()['cores']} cores",
            "command": "python -m benchmarks.sweep " + " ".join(argv or sys.argv[1:]),
            **sweep(args.points, args.rounds, args.gflop, log)}
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"sweep_{started.strftime('%Y-%m-%d_%H%M')}.json"
    path.write_text(json.dumps(data, indent=1))
    print(markdown(data))
    log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
