"""Tests for dlexp.data.idx: IDX round trips and every kind of bad file."""

from __future__ import annotations

import gzip
import struct
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlexp.data.idx import read_idx, write_idx
from dlexp.errors import DataError


def _idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def _expect_error(path: Path, *words: str) -> DataError:
    with pytest.raises(DataError) as info:
        read_idx(path)
    message = str(info.value)
    assert path.name in message and "\n" not in message
    for word in words:
        assert word in message
    return info.value


@pytest.mark.parametrize("name", ["a-idx3-ubyte.gz", "a-idx3-ubyte"])
@pytest.mark.parametrize("shape", [(7,), (5, 28, 28), (2, 3, 4, 5), (0, 28, 28)])
def test_round_trip(tmp_path: Path, name: str, shape: tuple[int, ...]) -> None:
    array = np.random.default_rng(1).integers(0, 256, size=shape, dtype=np.uint8)
    write_idx(tmp_path / name, array)
    back = read_idx(tmp_path / name)
    assert back.dtype == np.uint8 and back.shape == shape
    np.testing.assert_array_equal(back, array)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no temp file left


def test_gz_is_really_compressed_and_raw_is_not(tmp_path: Path) -> None:
    array = np.zeros((3, 4), dtype=np.uint8)
    write_idx(tmp_path / "x.gz", array)
    write_idx(tmp_path / "x", array)
    assert gzip.decompress((tmp_path / "x.gz").read_bytes()) == _idx_bytes(array)
    assert (tmp_path / "x").read_bytes() == _idx_bytes(array)


def test_write_rejects_non_uint8(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_idx(tmp_path / "x.gz", np.zeros(3, dtype=np.float32))


def test_wrong_magic(tmp_path: Path) -> None:
    path = tmp_path / "bad-magic-idx1-ubyte"
    path.write_bytes(b"\x01\x00" + _idx_bytes(np.zeros(3, np.uint8))[2:])
    _expect_error(path, "magic")


def test_wrong_type_code(tmp_path: Path) -> None:
    path = tmp_path / "float-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(_idx_bytes(np.zeros(4, np.uint8), type_code=0x0D)))
    _expect_error(path, "type code 0x0d")


@pytest.mark.parametrize("ndim", [0, 5])
def test_bad_ndim(tmp_path: Path, ndim: int) -> None:
    path = tmp_path / "ndim.gz"
    path.write_bytes(gzip.compress(bytes([0, 0, 8, ndim]) + b"\x00\x00\x00\x01" * ndim))
    _expect_error(path, "dimensions")


def test_truncated_gz(tmp_path: Path) -> None:
    array = np.random.default_rng(2).integers(0, 256, size=(20, 28, 28), dtype=np.uint8)
    good = tmp_path / "good.gz"
    write_idx(good, array)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    _expect_error(path, "truncated", "dlexp data --download")


def test_corrupt_gz(tmp_path: Path) -> None:
    path = tmp_path / "noise.gz"
    path.write_bytes(np.random.default_rng(3).integers(0, 256, 500, dtype=np.uint8).tobytes())
    _expect_error(path)


def test_corrupt_deflate_body(tmp_path: Path) -> None:
    blob = bytearray(gzip.compress(_idx_bytes(np.arange(200, dtype=np.uint8))))
    blob[15:25] = b"\xff" * 10  # damage the deflate stream after the gzip header
    path = tmp_path / "damaged.gz"
    path.write_bytes(bytes(blob))
    _expect_error(path)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_trailing_bytes(tmp_path: Path, suffix: str) -> None:
    data = _idx_bytes(np.zeros((2, 3), np.uint8)) + b"junk"
    path = tmp_path / f"trailing{suffix}"
    path.write_bytes(gzip.compress(data) if suffix else data)
    _expect_error(path, "trailing")


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_payload_shorter_than_dims(tmp_path: Path, suffix: str) -> None:
    data = _idx_bytes(np.zeros((4, 28, 28), np.uint8))[:-100]
    path = tmp_path / f"short{suffix}"
    path.write_bytes(gzip.compress(data) if suffix else data)
    _expect_error(path, "truncated")


def test_huge_declared_shape_is_refused_without_allocating(tmp_path: Path) -> None:
    path = tmp_path / "huge.gz"
    path.write_bytes(gzip.compress(bytes([0, 0, 8, 4]) + b"\xff\xff\xff\xff" * 4))
    _expect_error(path, "more than the 47,040,000 of the largest MNIST file")


def test_a_gzip_bomb_is_refused_before_it_is_decompressed(tmp_path: Path, monkeypatch) -> None:
    """A small .gz whose stream is far longer than its header says (here 10 MB of zeros
    behind a header of 10 images): its trailer gives it away before the values are
    decompressed or any memory is allocated for them."""
    import struct

    from dlexp.data import idx
    path = tmp_path / "bomb-idx3-ubyte.gz"
    header = bytes([0, 0, 8, 3]) + struct.pack(">3I", 10, 28, 28)
    path.write_bytes(gzip.compress(header + bytes(10 << 20)))
    assert path.stat().st_size < 20_000

    produced = []                               # bytes each decompress call gave
    real = idx.zlib.decompressobj

    class Counting:
        def __init__(self, *args, **kwargs):
            self.inner = real(*args, **kwargs)

        def decompress(self, data, max_length=0):
            out = self.inner.decompress(data, max_length)
            produced.append(len(out))
            return out

        def __getattr__(self, name):
            return getattr(self.inner, name)

    monkeypatch.setattr(idx.zlib, "decompressobj", Counting)
    _expect_error(path, "truncated or corrupt", "10,485,776 bytes")
    assert sum(produced) <= 20                  # the header alone was decompressed


def test_missing_file(tmp_path: Path) -> None:
    _expect_error(tmp_path / "nope-idx1-ubyte.gz", "not found")


def test_directory_instead_of_file(tmp_path: Path) -> None:
    (tmp_path / "dir.gz").mkdir()
    _expect_error(tmp_path / "dir.gz")


def _valid_idx(data: st.DataObject) -> bytes:
    shape = data.draw(st.lists(st.integers(0, 6), min_size=1, max_size=4))
    size = int(np.prod(shape))
    payload = data.draw(st.binary(min_size=size, max_size=size))
    return bytes([0, 0, 8, len(shape)]) + struct.pack(f">{len(shape)}I", *shape) + payload


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_random_bytes_only_ever_raise_data_error(data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(["noise", "gz-noise", "valid", "mutated"]))
    if kind == "noise":
        blob = data.draw(st.binary(max_size=300))
    elif kind == "gz-noise":
        blob = gzip.compress(data.draw(st.binary(max_size=300)))
    else:
        blob = _valid_idx(data)
        if kind == "mutated" and blob:
            pos = data.draw(st.integers(0, len(blob) - 1))
            cut = data.draw(st.booleans())
            blob = blob[:pos] if cut else blob[:pos] + bytes([blob[pos] ^ 0x5A]) + blob[pos + 1:]
    with tempfile.TemporaryDirectory() as tmp:
        for name, content in (("f.gz", gzip.compress(blob)), ("f", blob), ("g.gz", blob)):
            path = Path(tmp) / name
            path.write_bytes(content)
            try:
                array = read_idx(path)
            except DataError as err:
                assert name in str(err)
                continue
            # Returned an array: the decoded bytes must be a valid IDX file for it.
            decoded = gzip.decompress(content) if name.endswith(".gz") else content
            assert array.dtype == np.uint8
            assert decoded[:3] == b"\x00\x00\x08" and decoded[3] == array.ndim
            assert decoded == _idx_bytes(array)
