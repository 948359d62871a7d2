"""The input layer's sparse path: pixels lit in few training images come last
(``Splits.lit_counts``), ``Splits.sparse_from`` says where they start for a batch size,
and the input layer multiplies only the ones a batch lights (``SparseTail``) — with the
results of the dense product."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from dlexp.config import load_config
from dlexp.data import MnistArrays, make_splits
from dlexp.data.splits import MIN_DARK
from dlexp.nn.layers import Affine
from dlexp.train.setup import streams, train_model

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
    assert s.sparse_from(16) == COMMON                 # lit in ≤ 3 < 150 / 16 images
    rare_pixels = s.input_order[COMMON:COMMON + RARE]
    assert sorted(rare_pixels) == list(range(COMMON, COMMON + RARE))
    assert s.sparse_from(N_TRAIN) is None              # one batch: every lit pixel in it
    few = _splits(_arrays(rare=MIN_DARK - 28))        # a batch leaves fewer than
    assert few.sparse_from(16) is None                 # MIN_DARK dark: not worth it


def test_no_sparse_path_for_images_with_negative_values() -> None:
    a = _arrays()
    signed = a.x_train.astype(np.float64) / 255
    signed[0, 0] = -0.5
    s = make_splits(MnistArrays(signed, a.y_train, a.x_test.astype(np.float64), a.y_test),
                    val_size=0, train_size=None, rng=np.random.default_rng(0), lit_first=True)
    assert s.lit_counts is None and s.sparse_from(16) is None


def _layers(rng: np.random.Generator, k: int, sparse_from: int):
    """A dense and a sparse-path Affine on the same (D, 5) weights, each with its own dW."""
    W, b = rng.standard_normal((D, 5)), rng.standard_normal(5)
    dense = Affine(W, b, np.zeros_like(W), np.zeros_like(b), need_dx=False)
    sparse = Affine(W, b, np.full_like(W, 7.0), np.zeros_like(b), need_dx=False,
                    sparse_from=sparse_from)           # dW starts as an optimiser's leftovers
    return dense, sparse


@pytest.mark.parametrize("lit_columns", [[0, 5, 6, 33], []])
def test_sparse_path_gives_the_dense_product_and_gradient(lit_columns) -> None:
    rng = np.random.default_rng(0)
    k, s = COMMON + RARE, COMMON
    dense, sparse = _layers(rng, k, s)
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
    dense, sparse = _layers(rng, COMMON + RARE, COMMON)
    x = rng.random((7, D))                                        # every column lit
    np.testing.assert_allclose(sparse.forward(x, training=False), dense.forward(x),
                               rtol=1e-12)
    assert sparse.tail is None


@pytest.mark.parametrize("settings", [
    ["optimizer.name=sgd", "regularization.l2=0.01"],
    ["optimizer.name=momentum"],                       # writes its buffer into dW
    ["optimizer.name=adam", "optimizer.lr=0.01"]])
def test_training_with_the_sparse_path_gives_the_dense_numbers(settings) -> None:
    cfg = load_config(None, ["dtype=float64", "model.hidden=[8]", "training.epochs=3",
                             "training.batch_size=16", *settings])
    s = _splits(_arrays())
    with_tail, st_tail = train_model(cfg, s, streams(0))
    assert with_tail.layers[0].sparse_from == COMMON
    plain = dataclasses.replace(s, lit_counts=None)
    without, st_plain = train_model(cfg, plain, streams(0))
    assert without.layers[0].sparse_from is None
    for name, value in without.state().items():
        np.testing.assert_allclose(with_tail.state()[name], value, rtol=1e-9, atol=1e-12,
                                   err_msg=name)
    for p, q in zip(st_plain.history, st_tail.history):
        assert q["train_loss"] == pytest.approx(p["train_loss"], rel=1e-9)


def test_tiny_mnist_runs_take_the_sparse_path(tiny_data_env, tiny_config) -> None:
    from dlexp.train.runner import load_splits
    cfg = load_config(tiny_config)
    splits = load_splits(cfg, progress=False)
    assert splits.sparse_from(cfg.training.batch_size) is not None
