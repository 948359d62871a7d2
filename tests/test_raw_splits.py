"""Splitting the raw uint8 pixels and scaling each split (the low-memory path that
``load_splits`` takes) gives exactly the arrays of splitting the float images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dlexp.data.mnist import load_mnist
from dlexp.data.splits import make_splits
from dlexp.errors import ConfigError


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kw", [dict(val_size=0.2, train_size=None),
                                dict(val_size=10, train_size=60, subset="random"),
                                dict(val_size=0, train_size=None)])
def test_raw_split_equals_float_split(tiny_mnist: Path, dtype, kw) -> None:
    raw = load_mnist(tiny_mnist, dtype=np.uint8)
    assert raw.x_train.dtype == np.uint8 and int(raw.x_train.max()) == 255
    floats = make_splits(load_mnist(tiny_mnist, dtype=dtype), rng=np.random.default_rng(3),
                         **kw)
    scaled = make_splits(raw, rng=np.random.default_rng(3), dtype=dtype, **kw)
    for name in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        a, b = getattr(floats, name), getattr(scaled, name)
        assert a.dtype == b.dtype and a.shape == b.shape, name
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert scaled.x_train.flags.c_contiguous and scaled.x_train.flags.writeable


def test_raw_pixels_are_memoised_and_read_only(tiny_mnist: Path) -> None:
    raw = load_mnist(tiny_mnist, dtype=np.uint8)
    assert load_mnist(tiny_mnist, dtype=np.uint8) is raw
    assert not raw.x_train.flags.writeable


def test_integer_dtypes_other_than_uint8_are_refused(tiny_mnist: Path) -> None:
    with pytest.raises(ConfigError, match="floating dtype"):
        load_mnist(tiny_mnist, dtype=np.int32)
