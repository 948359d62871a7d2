"""Find, download, verify and load the four MNIST files.

The data folder is ``$DLEXP_DATA_DIR`` (holding all four files), else the cache
``$XDG_CACHE_HOME/dlexp/mnist`` (``~/.cache/dlexp/mnist``), downloaded into if need be and
checked against the official sizes, MD5 and SHA-256 sums. Loading checks structure
(shapes, counts, label range), not checksums, so tiny test files work.
"""

from __future__ import annotations

import functools
import hashlib
import os
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from http.client import HTTPException
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from dlexp.data.idx import read_idx
from dlexp.errors import ConfigError, DataError
from dlexp.io import atomic_write_bytes

MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
           "https://storage.googleapis.com/cvdf-datasets/mnist/")
TIMEOUT_S = 30.0


class MnistFile(NamedTuple):
    size: int
    md5: str
    sha256: str


MNIST_FILES: dict[str, MnistFile] = {
    "train-images-idx3-ubyte.gz": MnistFile(9912422, "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
    "train-labels-idx1-ubyte.gz": MnistFile(28881, "d53e105ee54ea40749a09fcbcd1e9432",
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
    "t10k-images-idx3-ubyte.gz": MnistFile(1648877, "9fb629c4189551a2d022fa330f9573f3",
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
    "t10k-labels-idx1-ubyte.gz": MnistFile(4542, "ec29112dd5afa0611ce80d1b7f02629c",
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
}
TRAIN_X, TRAIN_Y, TEST_X, TEST_Y = MNIST_FILES


class FileCheck(NamedTuple):
    name: str
    size: int | None              # bytes read; None: missing or unreadable
    present: bool
    size_ok: bool
    md5_ok: bool
    sha256_ok: bool

    @property
    def ok(self) -> bool:
        return self.present and self.size_ok and self.md5_ok and self.sha256_ok


def _check(name: str, blob: bytes, spec: MnistFile) -> FileCheck:
    return FileCheck(name, len(blob), True, len(blob) == spec.size,
                     hashlib.md5(blob, usedforsecurity=False).hexdigest() == spec.md5,
                     hashlib.sha256(blob).hexdigest() == spec.sha256)


def verify_mnist(folder: Path, files: Mapping[str, MnistFile] | None = None) -> list[FileCheck]:
    """Check each file of the table (default :data:`MNIST_FILES`) in ``folder``."""
    checks = []
    for name, spec in (files or MNIST_FILES).items():
        try:
            checks.append(_check(name, (Path(folder) / name).read_bytes(), spec))
        except FileNotFoundError:
            checks.append(FileCheck(name, None, False, False, False, False))
        except OSError:                                     # unreadable
            checks.append(FileCheck(name, None, True, False, False, False))
    return checks


def download_mnist(dest: Path, progress: bool = True, mirrors: Sequence[str] = MIRRORS,
                   opener: Callable[..., Any] = urllib.request.urlopen,
                   files: Mapping[str, MnistFile] | None = None) -> Path:
    """Download each missing or bad file of the table into ``dest``, from the first mirror
    that sends it right (size, MD5, SHA-256). ``opener(url, timeout=)`` returns a context
    manager with ``read(n)``."""
    table, dest = files or MNIST_FILES, Path(dest)
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataError(f"cannot create the data folder {dest} ({err}); set DLEXP_DATA_DIR "
                        "to a folder holding the four MNIST files") from None
    bar = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                   TransferSpeedColumn(), console=Console(stderr=True), disable=not progress)
    with bar:
        for check in verify_mnist(dest, table):
            if not check.ok:
                blob = _download(dest, check.name, table[check.name], mirrors, opener, bar)
                atomic_write_bytes(dest / check.name, blob)
    return dest


def _download(dest: Path, name: str, spec: MnistFile, mirrors: Sequence[str],
              opener: Callable[..., Any], bar: Progress) -> bytes:
    problem = "no mirrors configured"
    for base in mirrors:
        url = base.rstrip("/") + "/" + name
        task = bar.add_task(name, total=spec.size)
        blob = bytearray()
        try:
            with opener(url, timeout=TIMEOUT_S) as response:
                while len(blob) <= spec.size and (chunk := response.read(1 << 16)):
                    blob += chunk
                    bar.advance(task, len(chunk))
            check = _check(name, bytes(blob), spec)
            if check.ok:
                return bytes(blob)
            problem = (f"{url}: wrong size ({len(blob)} bytes read, expected {spec.size})"
                       if not check.size_ok else f"checksum mismatch (MD5/SHA-256) for {url}")
        except (OSError, HTTPException, ValueError) as err:  # URLError is an OSError
            problem = f"{url}: {type(err).__name__}: {err}"
        bar.remove_task(task)                  # a failed attempt: drop its bar
    raise DataError(f"could not download {name} from any mirror (last error: {problem}); "
                    f"working offline? copy the four files ({', '.join(MNIST_FILES)}) into "
                    f"the cache folder {dest}, or into any folder and set "
                    "DLEXP_DATA_DIR to it; then `dlexp data` checks them")


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/dlexp/mnist``, or ``~/.cache/dlexp/mnist`` when that is unset."""
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base).expanduser() if base else Path.home() / ".cache") / "dlexp" / "mnist"


def _missing(folder: Path) -> list[str]:
    return [name for name in MNIST_FILES if not (folder / name).is_file()]


def locate_mnist(download: bool = True, progress: bool = True) -> Path:
    """The folder holding the four MNIST files (module docstring)."""
    env = os.environ.get("DLEXP_DATA_DIR")
    if env:
        folder = Path(env).expanduser()
        if not folder.is_dir():
            raise DataError(f"DLEXP_DATA_DIR={env} is not a folder; point it at the folder "
                            "holding the four MNIST .gz files, or unset it")
        if missing := _missing(folder):
            raise DataError(f"DLEXP_DATA_DIR={env} is missing {', '.join(missing)}; copy those "
                            "files there, or unset DLEXP_DATA_DIR to use the download cache")
        return folder
    cache = cache_dir()
    if not _missing(cache):
        return cache
    if download:
        return download_mnist(cache, progress=progress)
    raise DataError(f"MNIST not found: set DLEXP_DATA_DIR to a folder holding the four files "
                    f"({', '.join(MNIST_FILES)}), or put them in {cache}, "
                    "or allow downloading (`dlexp data --download`)")


class MnistArrays(NamedTuple):
    x_train: np.ndarray  # (N, 784) float in [0, 1], or uint8
    y_train: np.ndarray  # (N,) int64 in 0..9
    x_test: np.ndarray   # (M, 784)
    y_test: np.ndarray   # (M,)


def _images_and_labels(folder: Path, xname: str, yname: str, dt: np.dtype
                       ) -> tuple[np.ndarray, np.ndarray]:
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
        x /= dt.type(255)                          # in place, stays in dt
    return x, labels.astype(np.int64)


@functools.lru_cache(maxsize=4)
def _load(folder: Path, dt: np.dtype, stamps: tuple) -> MnistArrays:
    # ``stamps`` (mtimes and sizes): a changed file is a new key of the cache
    arrays = MnistArrays(*_images_and_labels(folder, TRAIN_X, TRAIN_Y, dt),
                         *_images_and_labels(folder, TEST_X, TEST_Y, dt))
    for arr in arrays:
        arr.flags.writeable = False
    return arrays


def load_mnist(folder: Path, dtype: Any = np.float32) -> MnistArrays:
    """The four files in ``folder`` as read-only arrays, pixels scaled to [0, 1] in
    ``dtype`` (``np.uint8``: the raw pixels); memoised per process."""
    dt = np.dtype(dtype)
    if dt.kind != "f" and dt != np.uint8:
        raise ConfigError(f"load_mnist needs a floating dtype (or uint8 for raw pixels), "
                          f"got {dt}")
    folder = Path(folder)
    if missing := _missing(folder):
        raise DataError(f"{folder} is missing {', '.join(missing)}; run `dlexp data "
                        "--download`, or point DLEXP_DATA_DIR at a folder holding them")
    try:
        stats = [(folder / n).stat() for n in MNIST_FILES]
        folder = folder.resolve()
    except OSError as err:
        raise DataError(f"{folder}: cannot read the MNIST files ({err})") from None
    return _load(folder, dt, tuple((s.st_mtime_ns, s.st_size) for s in stats))
