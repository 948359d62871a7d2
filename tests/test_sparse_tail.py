"""The input layer's sparse path: pixels lit in few training images come last
(``Splits.lit_counts``), ``setup.sparse_from`` says where they start when the path pays
at a batch size (``nn.sparse.sparse_start``), and the input layer multiplies only the
ones a batch lights (``SparseTail``) — with the results of the dense product."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from dlexp.config import load_config
from dlexp.data import MnistArrays, make_splits
from dlexp.nn import sparse
from dlexp.nn.layers import Affine
from dlexp.nn.sparse import expected_dark
from dlexp.train.setup import sparse_from, streams, train_model

COMMON, RARE, DARK = 30, 200, 10       # columns lit often, in 1–3 images, never
D = COMMON + RARE + DARK
N_TRAIN = 150


def _arrays(rare: int = RARE) -> MnistArrays:
    """uint8 images: COMMON pixels lit in about half the images, ``rare`` pixels each in
    1–3 training images, the rest dark (test images light every pixel)."""
    rng = np.random.default_rng(0)
    x = rng.integers(1, 256, (N_TRAIN, D)).astype(np.uint8)
    x[:, :COMMON] *= rng.random((N_TRAIN, COMMON)) < 0.5
    x[:, COMMON:] = 0
    for j in range(COMMON, COMMON + rare):
        x[rng.choice(N_TRAIN, size=rng.integers(1, 4), replace=False), j] = 200
    x_test = rng.integers(1, 256, (20, D)).astype(np.uint8)
    labels = lambda n: rng.integers(0, 10, n).astype(np.uint8)          # noqa: E731
    return MnistArrays(x, labels(N_TRAIN), x_test, labels(20))


def _splits(arrays: MnistArrays, dtype=np.float64):
    return make_splits(arrays, val_size=0, train_size=None, rng=np.random.default_rng(0),
                       dtype=dtype, lit_first=True)


def test_sparse_from_is_where_the_rarely_lit_columns_start() -> None:
    s = _splits(_arrays())
    assert s.x_train.shape == (N_TRAIN, COMMON + RARE)
    assert sparse_from(s, 16) == COMMON                # lit in ≤ 3 < 150 / 16 images
    rare_pixels = s.input_order[COMMON:COMMON + RARE]
    assert sorted(rare_pixels) == list(range(COMMON, COMMON + RARE))
    assert sparse_from(s, N_TRAIN) is None             # one batch: every lit pixel in it
    few = _splits(_arrays(rare=RARE // 2))             # a batch leaves ~80 of them dark:
    assert sparse_from(few, 16) is None                # fewer than MIN_DARK, not worth it


def test_the_path_is_taken_from_min_dark_expected_dark_columns(monkeypatch) -> None:
    s = _splits(_arrays())
    dark = expected_dark(s.lit_counts[COMMON:], N_TRAIN, 16)
    monkeypatch.setattr(sparse, "MIN_DARK", dark - 1e-9)
    assert sparse_from(s, 16) == COMMON
    monkeypatch.setattr(sparse, "MIN_DARK", dark + 1e-9)
    assert sparse_from(s, 16) is None


@pytest.mark.parametrize("n, b, c", [(150, 16, 1), (150, 16, 3), (400, 100, 2), (200, 199, 1)])
def test_expected_dark_is_the_chance_a_batch_without_replacement_misses_a_column(n, b, c):
    miss = math.prod(1 - c / (n - i) for i in range(b))      # draw by draw
    assert expected_dark(np.array([c, c]), n, b) == pytest.approx(2 * miss, rel=1e-9)
    assert expected_dark(np.array([n - b + 1]), n, b) == 0.0  # every batch lights it


def test_no_sparse_path_for_images_with_negative_values() -> None:
    s = _splits(_arrays())
    centred = dataclasses.replace(s, x_train=s.x_train - 0.5)   # lit_counts left as they were
    assert centred.lit_counts is not None and sparse_from(centred, 16) is None
    with_nan = s.x_train.copy()
    with_nan[0, -1] = np.nan
    assert sparse_from(dataclasses.replace(s, x_train=with_nan), 16) is None
    assert sparse_from(dataclasses.replace(s, lit_counts=None), 16) is None


def _layers(rng: np.random.Generator, start: int):
    """A dense and a sparse-path Affine on the same (D, 5) weights, each with its own dW."""
    W, b = rng.standard_normal((D, 5)), rng.standard_normal(5)
    dense = Affine(W, b, np.zeros_like(W), np.zeros_like(b), need_dx=False)
    tail = Affine(W, b, np.full_like(W, 7.0), np.zeros_like(b), need_dx=False,
                  sparse_from=start)                   # dW starts as an optimiser's leftovers
    return dense, tail


@pytest.mark.parametrize("lit_columns", [[0, 5, 6, 33], []])
def test_sparse_path_gives_the_dense_product_and_gradient(lit_columns) -> None:
    rng = np.random.default_rng(0)
    k, s = COMMON + RARE, COMMON
    dense, sparse = _layers(rng, s)
    x = rng.random((12, k)) * (rng.random((12, k)) < 0.5)        # (N, k)
    x[:, s:] = 0
    for j in lit_columns:
        x[rng.integers(0, 12), s + j] = 0.8
    dy = rng.standard_normal((12, 5))
    np.testing.assert_allclose(sparse.forward(x, training=True), dense.forward(x), rtol=1e-12)
    assert sparse.tail is not None and list(sparse.tail.lit) == lit_columns
    dense.backward(dy.copy())
    sparse.backward(dy.copy())
    np.testing.assert_allclose(sparse.dW, dense.dW, rtol=1e-12, atol=0)
    unlit = [j for j in range(s, D) if j - s not in lit_columns]
    assert np.all(sparse.dW[unlit] == 0) and np.all(sparse.dW[[s + j for j in lit_columns]] != 0)
    np.testing.assert_allclose(sparse.db, dense.db, rtol=1e-12)


def test_sparse_path_is_for_training_batches_only() -> None:
    rng = np.random.default_rng(1)
    dense, sparse = _layers(rng, COMMON)
    x = rng.random((7, D))                                        # every column lit
    np.testing.assert_allclose(sparse.forward(x, training=False), dense.forward(x),
                               rtol=1e-12)
    assert sparse.tail is None


@pytest.mark.parametrize("settings, dtype, rtol", [
    (["optimizer.name=sgd", "regularization.l2=0.01"], np.float64, 1e-9),
    (["optimizer.name=momentum"], np.float64, 1e-9),          # writes its buffer into dW
    (["optimizer.name=adam", "optimizer.lr=0.01"], np.float64, 1e-9),
    (["model.batchnorm=true", "model.dropout=0.2", "optimizer.name=sgd",
      "regularization.l1=0.001"], np.float64, 1e-9),
    (["optimizer.name=sgd", "optimizer.lr=0.1"], np.float32, 1e-4)])
def test_training_with_the_sparse_path_gives_the_dense_numbers(settings, dtype, rtol) -> None:
    """150 images in batches of 16: nine full batches and a last one of 6, all through
    the sparse path; the same weights and losses as without it, to float rounding."""
    cfg = load_config(None, [f"dtype={np.dtype(dtype).name}", "model.hidden=[8]",
                             "training.epochs=3", "training.batch_size=16", *settings])
    s = _splits(_arrays(), dtype)
    with_tail, st_tail = train_model(cfg, s, streams(0))
    assert with_tail.layers[0].sparse_from == COMMON
    plain = dataclasses.replace(s, lit_counts=None)
    without, st_plain = train_model(cfg, plain, streams(0))
    assert without.layers[0].sparse_from is None
    atol = 1e-12 if dtype == np.float64 else 1e-6
    for name, value in without.state().items():
        np.testing.assert_allclose(with_tail.state()[name], value, rtol=rtol, atol=atol,
                                   err_msg=name)
    for p, q in zip(st_plain.history, st_tail.history):
        assert q["train_loss"] == pytest.approx(p["train_loss"], rel=rtol)


def test_tiny_mnist_runs_take_the_sparse_path(tiny_data_env, tiny_config) -> None:
    from dlexp.train.runner import load_splits
    cfg = load_config(tiny_config)
    splits = load_splits(cfg, progress=False)
    assert sparse_from(splits, cfg.training.batch_size) is not None
