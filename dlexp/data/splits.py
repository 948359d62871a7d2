"""Carve training and validation sets out of MNIST's training images.

First the training *pool* is restricted to ``train_size`` images -- the first ones
(the book's convention, e.g. 300 or 500 samples) or a seeded random sample. Then a
validation set of ``val_size`` images (a count, or a fraction of the pool) is drawn
from the pool, stratified by class by default — or, with ``val_take="last"``, the
pool's last ``val_size`` images, so the training set is the pool's first images (the
book's ``x_train[:300]``, no rebalancing of classes); the rest, in original order, is
the training set. The test set is passed through untouched.

Given raw uint8 pixels and ``dtype``, each split is gathered and scaled to [0, 1] in
``dtype`` a block of rows at a time (the same values as :func:`load_mnist` gives), so
no float copy of the whole training set is ever held next to the split copies.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from dlexp.data.mnist import MnistArrays
from dlexp.errors import ConfigError

__all__ = ["Splits", "make_splits"]

SUBSETS = ("first", "random")
VAL_TAKES = ("sample", "last")


@dataclass(frozen=True)
class Splits:
    """Train / validation / test arrays, all C-contiguous."""

    x_train: np.ndarray  # (n_train, 784)
    y_train: np.ndarray  # (n_train,)
    x_val: np.ndarray    # (n_val, 784), n_val may be 0
    y_val: np.ndarray    # (n_val,)
    x_test: np.ndarray   # (n_test, 784)
    y_test: np.ndarray   # (n_test,)

    @property
    def sizes(self) -> dict[str, int]:
        """Number of examples per split: ``{"train": .., "val": .., "test": ..}``."""
        return {"train": len(self.y_train), "val": len(self.y_val), "test": len(self.y_test)}


def _pool(n_avail: int, train_size: int | None, subset: str,
          rng: np.random.Generator) -> np.ndarray:
    """Indices (ascending) of the training images the splits are drawn from."""
    if subset not in SUBSETS:
        raise ConfigError(f"data.subset must be one of {', '.join(SUBSETS)}, got {subset!r}")
    if train_size is None:
        return np.arange(n_avail)
    if isinstance(train_size, bool) or not isinstance(train_size, numbers.Integral):
        raise ConfigError(f"train_size must be a whole number of images, got {train_size!r}")
    if not 1 <= train_size <= n_avail:
        raise ConfigError(f"train_size={train_size} is outside 1..{n_avail} "
                          f"(there are {n_avail} training images)")
    if subset == "first":
        return np.arange(int(train_size))
    return np.sort(rng.choice(n_avail, size=int(train_size), replace=False))


def val_count(val_size: int | float, pool_size: int) -> int:
    """The number of validation images ``val_size`` (a count, or a fraction below 1)
    asks for out of ``pool_size``; a positive fraction of a tiny pool still gives one."""
    if isinstance(val_size, numbers.Integral) or val_size >= 1:
        return int(val_size)
    n_val = int(round(float(val_size) * pool_size))
    return max(n_val, 1) if val_size > 0 else n_val


def _val_count(val_size: int | float, pool_size: int) -> int:
    """:func:`val_count`, with every way ``val_size`` can be wrong a ConfigError."""
    if isinstance(val_size, bool) or not isinstance(val_size, numbers.Real):
        raise ConfigError(f"val_size must be a count or a fraction in (0, 1), got {val_size!r}")
    if isinstance(val_size, numbers.Integral) or 0.0 <= float(val_size) < 1.0:
        n_val = val_count(val_size, pool_size)
    else:
        raise ConfigError(f"val_size={val_size} is a fraction outside [0, 1); use a fraction "
                          "such as 0.1 or a whole number of images")
    if n_val < 0:
        raise ConfigError(f"val_size={val_size} is negative; use 0 for no validation set")
    if n_val >= pool_size:
        raise ConfigError(f"val_size={val_size} ({n_val} images) leaves no training images "
                          f"out of a pool of {pool_size}; lower val_size or raise train_size")
    return n_val


def _stratified(labels: np.ndarray, n_val: int, rng: np.random.Generator) -> np.ndarray:
    """Positions into ``labels`` (n,) of ``n_val`` examples, per class proportional.

    Each class gets the floor of its proportional share; the leftover places go to
    the classes with the largest remainders (ties broken by ``rng``), so every
    class is within one of its exact share and the total is exactly ``n_val``.
    """
    classes, counts = np.unique(labels, return_counts=True)  # (k,), (k,)
    scaled = counts.astype(np.int64) * n_val                  # (k,) exact integers
    quota, remainder = scaled // len(labels), scaled % len(labels)  # (k,), (k,)
    short = n_val - int(quota.sum())
    if short > 0:
        order = rng.permutation(len(classes))                 # random tie-break
        by_remainder = order[np.argsort(-remainder[order], kind="stable")]
        quota[by_remainder[:short]] += 1
    chosen = [rng.choice(np.flatnonzero(labels == c), size=int(q), replace=False)
              for c, q in zip(classes, quota) if q > 0]
    return np.concatenate(chosen) if chosen else np.empty(0, dtype=np.int64)


def _take(array: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``array[index]`` as a C-contiguous array; no copy for the whole array in order."""
    if len(index) == len(array) and np.array_equal(index, np.arange(len(array))):
        rows = array                                   # every row, in order: no copy
    else:
        rows = array[index]
    return np.ascontiguousarray(rows)


