"""Downloading MNIST from public mirrors, verified before it is moved into place."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from http.client import HTTPException
from pathlib import Path
from typing import Any

from dlexp.data.files import CHUNK, MNIST_FILES, MnistFile, new_md5, verify_mnist
from dlexp.errors import DataError

MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

TIMEOUT_S = 30.0


def _offline_fix(dest: Path, names: Sequence[str]) -> str:
    """What to do without a network: the files, where they go, how to check them."""
    return (f"working offline? copy the four files ({', '.join(names)}) into the cache "
            f"folder {dest}, or into any folder and set DLEXP_DATA_DIR to it; "
            "then `dlexp data` checks them")


def _fetch(url: str, tmp: Path, spec: MnistFile, opener: Callable[..., Any],
           bar: Any, task: Any) -> str | None:
    """Stream ``url`` into ``tmp``; return None if it matches ``spec``, else the problem."""
    md5, sha, size = new_md5(), hashlib.sha256(), 0
    with opener(url, timeout=TIMEOUT_S) as response, open(tmp, "wb") as out:
        while chunk := response.read(CHUNK):
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
                    + _offline_fix(dest, list(MNIST_FILES)))
