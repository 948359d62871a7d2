"""What every implementation shares: the workloads, the data, the initial weights, the
batch order, and the arithmetic each workload costs.

Workloads (batch 100, He-normal initialisation, float32 unless stated):

    sgd     784-100-100-100-100-10 ReLU, SGD (η = 0.01), one epoch of 60,000 images
    bn_adam the same with batch norm after every hidden affine layer, Adam (η = 0.001)
    trial   the book's search trial: the first 500 images (400 train / 100 validation),
            784-100×6-10, SGD (η = 0.01) with L2 λ = 1e-6, 50 epochs, train and
            validation accuracy evaluated after every epoch
    eval    loss and accuracy of the trained ``sgd`` network on the 10,000 test images

Matrix-product work of one training step on a batch of B rows, with layer widths d₀…d_L:
forward 2B Σ dᵢdᵢ₊₁, weight gradients 2B Σ dᵢdᵢ₊₁, input gradients 2B Σ_{i≥1} dᵢdᵢ₊₁
(the input layer needs none). GFLOP/s figures below count exactly this work.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

SEED = 0
BATCH = 100
EVAL_CHUNK = 2000


@dataclass(frozen=True)
class Workload:
    name: str
    hidden: tuple[int, ...]
    batchnorm: bool
    optimizer: str            # "sgd" or "adam"
    lr: float
    l2: float = 0.0
    epochs: int = 1


WORKLOADS = {
    "sgd": Workload("sgd", (100,) * 4, False, "sgd", 0.01),
    "bn_adam": Workload("bn_adam", (100,) * 4, True, "adam", 0.001),
    "trial": Workload("trial", (100,) * 6, False, "sgd", 0.01, l2=1e-6, epochs=50),
}


def sizes(w: Workload) -> list[int]:
    return [784, *w.hidden, 10]


def step_flops(w: Workload, batch: int = BATCH) -> int:
    """Matrix-product floating-point operations of one training step."""
    d = sizes(w)
    prods = [a * b for a, b in zip(d[:-1], d[1:])]
    return 2 * batch * (2 * sum(prods) + sum(prods[1:]))


def forward_flops(w: Workload, n: int) -> int:
    """Matrix-product operations of an inference pass over ``n`` images."""
    d = sizes(w)
    return 2 * n * sum(a * b for a, b in zip(d[:-1], d[1:]))


def epoch_flops(w: Workload, n_train: int) -> int:
    full, rest = divmod(n_train, BATCH)
    return full * step_flops(w) + (step_flops(w, rest) if rest else 0)


@dataclass(frozen=True)
class Data:
    x_train: np.ndarray   # (60000, 784) float32 in [0, 1]
    y_train: np.ndarray   # (60000,) int64
    x_test: np.ndarray    # (10000, 784)
    y_test: np.ndarray
    trial: tuple          # (x_tr, y_tr, x_val, y_val): 400 + 100 of the first 500 images


def load_data() -> Data:
    """MNIST through dlexp's loader (``$DLEXP_DATA_DIR``), and the book trial's split."""
    from dlexp.data.mnist import load_mnist, locate_mnist
    from dlexp.data.splits import make_splits
    from dlexp.train.runner import streams
    a = load_mnist(locate_mnist(download=False, progress=False))
    s = make_splits(a, val_size=0.2, train_size=500, rng=streams(SEED).split)
    return Data(a.x_train, a.y_train, a.x_test, a.y_test,
                (s.x_train, s.y_train, s.x_val, s.y_val))


def dlexp_layout(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
                 y_test: np.ndarray):
    """The arrays as ``dlexp train`` holds them: a :class:`~dlexp.data.Splits`."""
    from dlexp.data.mnist import MnistArrays
    from dlexp.data.splits import make_splits
    return make_splits(MnistArrays(x_train, y_train, x_test, y_test), val_size=0,
                       train_size=None, rng=np.random.default_rng(0))


def initial_weights(w: Workload, seed: int = SEED, dtype=np.float32) -> dict[str, np.ndarray]:
    """The He-normal weights (zero biases, unit γ) dlexp draws for ``seed`` in ``dtype``."""
    from dlexp.nn.model import MLP, ModelSpec
    from dlexp.train.runner import streams
    spec = ModelSpec(hidden=w.hidden, batchnorm=w.batchnorm)
    model = MLP(spec, 784, 10, streams(seed).init, dtype)
    return {k: v for k, v in model.state().items() if not k.startswith("running")}


def order_rng(seed: int = SEED) -> np.random.Generator:
    """The batch-order stream dlexp's ``fit`` draws one permutation per epoch from."""
    from dlexp.train.runner import streams
    return streams(seed).order


@contextmanager
def timed(out: dict):
    """Fill ``out`` with the wall ``seconds`` and process ``cpu_seconds`` of the block
    (CPU time counts every thread of the process, spin-waiting included)."""
    wall, cpu = time.perf_counter(), time.process_time()
    yield out
    out["seconds"] = time.perf_counter() - wall
    out["cpu_seconds"] = time.process_time() - cpu
