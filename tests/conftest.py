"""Shared pytest fixtures and helpers for dlexp's tests.

Other modules' fixtures may be added below; each block is self-contained.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

# --- data: tiny MNIST-shaped IDX files ------------------------------------------------

TINY_MNIST_NAMES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}


def _tiny_images_labels(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` 28x28 uint8 images whose class is learnable, and balanced labels 0..9."""
    labels = rng.permutation(np.arange(n) % 10).astype(np.uint8)          # (n,)
    images = rng.integers(0, 64, size=(n, 28, 28), dtype=np.uint8)        # (n, 28, 28) noise
    for i, label in enumerate(labels):
        row = 4 + 2 * int(label)
        images[i, row:row + 2, 4:24] = 255                                 # class-coded bar
    return images, labels


def write_tiny_mnist(folder: Path, n_train: int = 200, n_test: int = 50, seed: int = 0) -> Path:
    """Write four tiny MNIST-named IDX .gz files into ``folder`` and return it.

    Deterministic for a seed; labels are balanced over 0..9 (all classes present
    when n >= 10) and each image carries a bright bar at a label-dependent row over
    noise, so small models can learn it.
    """
    from dlexp.data.idx import write_idx

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    x_train, y_train = _tiny_images_labels(rng, n_train)
    x_test, y_test = _tiny_images_labels(rng, n_test)
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    for key, name in TINY_MNIST_NAMES.items():
        write_idx(folder / name, arrays[key])
    return folder


@pytest.fixture
def tiny_mnist(tmp_path: Path) -> Path:
    """A folder holding tiny MNIST files: 200 train and 50 test images (seed 0)."""
    return write_tiny_mnist(tmp_path / "tiny_mnist")
