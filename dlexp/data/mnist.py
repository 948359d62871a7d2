"""Find, download, verify and load the four MNIST files.

The data folder is, in order: ``$DLEXP_DATA_DIR`` (which must then hold all four
files), the cache folder ``$XDG_CACHE_HOME/dlexp/mnist`` (``~/.cache/dlexp/mnist``)
if complete, or a fresh download into the cache. Downloads are checked against the
official sizes, MD5 and SHA-256 sums and moved into place atomically. Loading checks
structure (shapes, counts, label range), not checksums, so tiny test files work.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path
from typing import Any

import numpy as np

from dlexp.data.idx import read_idx
from dlexp.errors import ConfigError, DataError

__all__ = ["MnistFile", "MNIST_FILES", "MIRRORS", "FileCheck", "MnistArrays", "cache_dir",
           "locate_mnist", "download_mnist", "verify_mnist", "load_mnist"]


@dataclass(frozen=True)
class MnistFile:
    """What one official MNIST .gz file must be: byte size, sums, and decoded shape."""

    size: int
    md5: str
    sha256: str
    shape: tuple[int, ...]


MNIST_FILES: dict[str, MnistFile] = {
    "train-images-idx3-ubyte.gz": MnistFile(
        9912422, "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", (60000, 28, 28)),
    "train-labels-idx1-ubyte.gz": MnistFile(
        28881, "d53e105ee54ea40749a09fcbcd1e9432",
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", (60000,)),
    "t10k-images-idx3-ubyte.gz": MnistFile(
        1648877, "9fb629c4189551a2d022fa330f9573f3",
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", (10000, 28, 28)),
    "t10k-labels-idx1-ubyte.gz": MnistFile(
        4542, "ec29112dd5afa0611ce80d1b7f02629c",
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", (10000,)),
}

MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

TIMEOUT_S = 30.0
_CHUNK = 1 << 16
_TRAIN_X, _TRAIN_Y = "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"
_TEST_X, _TEST_Y = "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"
_OFFLINE_FIX = ("you are offline? download the four files elsewhere and set DLEXP_DATA_DIR "
                "to their folder")


@dataclass(frozen=True)
class FileCheck:
    """The result of checking one MNIST file in a folder against the file table."""

    name: str
    present: bool
    size_ok: bool
    md5_ok: bool
    sha256_ok: bool
    message: str

    @property
    def ok(self) -> bool:
        return self.present and self.size_ok and self.md5_ok and self.sha256_ok


@dataclass(frozen=True)
class MnistArrays:
    """MNIST as arrays: images flattened and scaled to [0, 1], labels as int64."""

    x_train: np.ndarray  # (N, 784) float in [0, 1]
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
            raise DataError(f"DLEXP_DATA_DIR={env} is missing {', '.join(missing)}; copy them "
                            "there, or unset DLEXP_DATA_DIR to use the download cache")
        return folder
    cache = cache_dir()
    if not _missing(cache, MNIST_FILES):
        return cache
    if download:
        return download_mnist(cache, progress=progress)
    raise DataError(f"MNIST not found: set DLEXP_DATA_DIR to a folder holding the four files "
                    f"({', '.join(MNIST_FILES)}), or put them in {cache}, "
                    "or allow downloading (`dlexp data --download`)")


def _new_md5() -> Any:
    try:
        return hashlib.md5(usedforsecurity=False)
    except TypeError:  # pragma: no cover - very old hashlib
        return hashlib.md5()


def _check_file(folder: Path, name: str, spec: MnistFile) -> FileCheck:
    path = folder / name
    if not path.is_file():
        return FileCheck(name, False, False, False, False, "missing")
    md5, sha = _new_md5(), hashlib.sha256()
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                md5.update(chunk)
                sha.update(chunk)
    except OSError as err:
        return FileCheck(name, True, False, False, False, f"unreadable: {err}")
    size_ok, md5_ok = size == spec.size, md5.hexdigest() == spec.md5
    sha_ok = sha.hexdigest() == spec.sha256
    problems = ([] if size_ok else [f"size {size} bytes, expected {spec.size}"]) + \
        ([] if md5_ok else ["MD5 mismatch"]) + ([] if sha_ok else ["SHA-256 mismatch"])
    return FileCheck(name, True, size_ok, md5_ok, sha_ok, "; ".join(problems) or "OK")


def verify_mnist(folder: Path, files: Mapping[str, MnistFile] | None = None) -> list[FileCheck]:
    """Check each file of the table (default :data:`MNIST_FILES`) in ``folder``."""
    table = MNIST_FILES if files is None else files
    return [_check_file(Path(folder), name, spec) for name, spec in table.items()]


def _fetch(url: str, tmp: Path, spec: MnistFile, opener: Callable[..., Any],
           bar: Any, task: Any) -> str | None:
    """Stream ``url`` into ``tmp``; return None if it matches ``spec``, else the problem."""
    md5, sha, size = _new_md5(), hashlib.sha256(), 0
    with opener(url, timeout=TIMEOUT_S) as response, open(tmp, "wb") as out:
        while chunk := response.read(_CHUNK):
            size += len(chunk)
            if size > spec.size:
                return f"{url} sent more than the expected {spec.size} bytes"
            md5.update(chunk)
            sha.update(chunk)
            out.write(chunk)
            if bar is not None:
                bar.update(task, advance=len(chunk))
    if size != spec.size:
        return f"{url} sent {size} bytes, expected {spec.size}"
    if md5.hexdigest() != spec.md5 or sha.hexdigest() != spec.sha256:
        return f"checksum mismatch (MD5/SHA-256) for {url}"
    return None


def download_mnist(dest: Path, progress: bool = True, mirrors: Sequence[str] = MIRRORS,
                   opener: Callable[..., Any] = urllib.request.urlopen,
                   files: Mapping[str, MnistFile] | None = None) -> Path:
    """Download each missing or bad file of the table into ``dest``; return ``dest``.

    Mirrors are tried in order; each download streams into a temporary file in
    ``dest``, is checked for size, MD5 and SHA-256, and only then replaces the final
    name. ``opener(url, timeout=...)`` must return a context manager with ``read(n)``
    (``urlopen`` by default; tests pass a fake). ``files`` defaults to MNIST_FILES.
    """
    table = MNIST_FILES if files is None else files
    dest = Path(dest)
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataError(f"cannot create the data folder {dest} ({err}); set DLEXP_DATA_DIR "
                        "to a folder holding the four MNIST files") from None
    todo = [c.name for c in verify_mnist(dest, table) if not c.ok]
    if not todo:
        return dest

    with _progress_bar() if progress else contextlib.nullcontext() as bar:
        for name in todo:
            _download_one(dest, name, table[name], mirrors, opener, bar)
    return dest


def _progress_bar() -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
    return Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                    TransferSpeedColumn(), console=Console(stderr=True))


def _download_one(dest: Path, name: str, spec: MnistFile, mirrors: Sequence[str],
                  opener: Callable[..., Any], bar: Any) -> None:
    last_error = "no mirrors configured"
    for base in mirrors:
        url = base.rstrip("/") + "/" + name
        task = bar.add_task(name, total=spec.size) if bar is not None else None
        tmp: Path | None = None
        try:
            fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=dest)
            os.close(fd)
            tmp = Path(tmp_name)
            problem = _fetch(url, tmp, spec, opener, bar, task)
            if problem is None:
                os.replace(tmp, dest / name)
                task = None  # keep the finished bar on screen
                return
            last_error = problem
        except (OSError, HTTPException, ValueError) as err:  # URLError is an OSError
            last_error = f"{url}: {type(err).__name__}: {err}"
        finally:
            if task is not None:  # a failed attempt: drop its bar
                bar.remove_task(task)
            if tmp is not None:
                tmp.unlink(missing_ok=True)
    raise DataError(f"could not download {name} from any mirror (last error: {last_error}); "
                    + _OFFLINE_FIX)


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
