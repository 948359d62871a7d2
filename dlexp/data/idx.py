"""Read and write IDX files, the simple binary format MNIST is distributed in.

An IDX file is a 4-byte magic number -- two zero bytes, a type code and the number
of dimensions -- then one big-endian uint32 per dimension, then the values in C
order. Only type code 0x08 (unsigned byte) is supported, which is all MNIST uses.
Files whose name ends in ``.gz`` are gzip-compressed.

:func:`read_idx` never lets a NumPy, gzip, zlib or OS error escape for a bad file:
every problem becomes a one-line :class:`~dlexp.errors.DataError` naming the file.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from dlexp.errors import DataError
from dlexp.io import atomic_write_bytes

__all__ = ["read_idx", "write_idx"]

UBYTE_CODE = 0x08
MAX_NDIM = 4
_CHUNK = 1 << 20  # bytes read per call while filling the payload
# Deflate cannot compress better than about 1032:1, so a .gz file of S bytes cannot
# hold more than this many times S bytes; a header claiming more is corrupt and is
# refused before any memory is allocated for it.
_MAX_GZIP_RATIO = 1100
# The largest IDX file dlexp reads is MNIST's training images, 60000 × 28 × 28 values; a
# header declaring more is refused before anything is decompressed or allocated.
MAX_VALUES = 60000 * 28 * 28
_FIX = ("replace it with a good copy, or delete it, unset DLEXP_DATA_DIR and run "
        "`dlexp data --download`")


def _fail(path: Path, problem: str) -> DataError:
    return DataError(f"{path}: {problem}; {_FIX}")


def _is_gz(path: Path) -> bool:
    return path.name.endswith(".gz")


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    """Read up to ``n`` bytes, looping over short reads; fewer only at end of file."""
    parts: list[bytes] = []
    remaining = n
    while remaining > 0:
        part = stream.read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def _parse(path: Path, stream: BinaryIO, file_size: int, isize: int | None = None
           ) -> np.ndarray:
    """The array in an IDX ``stream``; ``isize``: the uncompressed size (mod 2³²) a gzip
    file's trailer states, checked against the header before the values are read."""
    magic = _read_exact(stream, 4)
    if len(magic) < 4:
        raise _fail(path, f"not an IDX file (only {len(magic)} bytes, no 4-byte magic number)")
    if magic[0] != 0 or magic[1] != 0:
        raise _fail(path, f"not an IDX file (magic number starts {magic[:2].hex()}, expected 0000)")
    if magic[2] != UBYTE_CODE:
        raise _fail(path, f"unsupported IDX type code 0x{magic[2]:02x} (only 0x08, unsigned byte)")
    ndim = magic[3]
    if not 1 <= ndim <= MAX_NDIM:
        raise _fail(path, f"IDX header declares {ndim} dimensions (expected 1 to {MAX_NDIM})")

    raw_dims = _read_exact(stream, 4 * ndim)
    if len(raw_dims) < 4 * ndim:
        raise _fail(path, f"truncated header (expected {4 * ndim} bytes of dimensions, "
                          f"got {len(raw_dims)})")
    shape = struct.unpack(f">{ndim}I", raw_dims)
    count = 1
    for d in shape:
        count *= d
    if count > MAX_VALUES:
        raise _fail(path, f"header declares shape {shape} = {count:,} values, more than the "
                          f"{MAX_VALUES:,} of the largest MNIST file")
    if isize is not None and isize != (4 + 4 * ndim + count) % 2 ** 32:
        raise _fail(path, f"truncated or corrupt (header declares shape {shape} = {count:,} "
                          f"values, the gzip trailer says the file holds {isize:,} bytes)")
    limit = file_size * _MAX_GZIP_RATIO if _is_gz(path) else file_size - 4 - 4 * ndim
    if count > limit:
        raise _fail(path, f"truncated (header declares shape {shape} = {count} bytes "
                          f"of values, the file cannot hold more than {limit})")

    values = np.empty(count, dtype=np.uint8)  # (count,)
    view = memoryview(values)
    got = 0
    try:
        while got < count:
            n = stream.readinto(view[got:got + _CHUNK])
            if not n:
                break
            got += n
    except EOFError:  # gzip stream cut short: report how far it got
        pass
    if got < count:
        raise _fail(path, f"truncated (expected {count} bytes of values for shape {shape}, "
                          f"got {got})")
    if stream.read(1):
        raise _fail(path, f"trailing garbage after the {count} bytes of values for shape {shape}")
    return values.reshape(shape)


def _gzip_isize(raw: BinaryIO, file_size: int) -> int | None:
    """The last 4 bytes of a gzip file: its uncompressed size mod 2³² (None if too short)."""
    if file_size < 18:                       # smaller than any gzip member
        return None
    raw.seek(file_size - 4)
    isize = struct.unpack("<I", raw.read(4))[0]
    raw.seek(0)
    return isize


def read_idx(path: Path) -> np.ndarray:
    """Return the uint8 array stored in the IDX file ``path`` (gzip if named ``*.gz``).

    Raises :class:`DataError` naming the file if it is missing, unreadable, not
    valid gzip, has a bad magic number or type code, or if its payload is shorter
    or longer than the product of the declared dimensions.
    """
    path = Path(path)
    try:
        file_size = path.stat().st_size
        with open(path, "rb") as raw:
            if _is_gz(path):
                isize = _gzip_isize(raw, file_size)
                with gzip.GzipFile(fileobj=raw, mode="rb") as gz:
                    return _parse(path, gz, file_size, isize)  # type: ignore[arg-type]
            return _parse(path, raw, file_size)
    except DataError:
        raise
    except FileNotFoundError:
        raise DataError(f"{path}: file not found; run `dlexp data --download`, "
                        "or point DLEXP_DATA_DIR at a folder holding it") from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as err:
        raise _fail(path, f"corrupt or truncated gzip data ({err or type(err).__name__})") from None
    except (OSError, MemoryError, ValueError) as err:
        raise _fail(path, f"cannot be read ({type(err).__name__}: {err})") from None


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write the uint8 ``array`` (1 to 4 dims) to ``path`` as IDX, atomically.

    The file is gzip-compressed when its name ends in ``.gz`` (with a zero mtime, so
    the bytes depend only on the array). It is written to a temporary file in the
    same folder and moved into place with :func:`os.replace`, so readers never see
    a partial file (:func:`dlexp.io.atomic_write_bytes`). Raises ``ValueError`` for an array IDX/uint8 cannot hold.
    """
    path = Path(path)
    arr = np.asarray(array)
    if arr.dtype != np.uint8:
        raise ValueError(f"write_idx supports only uint8 arrays, got {arr.dtype}")
    if not 1 <= arr.ndim <= MAX_NDIM:
        raise ValueError(f"write_idx supports 1 to {MAX_NDIM} dimensions, got {arr.ndim}")
    if any(d > 0xFFFFFFFF for d in arr.shape):
        raise ValueError(f"dimension too large for IDX: {arr.shape}")
    header = bytes([0, 0, UBYTE_CODE, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    payload = np.ascontiguousarray(arr).tobytes()

    data = header + payload
    if _is_gz(path):
        data = gzip.compress(data, mtime=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, data)
