"""Training and validation sets carved out of MNIST's training images.

The *pool* is the first ``train_size`` images (the book's ``x_train[:300]``) or a seeded
random sample. The validation set is ``val_size`` of the pool (a count or a fraction): a
class-stratified sample, a plain one without ``stratify``, or the pool's last images
(``val_take="last"``). The rest, in order, is the training set.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from dlexp.data.mnist import MnistArrays
from dlexp.errors import ConfigError

SUBSETS = ("first", "random")
VAL_TAKES = ("sample", "last")


@dataclass(frozen=True)
class Splits:
    x_train: np.ndarray  # (n_train, 784)
    y_train: np.ndarray  # (n_train,)
    x_val: np.ndarray    # (n_val, 784), n_val may be 0
    y_val: np.ndarray    # (n_val,)
    x_test: np.ndarray   # (n_test, 784)
    y_test: np.ndarray   # (n_test,)


def val_count(val_size: int | float, pool_size: int) -> int:
    """Validation images out of ``pool_size`` (a positive fraction gives at least one)."""
    if isinstance(val_size, numbers.Integral) or val_size >= 1:
        return int(val_size)
    n_val = int(round(float(val_size) * pool_size))
    return max(n_val, 1) if val_size > 0 else n_val


def _stratified(labels: np.ndarray, n_val: int, rng: np.random.Generator) -> np.ndarray:
    """Positions into ``labels`` (n,) of ``n_val`` examples, per class proportional:
    each class gets the floor of its share, the leftover places go to the largest
    remainders (ties broken by ``rng``), so each class is within one of its share."""
    classes, counts = np.unique(labels, return_counts=True)         # (k,), (k,)
    quota, remainder = np.divmod(counts.astype(np.int64) * n_val, len(labels))
    if short := n_val - int(quota.sum()):
        order = rng.permutation(len(classes))                       # random tie-break
        quota[order[np.argsort(-remainder[order], kind="stable")][:short]] += 1
    chosen = [rng.choice(np.flatnonzero(labels == c), size=q, replace=False)
              for c, q in zip(classes, quota) if q > 0]
    return np.concatenate(chosen) if chosen else np.empty(0, dtype=np.int64)


def _take(array: np.ndarray, index: np.ndarray, dtype: np.dtype | None = None) -> np.ndarray:
    """``array[index]`` C-contiguous; with ``dtype``, uint8 pixels scaled to [0, 1]."""
    whole = len(index) == len(array) and np.array_equal(index, np.arange(len(array)))
    rows = array if whole else array[index]
    if dtype is not None:
        return np.divide(rows, 255, dtype=dtype)
    return np.ascontiguousarray(rows)


def make_splits(arrays: MnistArrays, *, val_size: int | float, train_size: int | None,
                rng: np.random.Generator, stratify: bool = True, subset: str = "first",
                val_take: str = "sample", dtype: np.dtype | None = None) -> Splits:
    """Split ``arrays`` (module docstring), indices drawn with ``rng``; sizes the data
    cannot hold raise ConfigError. With ``dtype``, ``arrays`` holds uint8 pixels and
    every split's images (test included) are scaled to [0, 1] in ``dtype``."""
    n_avail = len(arrays.y_train)                  # the settings' types: checked by config
    if train_size is not None and not 1 <= train_size <= n_avail:
        raise ConfigError(f"train_size={train_size} is outside 1..{n_avail} "
                          f"(there are {n_avail} training images)")
    if train_size is None or subset == "first":
        pool = np.arange(train_size or n_avail)                     # (P,)
    else:
        pool = np.sort(rng.choice(n_avail, size=train_size, replace=False))
    n_val = val_count(val_size, len(pool))
    if n_val >= len(pool):
        raise ConfigError(f"val_size={val_size} ({n_val} images) leaves no training images "
                          f"out of a pool of {len(pool)}; lower val_size or raise train_size")
    if n_val == 0:
        val_pos = np.empty(0, dtype=np.int64)
    elif val_take == "last":
        val_pos = np.arange(len(pool) - n_val, len(pool))
    elif stratify:
        val_pos = _stratified(arrays.y_train[pool], n_val, rng)
    else:
        val_pos = rng.choice(len(pool), size=n_val, replace=False)
    in_val = np.isin(np.arange(len(pool)), val_pos)                 # (P,)
    x, y = arrays.x_train, arrays.y_train
    return Splits(_take(x, pool[~in_val], dtype), _take(y, pool[~in_val]),
                  _take(x, pool[in_val], dtype), _take(y, pool[in_val]),
                  _take(arrays.x_test, np.arange(len(arrays.x_test)), dtype),
                  np.ascontiguousarray(arrays.y_test))
