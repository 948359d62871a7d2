"""Tests for dlexp.data.mnist: locating, downloading (with a fake opener), loading."""

from __future__ import annotations

import functools
import hashlib
import io
import os
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from conftest import write_tiny_mnist
from dlexp.data import mnist
from dlexp.data.idx import write_idx
from dlexp.data.mnist import (MNIST_FILES, MnistFile, cache_dir, download_mnist, load_mnist,
                              locate_mnist, verify_mnist)
from dlexp.errors import DataError

MIRROR_A = "https://mirror-a.invalid/mnist/"
MIRROR_B = "https://mirror-b.invalid/mnist"  # no trailing slash on purpose


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No DLEXP_DATA_DIR, and an empty private XDG cache; returns the cache root."""
    monkeypatch.delenv("DLEXP_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg"


def _table_for(folder: Path) -> dict[str, MnistFile]:
    """A file table whose sizes and sums are those of the files in ``folder``."""
    table = {}
    for name in MNIST_FILES:
        blob = (folder / name).read_bytes()
        table[name] = MnistFile(len(blob), hashlib.md5(blob).hexdigest(),
                                hashlib.sha256(blob).hexdigest())
    return table


class FakeOpener:
    """Serves ``{url: bytes}``; URLs in ``fail`` (or unknown) raise URLError."""

    def __init__(self, served: dict[str, bytes], fail: tuple[str, ...] = ()) -> None:
        self.served, self.fail, self.calls = served, fail, []

    def __call__(self, url: str, timeout: float | None = None) -> io.BytesIO:
        self.calls.append((url, timeout))
        if url.startswith(self.fail) or url not in self.served:
            raise urllib.error.URLError("no route to host")
        return io.BytesIO(self.served[url])


def _serve(source: Path, base: str) -> dict[str, bytes]:
    base = base.rstrip("/") + "/"
    return {base + name: (source / name).read_bytes() for name in MNIST_FILES}


# --- locating -------------------------------------------------------------------------

def test_cache_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "dlexp" / "mnist"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir() == Path.home() / ".cache" / "dlexp" / "mnist"


def test_locate_honours_env_dir(clean_env: Path, tiny_mnist: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLEXP_DATA_DIR", str(tiny_mnist))
    assert locate_mnist(download=False) == tiny_mnist


def test_locate_names_missing_files_in_env_dir(clean_env: Path, tiny_mnist: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    write_tiny_mnist(cache_dir())  # a complete cache must NOT be used as a fallback
    (tiny_mnist / "t10k-labels-idx1-ubyte.gz").unlink()
    monkeypatch.setenv("DLEXP_DATA_DIR", str(tiny_mnist))
    with pytest.raises(DataError, match="DLEXP_DATA_DIR.*t10k-labels-idx1-ubyte.gz"):
        locate_mnist(download=True)


def test_locate_env_dir_not_a_folder(clean_env: Path, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLEXP_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="not a folder"):
        locate_mnist(download=False)


def test_locate_falls_back_to_cache(clean_env: Path) -> None:
    write_tiny_mnist(clean_env / "dlexp" / "mnist")
    assert locate_mnist(download=False) == clean_env / "dlexp" / "mnist"


def test_locate_nothing_found_without_download(clean_env: Path) -> None:
    with pytest.raises(DataError) as info:
        locate_mnist(download=False)
    message = str(info.value)
    assert "DLEXP_DATA_DIR" in message and str(cache_dir()) in message
    assert "download" in message and "\n" not in message


def test_locate_downloads_into_cache(clean_env: Path, tiny_mnist: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    opener = FakeOpener(_serve(tiny_mnist, MIRROR_A))
    fake = functools.partial(download_mnist, mirrors=(MIRROR_A,), opener=opener,
                             files=_table_for(tiny_mnist))
    monkeypatch.setattr(mnist, "download_mnist", fake)
    assert locate_mnist(download=True, progress=False) == cache_dir()
    assert len(opener.calls) == 4
    assert all(c.ok for c in verify_mnist(cache_dir(), _table_for(tiny_mnist)))


# --- downloading ----------------------------------------------------------------------

@pytest.mark.parametrize("progress", [False, True])
def test_download_success_is_atomic(tiny_mnist: Path, tmp_path: Path, progress: bool) -> None:
    dest = tmp_path / "dest"
    opener = FakeOpener(_serve(tiny_mnist, MIRROR_A))
    table = _table_for(tiny_mnist)
    assert download_mnist(dest, progress=progress, mirrors=(MIRROR_A,), opener=opener,
                          files=table) == dest
    assert sorted(os.listdir(dest)) == sorted(MNIST_FILES)  # no temp files left behind
    assert all(c.ok for c in verify_mnist(dest, table))
    assert all(timeout == mnist.TIMEOUT_S for _, timeout in opener.calls)
    opener.calls.clear()
    download_mnist(dest, progress=False, mirrors=(MIRROR_A,), opener=opener, files=table)
    assert opener.calls == []  # everything already good: nothing fetched


def test_download_checksum_mismatch_leaves_nothing(tiny_mnist: Path, tmp_path: Path) -> None:
    table = _table_for(tiny_mnist)
    served = _serve(tiny_mnist, MIRROR_A)
    bad_url = MIRROR_A + "train-labels-idx1-ubyte.gz"
    good = served[bad_url]
    served[bad_url] = good[:-1] + bytes([good[-1] ^ 1])  # same size, wrong sums
    dest = tmp_path / "dest"
    with pytest.raises(DataError) as info:
        download_mnist(dest, progress=False, mirrors=(MIRROR_A,), opener=FakeOpener(served),
                       files=table)
    message = str(info.value)
    assert "train-labels-idx1-ubyte.gz" in message and "checksum" in message
    assert "any mirror" in message and "DLEXP_DATA_DIR" in message
    assert "train-labels-idx1-ubyte.gz" not in os.listdir(dest)
    assert not [n for n in os.listdir(dest) if n.startswith(".")]  # no partial files


def test_download_wrong_size_is_refused(tiny_mnist: Path, tmp_path: Path) -> None:
    served = _serve(tiny_mnist, MIRROR_A)
    served[MIRROR_A + "t10k-labels-idx1-ubyte.gz"] += b"extra"
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz"):
        download_mnist(tmp_path / "d", progress=False, mirrors=(MIRROR_A,),
                       opener=FakeOpener(served), files=_table_for(tiny_mnist))


def test_download_falls_through_to_second_mirror(tiny_mnist: Path, tmp_path: Path) -> None:
    served = {**_serve(tiny_mnist, MIRROR_A), **_serve(tiny_mnist, MIRROR_B)}
    opener = FakeOpener(served, fail=(MIRROR_A,))
    dest = tmp_path / "dest"
    download_mnist(dest, progress=False, mirrors=(MIRROR_A, MIRROR_B), opener=opener,
                   files=_table_for(tiny_mnist))
    assert sorted(os.listdir(dest)) == sorted(MNIST_FILES)
    tried = [url for url, _ in opener.calls]
    assert tried[:2] == [MIRROR_A + "train-images-idx3-ubyte.gz",
                         MIRROR_B + "/train-images-idx3-ubyte.gz"]


def test_download_offline_error(tiny_mnist: Path, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="any mirror.*no route to host.*offline"):
        download_mnist(tmp_path / "d", progress=False, mirrors=(MIRROR_A, MIRROR_B),
                       opener=FakeOpener({}), files=_table_for(tiny_mnist))


def test_download_replaces_a_bad_existing_file(tiny_mnist: Path, tmp_path: Path) -> None:
    dest = write_tiny_mnist(tmp_path / "dest")
    (dest / "t10k-images-idx3-ubyte.gz").write_bytes(b"garbage")
    opener = FakeOpener(_serve(tiny_mnist, MIRROR_A))
    download_mnist(dest, progress=False, mirrors=(MIRROR_A,), opener=opener,
                   files=_table_for(tiny_mnist))
    assert [url for url, _ in opener.calls] == [MIRROR_A + "t10k-images-idx3-ubyte.gz"]
    assert all(c.ok for c in verify_mnist(dest, _table_for(tiny_mnist)))


# --- verifying and loading ------------------------------------------------------------

def test_verify_against_official_table_flags_tiny_files(tiny_mnist: Path) -> None:
    (tiny_mnist / "t10k-labels-idx1-ubyte.gz").unlink()
    checks = {c.name: c for c in verify_mnist(tiny_mnist)}
    assert list(checks) == list(MNIST_FILES)
    missing = checks["t10k-labels-idx1-ubyte.gz"]
    assert not (missing.present or missing.size_ok or missing.md5_ok or missing.sha256_ok)
    train = checks["train-images-idx3-ubyte.gz"]
    assert train.present and not (train.size_ok or train.md5_ok or train.sha256_ok)
    assert not train.ok


def test_load_shapes_dtypes_range(tiny_mnist: Path) -> None:
    arrays = load_mnist(tiny_mnist)
    assert arrays.x_train.shape == (200, 784) and arrays.x_test.shape == (50, 784)
    assert arrays.x_train.dtype == np.float32 and arrays.y_train.dtype == np.int64
    assert arrays.y_test.shape == (50,) and set(arrays.y_train.tolist()) == set(range(10))
    assert 0.0 <= arrays.x_train.min() and arrays.x_train.max() == 1.0
    assert arrays.x_train.flags.c_contiguous and not arrays.x_train.flags.writeable
    f64 = load_mnist(tiny_mnist, dtype=np.float64)
    assert f64.x_train.dtype == np.float64
    np.testing.assert_allclose(f64.x_train, arrays.x_train, rtol=1e-6)


def test_load_is_memoised_and_sees_changes(tiny_mnist: Path) -> None:
    first = load_mnist(tiny_mnist)
    assert load_mnist(tiny_mnist) is first
    write_tiny_mnist(tiny_mnist, n_train=30, n_test=10, seed=1)
    os.utime(tiny_mnist / "train-images-idx3-ubyte.gz", ns=(1, 1))  # force a new mtime
    second = load_mnist(tiny_mnist)
    assert second is not first and second.x_train.shape == (30, 784)


def test_load_count_mismatch(tiny_mnist: Path) -> None:
    write_idx(tiny_mnist / "train-labels-idx1-ubyte.gz", np.zeros(199, dtype=np.uint8))
    with pytest.raises(DataError, match="200 images.*199 labels"):
        load_mnist(tiny_mnist)


def test_load_bad_label_and_shape(tiny_mnist: Path) -> None:
    write_idx(tiny_mnist / "t10k-labels-idx1-ubyte.gz", np.full(50, 10, dtype=np.uint8))
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz.*outside 0..9"):
        load_mnist(tiny_mnist)
    write_idx(tiny_mnist / "t10k-images-idx3-ubyte.gz", np.zeros((50, 28, 27), np.uint8))
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz.*28, 28"):
        load_mnist(tiny_mnist)


def test_load_missing_and_corrupt_files(tiny_mnist: Path) -> None:
    (tiny_mnist / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b broken")
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz"):
        load_mnist(tiny_mnist)
    (tiny_mnist / "train-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DataError, match="missing train-images-idx3-ubyte.gz"):
        load_mnist(tiny_mnist)


# --- real MNIST (CI sets DLEXP_DATA_DIR) ----------------------------------------------

def _real_mnist_dir() -> Path | None:
    env = os.environ.get("DLEXP_DATA_DIR")
    if not env or not all((Path(env) / name).is_file() for name in MNIST_FILES):
        return None
    return Path(env)


@pytest.mark.skipif(_real_mnist_dir() is None, reason="DLEXP_DATA_DIR unset or incomplete")
def test_real_mnist_verifies_and_loads() -> None:
    folder = _real_mnist_dir()
    assert folder is not None
    checks = verify_mnist(folder)
    assert len(checks) == 4 and all(c.ok for c in checks)
    arrays = load_mnist(folder)
    assert arrays.x_train.shape == (60000, 784) and arrays.x_test.shape == (10000, 784)
    assert arrays.y_train.shape == (60000,) and arrays.y_test.shape == (10000,)
    assert abs(float(arrays.x_train.mean()) - 0.1307) < 1e-3
    assert np.bincount(arrays.y_train).tolist()[:2] == [5923, 6742]


def test_download_with_the_real_urlopen_from_a_file_url(tiny_mnist: Path, tmp_path: Path) -> None:
    dest = download_mnist(tmp_path / "dest", progress=False, mirrors=(tiny_mnist.as_uri(),),
                          files=_table_for(tiny_mnist))  # default opener: urllib's urlopen
    assert all(c.ok for c in verify_mnist(dest, _table_for(tiny_mnist)))
