"""MNIST data for dlexp: IDX files, locating/downloading/verifying, loading, splits.

Typical use::

    folder = locate_mnist(download=True)
    arrays = load_mnist(folder)                  # (60000, 784) float32 in [0, 1]
    splits = make_splits(arrays, val_size=0.1, train_size=None,
                         rng=np.random.default_rng(0))
"""

from __future__ import annotations

from dlexp.data.idx import read_idx, write_idx
from dlexp.data.mnist import (
    MIRRORS,
    MNIST_FILES,
    FileCheck,
    MnistArrays,
    MnistFile,
    cache_dir,
    download_mnist,
    load_mnist,
    locate_mnist,
    verify_mnist,
)
from dlexp.data.splits import Splits, make_splits

__all__ = [
    "MIRRORS",
    "MNIST_FILES",
    "FileCheck",
    "MnistArrays",
    "MnistFile",
    "Splits",
    "cache_dir",
    "download_mnist",
    "load_mnist",
    "locate_mnist",
    "make_splits",
    "read_idx",
    "verify_mnist",
    "write_idx",
]
