"""The four official MNIST files: their sizes and checksums, and checking a folder.

:data:`MNIST_FILES` maps each file name to its gzip byte size, MD5 and SHA-256 (the
official values) and decoded shape; :func:`verify_mnist` checks a folder against it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHUNK = 1 << 16


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


def new_md5() -> Any:
    try:
        return hashlib.md5(usedforsecurity=False)
    except TypeError:  # pragma: no cover - very old hashlib
        return hashlib.md5()


def _check_file(folder: Path, name: str, spec: MnistFile) -> FileCheck:
    path = folder / name
    if not path.is_file():
        return FileCheck(name, False, False, False, False, "missing")
    md5, sha = new_md5(), hashlib.sha256()
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK):
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
