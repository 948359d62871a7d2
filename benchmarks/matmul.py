"""The matrix products of one training step, alone: NumPy's BLAS against PyTorch's.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.matmul --width 2048

For a 784-W-W-10 net at batch B, the products a step makes (forward x·W, weight gradients
xᵀ·dout, input gradient dout·Wᵀ; none for the input layer), each timed in float32 with one
thread, the two libraries in turn, repeated; the median milliseconds and their ratio; then the plain SGD update over every weight.
This separates what the engine's code costs from what the BLAS library underneath costs.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def median_ms(fn, repeats: int) -> float:
    fn()                                                   # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1e3 * statistics.median(times)


def products(width: int, batch: int, rng: np.random.Generator) -> dict[str, tuple]:
    """name → (A, B) for the step's products A·B (transposes as views, as the engine does)."""
    a = lambda *shape: rng.standard_normal(shape, dtype=np.float32)  # noqa: E731
    x, h, d = a(batch, 784), a(batch, width), a(batch, width)          # (B, 784), (B, W)
    W1, W2 = a(784, width), a(width, width)
    return {"forward x·W1": (x, W1), "forward h·W2": (h, W2), "dW1 = xᵀ·dout": (x.T, d),
            "dW2 = hᵀ·dout": (h.T, d), "dx = dout·W2ᵀ": (d, W2.T)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--width", type=int, default=2048)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=21)
    args = ap.parse_args(argv)
    import torch
    from threadpoolctl import threadpool_info, threadpool_limits
    torch.set_num_threads(1)
    blas = next(i for i in threadpool_info() if i["user_api"] == "blas")
    print(f"NumPy {np.__version__} ({blas['internal_api']} {blas['version']}, "
          f"{blas.get('architecture')} kernel) against PyTorch {torch.__version__}; "
          f"784-{args.width}-{args.width}-10, batch {args.batch}, float32, one thread")
    print("| product | NumPy ms | PyTorch ms | NumPy / PyTorch |\n| --- | --- | --- | --- |")
    total = [0.0, 0.0]
    with threadpool_limits(1, user_api="blas"):
        for name, (A, B) in products(args.width, args.batch, np.random.default_rng(0)).items():
            out = np.empty((A.shape[0], B.shape[1]), dtype=np.float32)
            tA, tB = torch.from_numpy(A), torch.from_numpy(B)
            ms = (median_ms(lambda: np.matmul(A, B, out=out), args.repeats),
                  median_ms(lambda: torch.matmul(tA, tB), args.repeats))
            total = [total[0] + ms[0], total[1] + ms[1]]
            print(f"| {name} | {ms[0]:.2f} | {ms[1]:.2f} | {ms[0] / ms[1]:.2f} |")
    print(f"| all five | {total[0]:.2f} | {total[1]:.2f} | **{total[0] / total[1]:.2f}** |")
    ms = update_ms(784 * args.width + args.width * args.width + args.width * 10, args.repeats)
    print(f"| SGD update, every weight | {ms[0]:.2f} | {ms[1]:.2f} | {ms[0] / ms[1]:.2f} |")
    return 0


def update_ms(n: int, repeats: int) -> tuple[float, float]:
    """p ← p − η g over n float32 numbers: NumPy in two passes (u = −η g, then p += u, as
    an optimiser chain and apply_updates do) against PyTorch's one fused ``add_``."""
    import torch
    rng = np.random.default_rng(0)
    p, g = rng.standard_normal(n, dtype=np.float32), rng.standard_normal(n, dtype=np.float32)
    u, tp, tg = np.empty_like(g), torch.from_numpy(p.copy()), torch.from_numpy(g)
    two_passes = lambda: np.add(p, np.multiply(g, -1e-3, out=u), out=p)  # noqa: E731
    return median_ms(two_passes, repeats), median_ms(lambda: tp.add_(tg, alpha=-1e-3), repeats)


if __name__ == "__main__":
    raise SystemExit(main())