def _take_scaled(array: np.ndarray, index: np.ndarray, dtype: np.dtype,
                 block: int = 4096) -> np.ndarray:
    """``array[index] / 255`` in ``dtype`` (raw uint8 pixels → [0, 1]), block by block."""
    out = np.empty((len(index), array.shape[1]), dtype=dtype)          # (n, 784)
    for a in range(0, len(index), block):
        out[a:a + block] = array[index[a:a + block]]
    out /= dtype.type(255)
    return out


def make_splits(arrays: MnistArrays, *, val_size: int | float, train_size: int | None,
                rng: np.random.Generator, stratify: bool = True,
                subset: str = "first", val_take: str = "sample",
                dtype: np.dtype | None = None) -> Splits:
    """Split ``arrays`` into train / validation / test (see the module docstring).

    ``val_size`` is a count, or a fraction in [0, 1) of the pool; 0 gives empty
    validation arrays of the right shape. Validation indices are drawn with ``rng``
    (deterministic for a seed) and kept in original order, as is the training rest.
    Raises :class:`ConfigError` for sizes that do not fit. When the training set is
    the whole of ``arrays.x_train`` in order it is returned without a copy (so it
    may be read-only, as :func:`load_mnist`'s arrays are). With ``dtype`` the images
    are raw uint8 pixels, and every split's images (test included) are new arrays in
    ``dtype`` scaled to [0, 1].
    """
    n_avail = len(arrays.y_train)
    pool = _pool(n_avail, train_size, subset, rng)              # (P,) ascending
    n_val = _val_count(val_size, len(pool))
    if val_take not in VAL_TAKES:
        raise ConfigError(f"data.val_take must be one of {', '.join(VAL_TAKES)}, "
                          f"got {val_take!r}")
    if n_val == 0:
        val_pos = np.empty(0, dtype=np.int64)
    elif val_take == "last":
        val_pos = np.arange(len(pool) - n_val, len(pool))
    elif stratify:
        val_pos = _stratified(arrays.y_train[pool], n_val, rng)
    else:
        val_pos = rng.choice(len(pool), size=n_val, replace=False)
    in_val = np.zeros(len(pool), dtype=bool)                    # (P,)
    in_val[val_pos] = True
    val_idx, train_idx = pool[in_val], pool[~in_val]            # (n_val,), (P - n_val,)
    if dtype is None:
        take_x = _take
    else:
        dt = np.dtype(dtype)
        take_x = lambda a, i: _take_scaled(a, i, dt)                    # noqa: E731
    x_test = arrays.x_test
    if dtype is not None:
        x_test = take_x(x_test, np.arange(len(x_test)))
    return Splits(
        x_train=take_x(arrays.x_train, train_idx), y_train=_take(arrays.y_train, train_idx),
        x_val=take_x(arrays.x_train, val_idx), y_val=_take(arrays.y_train, val_idx),
        x_test=np.ascontiguousarray(x_test), y_test=np.ascontiguousarray(arrays.y_test),
    )
