"""IDX files, MNIST's format: two zero bytes, the type code 0x08 (unsigned byte), the
number of dimensions, a big-endian uint32 per dimension, the values in C order; ``.gz``
files are gzip-compressed. A problem with a file is a one-line DataError naming it.
"""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np

from dlexp.errors import DataError
from dlexp.io import atomic_write_bytes

MAX_NDIM = 4
HEADER_MAX = 4 + 4 * MAX_NDIM
MAX_VALUES = 60000 * 28 * 28      # MNIST's training images, the largest file dlexp reads
_FIX = ("replace it with a good copy, or delete it, unset DLEXP_DATA_DIR and run "
        "`dlexp data --download`")


def _fail(path: Path, problem: str) -> DataError:
    return DataError(f"{path}: {problem}; {_FIX}")


def _header(path: Path, head: bytes) -> tuple[tuple[int, ...], int]:
    """(shape, offset of the values) from an IDX file's first bytes."""
    if len(head) < 4 or head[:2] != b"\0\0":
        raise _fail(path, f"not an IDX file (magic number {head[:4].hex() or 'missing'}, "
                          "expected 0000 08 ndim)")
    if head[2] != 0x08:
        raise _fail(path, f"unsupported IDX type code 0x{head[2]:02x} (only 0x08, unsigned byte)")
    ndim, start = head[3], 4 + 4 * head[3]
    if not 1 <= ndim <= MAX_NDIM:
        raise _fail(path, f"IDX header declares {ndim} dimensions (expected 1 to {MAX_NDIM})")
    if len(head) < start:
        raise _fail(path, f"truncated header ({len(head)} bytes, expected {start})")
    shape = struct.unpack(f">{ndim}I", head[4:start])
    if math.prod(shape) > MAX_VALUES:
        raise _fail(path, f"header declares shape {shape} = {math.prod(shape):,} values, more "
                          f"than the {MAX_VALUES:,} of the largest MNIST file")
    return shape, start


def _gunzip(path: Path, blob: bytes) -> bytes:
    """The IDX bytes in gzip ``blob``, decompressed only once the trailer (the size mod
    2³²) agrees with the header, so a gzip bomb is refused first."""
    unzip = zlib.decompressobj(wbits=31)           # gzip; checks CRC-32 and size at the end
    head = unzip.decompress(blob, HEADER_MAX)
    shape, start = _header(path, head)
    end = start + math.prod(shape)
    isize = int.from_bytes(blob[-4:], "little")
    if len(blob) >= 18 and isize != end % 2 ** 32:
        raise _fail(path, f"truncated or corrupt (header declares shape {shape} = "
                          f"{end - start:,} values, the gzip trailer says the file holds "
                          f"{isize:,} bytes)")
    data = head + unzip.decompress(unzip.unconsumed_tail, max(end + 1 - len(head), 1))
    if len(data) == end and not unzip.eof:
        raise _fail(path, "truncated gzip data (no end of stream)")
    if unzip.unused_data:
        raise _fail(path, "trailing garbage after the gzip data")
    return data


def read_idx(path: Path) -> np.ndarray:
    """The uint8 array in the IDX file ``path`` (gzip if named ``*.gz``)."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            data = f.read(HEADER_MAX + MAX_VALUES + 1)
        if path.name.endswith(".gz"):
            data = _gunzip(path, data)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found; run `dlexp data --download`, "
                        "or point DLEXP_DATA_DIR at a folder holding it") from None
    except zlib.error as err:
        raise _fail(path, f"corrupt or truncated gzip data ({err})") from None
    except (OSError, MemoryError) as err:
        raise _fail(path, f"cannot be read ({type(err).__name__}: {err})") from None
    shape, start = _header(path, data)
    if len(data) - start != math.prod(shape):
        what = "truncated" if len(data) - start < math.prod(shape) else "trailing garbage:"
        raise _fail(path, f"{what} {len(data) - start} bytes of values where shape {shape} "
                          f"needs {math.prod(shape)}")
    return np.frombuffer(data, np.uint8, offset=start).reshape(shape)


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write the uint8 ``array`` to ``path`` as IDX, atomically; gzip (zero mtime: the
    bytes depend on the array alone) when the name ends in ``.gz``."""
    arr = np.asarray(array)
    if arr.dtype != np.uint8 or not 1 <= arr.ndim <= MAX_NDIM:
        raise ValueError(f"write_idx takes uint8 arrays of 1 to {MAX_NDIM} dimensions, "
                         f"got {arr.dtype} with {arr.ndim}")
    data = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    data += np.ascontiguousarray(arr).tobytes()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, gzip.compress(data, mtime=0) if path.name.endswith(".gz") else data)
