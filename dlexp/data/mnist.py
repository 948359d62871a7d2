"""Find, download, verify and load the four MNIST files.

The data folder is, in order: ``$DLEXP_DATA_DIR`` (which must then hold all four
files), the cache folder ``$XDG_CACHE_HOME/dlexp/mnist`` (``~/.cache/dlexp/mnist``)
if complete, or a fresh download into the cache. Downloads are checked against the
official sizes, MD5 and SHA-256 sums and moved into place atomically. Loading checks
structure (shapes, counts, label range), not checksums, so tiny test files work.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dlexp.data.download import MIRRORS, TIMEOUT_S, download_mnist
from dlexp.data.files import MNIST_FILES, FileCheck, MnistFile, verify_mnist
from dlexp.data.idx import read_idx
from dlexp.errors import ConfigError, DataError

__all__ = ["MnistFile", "MNIST_FILES", "MIRRORS", "TIMEOUT_S", "FileCheck", "MnistArrays",
           "cache_dir", "locate_mnist", "download_mnist", "verify_mnist", "load_mnist"]


_TRAIN_X, _TRAIN_Y = "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"
_TEST_X, _TEST_Y = "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"


@dataclass(frozen=True)
class MnistArrays:
    """MNIST as arrays: images flattened, as floats scaled to [0, 1] or as the raw uint8
    pixels 0…255 (``load_mnist(dtype=np.uint8)``, what ``load_splits`` splits); labels
    as int64."""

    x_train: np.ndarray  # (N, 784) float in [0, 1], or uint8
    y_train: np.ndarray  # (N,) int64 in 0..9
    x_test: np.ndarray   # (M, 784)
    y_test: np.ndarray   # (M,)


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/dlexp/mnist``, or ``~/.cache/dlexp/mnist`` when that is unset."""
    base = os.environ.get("XDG_CACHE_HOME") or ""
    root = Path(base).expanduser() if base else Path.home() / ".cache"
    return root / "dlexp" / "mnist"


def _missing(folder: Path, files: Mapping[str, MnistFile]) -> list[str]:
    return [name for name in files if not (folder / name).is_file()]


def locate_mnist(download: bool = True, progress: bool = True) -> Path:
    """Return the folder holding the four MNIST files (see the module docstring)."""
    env = os.environ.get("DLEXP_DATA_DIR") or ""
    if env:
        folder = Path(env).expanduser()
        if not folder.is_dir():
            raise DataError(f"DLEXP_DATA_DIR={env} is not a folder; point it at the folder "
                            "holding the four MNIST .gz files, or unset it")
        missing = _missing(folder, MNIST_FILES)
        if missing:
            raise DataError(f"DLEXP_DATA_DIR={env} is missing {', '.join(missing)}; copy those "
                            "files there, or unset DLEXP_DATA_DIR to use the download cache")
        return folder
    cache = cache_dir()
    if not _missing(cache, MNIST_FILES):
        return cache
    if download:
        return download_mnist(cache, progress=progress)
    raise DataError(f"MNIST not found: set DLEXP_DATA_DIR to a folder holding the four files "
                    f"({', '.join(MNIST_FILES)}), or put them in {cache}, "
                    "or allow downloading (`dlexp data --download`)")


_CACHE: dict[tuple[Any, ...], MnistArrays] = {}
_CACHE_MAX = 4


def _labels_and_images(folder: Path, xname: str, yname: str,
                       dt: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    images, labels = read_idx(folder / xname), read_idx(folder / yname)
    problem = ""
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        problem = f"{xname}: images have shape {images.shape}, expected (N, 28, 28)"
    elif labels.ndim != 1:
        problem = f"{yname}: labels have shape {labels.shape}, expected (N,)"
    elif images.shape[0] != labels.shape[0]:
        problem = f"{xname} has {images.shape[0]} images but {yname} has {labels.shape[0]} labels"
    elif labels.size and int(labels.max()) > 9:
        problem = f"{yname}: label {int(labels.max())} is outside 0..9"
    if problem:
        raise DataError(f"{folder}/{problem}; replace the files with good copies "
                        "(`dlexp data --download`, or point DLEXP_DATA_DIR at them)")
    x = images.reshape(images.shape[0], 28 * 28)  # (N, 784)
    if dt != np.uint8:
        x = x.astype(dt)
        x /= dt.type(255)  # in place, stays in dt (no float64 intermediate)
    return x, labels.astype(np.int64)  # (N, 784), (N,)


def load_mnist(folder: Path, dtype: Any = np.float32) -> MnistArrays:
    """Load the four files in ``folder`` as :class:`MnistArrays` (arrays read-only).

    Pixels are scaled to [0, 1] in ``dtype``; ``dtype=np.uint8`` gives the raw 0..255
    pixels instead (a quarter of the memory; see ``make_splits(..., dtype=)``).
    Memoised per process on (resolved folder, file mtimes and sizes, dtype): a
    second call returns the same object, so the arrays are made read-only.
    """
    dt = np.dtype(dtype)
    if dt.kind != "f" and dt != np.uint8:
        raise ConfigError(f"load_mnist needs a floating dtype (or uint8 for raw pixels), "
                          f"got {dt}")
    folder = Path(folder)
    missing = _missing(folder, MNIST_FILES)
    if missing:
        raise DataError(f"{folder} is missing {', '.join(missing)}; run `dlexp data "
                        "--download`, or point DLEXP_DATA_DIR at a folder holding them")
    try:
        stats = tuple((n, (folder / n).stat().st_mtime_ns, (folder / n).stat().st_size)
                      for n in MNIST_FILES)
        key = (str(folder.resolve()), stats, dt.str)
    except OSError as err:
        raise DataError(f"{folder}: cannot read the MNIST files ({err})") from None
    if key in _CACHE:
        return _CACHE[key]
    x_train, y_train = _labels_and_images(folder, _TRAIN_X, _TRAIN_Y, dt)
    x_test, y_test = _labels_and_images(folder, _TEST_X, _TEST_Y, dt)
    for arr in (x_train, y_train, x_test, y_test):
        arr.flags.writeable = False
    arrays = MnistArrays(x_train, y_train, x_test, y_test)
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = arrays
    return arrays
