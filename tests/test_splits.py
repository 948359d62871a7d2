"""Tests for dlexp.data.splits: pool restriction, validation carving, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dlexp.config import config_from_dict
from dlexp.data.mnist import MnistArrays, load_mnist
from dlexp.data.splits import Splits, make_splits
from dlexp.errors import ConfigError


def _arrays(n_train: int = 1000, n_test: int = 100, seed: int = 0) -> MnistArrays:
    """Synthetic arrays whose first pixel is the example's index, to track it."""
    rng = np.random.default_rng(seed)
    x_train = np.zeros((n_train, 784), np.float32)       # (N, 784)
    x_train[:, 0] = np.arange(n_train)
    y_train = rng.integers(0, 10, n_train).astype(np.int64)
    y_train[:3] = [7, 7, 7]                               # skew the first few
    x_test = rng.random((n_test, 784), dtype=np.float32)
    y_test = rng.integers(0, 10, n_test).astype(np.int64)
    return MnistArrays(x_train, y_train, x_test, y_test)


def _ids(x: np.ndarray) -> np.ndarray:
    return x[:, 0].astype(np.int64)


def _split(arrays: MnistArrays, seed: int = 0, **kw) -> Splits:
    kw.setdefault("train_size", None)
    return make_splits(arrays, rng=np.random.default_rng(seed), **kw)


@pytest.mark.parametrize("val_size, n_val", [(100, 100), (0.1, 100), (0.25, 250), (1, 1)])
def test_sizes_for_int_and_fraction(val_size: int | float, n_val: int) -> None:
    s = _split(_arrays(), val_size=val_size)
    assert (len(s.y_train), len(s.y_val), len(s.y_test)) == (1000 - n_val, n_val, 100)
    assert s.x_val.shape == (n_val, 784) and s.y_val.shape == (n_val,)


def test_all_arrays_c_contiguous_and_test_untouched() -> None:
    arrays = _arrays()
    s = _split(arrays, val_size=0.2, train_size=500)
    for a in (s.x_train, s.y_train, s.x_val, s.y_val, s.x_test, s.y_test):
        assert a.flags.c_contiguous
    assert s.x_test is arrays.x_test and s.y_test is arrays.y_test


@pytest.mark.parametrize("n_val", [1, 7, 100, 333, 999])
def test_stratified_proportions_within_one(n_val: int) -> None:
    arrays = _arrays()
    s = _split(arrays, val_size=n_val)
    counts = np.bincount(arrays.y_train, minlength=10)
    expected = counts * n_val / len(arrays.y_train)
    got = np.bincount(s.y_val, minlength=10)
    assert got.sum() == n_val
    assert np.all(np.abs(got - expected) < 1.0 + 1e-9)


def test_unstratified_is_plain_random() -> None:
    s = _split(_arrays(), val_size=100, stratify=False)
    assert len(s.y_val) == 100 and len(s.y_train) == 900


@pytest.mark.parametrize("stratify", [True, False])
def test_deterministic_for_seed_and_different_for_another(stratify: bool) -> None:
    arrays = _arrays()
    a = _split(arrays, seed=1, val_size=100, stratify=stratify)
    b = _split(arrays, seed=1, val_size=100, stratify=stratify)
    c = _split(arrays, seed=2, val_size=100, stratify=stratify)
    np.testing.assert_array_equal(_ids(a.x_val), _ids(b.x_val))
    np.testing.assert_array_equal(a.y_train, b.y_train)
    assert not np.array_equal(_ids(a.x_val), _ids(c.x_val))


def test_train_size_first_takes_the_first_n() -> None:
    s = _split(_arrays(), val_size=0, train_size=300)
    np.testing.assert_array_equal(_ids(s.x_train), np.arange(300))
    s = _split(_arrays(), val_size=50, train_size=300)
    pool = np.sort(np.concatenate([_ids(s.x_train), _ids(s.x_val)]))
    np.testing.assert_array_equal(pool, np.arange(300))


def test_train_size_random_is_a_seeded_sample() -> None:
    arrays = _arrays()
    a = _split(arrays, val_size=0, train_size=300, subset="random", seed=3)
    b = _split(arrays, val_size=0, train_size=300, subset="random", seed=3)
    ids = _ids(a.x_train)
    assert len(set(ids.tolist())) == 300 and np.all(np.diff(ids) > 0)  # original order
    assert not np.array_equal(ids, np.arange(300))
    np.testing.assert_array_equal(ids, _ids(b.x_train))


@pytest.mark.parametrize("stratify", [True, False])
def test_train_and_val_partition_the_pool(stratify: bool) -> None:
    arrays = _arrays()
    s = _split(arrays, val_size=0.3, train_size=500, stratify=stratify)
    train, val = _ids(s.x_train), _ids(s.x_val)
    assert not set(train.tolist()) & set(val.tolist())
    np.testing.assert_array_equal(np.sort(np.concatenate([train, val])), np.arange(500))
    assert np.all(np.diff(train) > 0)  # remaining indices keep their original order
    np.testing.assert_array_equal(s.y_train, arrays.y_train[train])
    np.testing.assert_array_equal(s.y_val, arrays.y_train[val])


@pytest.mark.parametrize("val_size", [0, 0.0])
def test_val_size_zero_gives_empty_validation(val_size: int | float) -> None:
    arrays = _arrays()
    s = _split(arrays, val_size=val_size)
    assert s.x_val.shape == (0, 784) and s.y_val.shape == (0,)
    assert s.x_val.dtype == np.float32 and s.y_val.dtype == np.int64
    np.testing.assert_array_equal(s.x_train, arrays.x_train)


@pytest.mark.parametrize("kw, match", [
    ({"val_size": 1000}, "leaves no training"),
    ({"val_size": 300, "train_size": 300}, "leaves no training"),
    ({"val_size": 5000}, "val_size"),
    ({"val_size": 10, "train_size": 1001}, "train_size"),
])
def test_sizes_the_data_cannot_hold(kw: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        _split(_arrays(), **kw)


@pytest.mark.parametrize("data, match", [
    ({"val_size": 2.5}, "fraction"),
    ({"val_size": -0.1}, "val_size"),
    ({"val_size": -3}, "val_size"),
    ({"val_size": True}, "val_size"),
    ({"train_size": 0}, "train_size"),
    ({"train_size": 2.5}, "train_size"),
    ({"subset": "last"}, "subset"),
    ({"val_take": "first"}, "val_take"),
])
def test_bad_split_settings_are_refused_when_the_config_loads(data: dict, match: str) -> None:
    """make_splits trusts the types and ranges the config checked (once, at the boundary)."""
    with pytest.raises(ConfigError, match=match):
        config_from_dict({"data": data})


def test_on_tiny_mnist_files(tiny_mnist: Path) -> None:
    s = make_splits(load_mnist(tiny_mnist), val_size=50, train_size=None,
                    rng=np.random.default_rng(0))
    assert (len(s.y_train), len(s.y_val), len(s.y_test)) == (150, 50, 50)
    assert np.bincount(s.y_val, minlength=10).tolist() == [5] * 10  # balanced labels
    assert s.x_train.flags.writeable  # a copy, not the read-only memoised array
