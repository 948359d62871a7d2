"""Training on the pixels lit in training only (``make_splits(lit_first=True)``): the
splits keep every value, the input layer treats a narrower input as zero-padded, the
model draws and saves its weights in pixel order, and training gives the numbers that
training on every pixel gives."""

from __future__ import annotations

import numpy as np
import pytest

from dlexp.config import load_config
from dlexp.data import MnistArrays, make_splits
from dlexp.data.splits import lit_order
from dlexp.nn.layers import Affine
from dlexp.nn.model import MLP, ModelSpec
from dlexp.train.setup import streams, train_model

D = 40                    # pixels per image
DARK = [0, 3, 17, 18, 39]  # never lit in the first 150 images, lit in the others


def _arrays(n_train: int = 200, n_test: int = 30) -> MnistArrays:
    """uint8 images (a quarter of the pixels lit) whose DARK pixels are 0 in the first
    150 training images only."""
    rng = np.random.default_rng(0)

    def images(n: int) -> np.ndarray:
        x = rng.integers(1, 256, (n, D)).astype(np.uint8)
        return x * (rng.random((n, D)) < 0.25)

    x_train, x_test = images(n_train), images(n_test)
    x_train[:150, DARK] = 0
    x_train[150:, DARK] = 200
    x_test[:, DARK] = 100
    return MnistArrays(x_train, rng.integers(0, 10, n_train).astype(np.uint8),
                       x_test, rng.integers(0, 10, n_test).astype(np.uint8))


def test_lit_order_puts_lit_columns_first_most_often_lit_first() -> None:
    a = _arrays()
    order, counts = lit_order(a.x_train, np.arange(150), block=64)
    lit_in = np.count_nonzero(a.x_train[:150], axis=0)                  # (D,)
    k = len(counts)
    assert k == D - len(DARK)
    np.testing.assert_array_equal(counts, lit_in[order[:k]])
    assert np.all(np.diff(counts) <= 0)                                 # most often lit first
    for c in np.unique(counts):                                         # ties in pixel order
        same = order[:k][counts == c]
        assert np.all(np.diff(same) > 0)
    np.testing.assert_array_equal(order[k:], DARK)
    order, counts = lit_order(a.x_train, np.arange(200))
    assert len(counts) == D and sorted(order) == list(range(D))


def test_dark_pixels_are_left_out_even_when_the_order_is_unchanged() -> None:
    """Lit pixels already most often lit first, dark ones last: nothing moves, but the
    dark columns still leave the training images."""
    x = np.zeros((20, 10), np.uint8)
    for j in range(7):
        x[:20 - 2 * j, j] = 9                                           # 20, 18, … 8 images
    a = MnistArrays(x, np.zeros(20, np.uint8), x[:3], np.zeros(3, np.uint8))
    s = make_splits(a, val_size=0, train_size=None, rng=np.random.default_rng(0),
                    lit_first=True)
    assert s.x_train.shape == (20, 7) and list(s.lit_counts) == [20, 18, 16, 14, 12, 10, 8]
    np.testing.assert_array_equal(s.input_order, np.arange(10))
    np.testing.assert_array_equal(s.pixels(s.x_train), x)


@pytest.mark.parametrize("dtype", [None, np.float32])
def test_lit_first_splits_keep_every_value(dtype) -> None:
    a = _arrays()
    kw = dict(val_size=0, train_size=150, dtype=dtype)
    plain = make_splits(a, rng=np.random.default_rng(0), **kw)
    lit = make_splits(a, rng=np.random.default_rng(0), lit_first=True, **kw)
    order = lit.input_order
    assert sorted(order) == list(range(D)) and list(order[-len(DARK):]) == DARK
    assert lit.x_train.shape == (150, D - len(DARK)) and lit.n_inputs == D
    assert lit.x_train.flags.c_contiguous and lit.x_test.flags.c_contiguous
    np.testing.assert_array_equal(lit.x_train, plain.x_train[:, order[:D - len(DARK)]])
    np.testing.assert_array_equal(lit.x_test, plain.x_test[:, order])
    np.testing.assert_array_equal(lit.pixels(lit.x_train), plain.x_train)
    np.testing.assert_array_equal(lit.pixels(lit.x_test), plain.x_test)
    np.testing.assert_array_equal(lit.y_train, plain.y_train)


def test_validation_images_keep_the_pixels_training_never_lights() -> None:
    a = _arrays()
    s = make_splits(a, val_size=50, train_size=None, rng=np.random.default_rng(1),
                    lit_first=True, stratify=False)
    assert s.x_val.shape == (50, D) and s.x_test.shape == (30, D)
    assert s.x_train.shape[1] == D     # images 150… light every pixel: nothing to leave out
    s = make_splits(a, val_size=0, train_size=200, rng=np.random.default_rng(1),
                    lit_first=True)
    assert s.x_train.shape == (200, D)
    np.testing.assert_array_equal(s.pixels(s.x_test), a.x_test)


def test_affine_takes_a_narrower_input_as_zero_padded() -> None:
    rng = np.random.default_rng(0)
    W, b = rng.standard_normal((7, 3)), rng.standard_normal(3)
    dW, db = np.zeros_like(W), np.zeros_like(b)
    layer = Affine(W, b, dW, db)
    x, dy = rng.standard_normal((5, 7)), rng.standard_normal((5, 3))
    layer.forward(x)
    layer.backward(dy.copy())                   # full width first: fills every row of dW
    assert np.all(dW[4:] != 0)
    xk = x[:, :4]
    padded = np.concatenate([xk, np.zeros((5, 3))], axis=1)
    np.testing.assert_allclose(layer.forward(xk), padded @ W + b, rtol=1e-13)
    dx = layer.backward(dy.copy())
    np.testing.assert_allclose(dW, padded.T @ dy, rtol=1e-13)      # rows 4… are 0
    assert np.all(dW[4:] == 0)
    np.testing.assert_allclose(db, dy.sum(axis=0), rtol=1e-13)
    assert dx.shape == (5, 4)
    np.testing.assert_allclose(dx, dy @ W[:4].T, rtol=1e-13)


def test_model_draws_and_saves_its_weights_in_feature_order() -> None:
    spec = ModelSpec(hidden=(6, 5))
    order = np.random.default_rng(1).permutation(D)
    plain = MLP(spec, D, 3, np.random.default_rng(0), np.float64)
    ordered = MLP(spec, D, 3, np.random.default_rng(0), np.float64, input_order=order)
    np.testing.assert_array_equal(ordered.params["W1"], plain.params["W1"][order])
    for name, value in plain.state().items():
        np.testing.assert_array_equal(ordered.state()[name], value, err_msg=name)
    x = np.random.default_rng(2).random((4, D))
    np.testing.assert_allclose(ordered.forward(x[:, order]), plain.forward(x), rtol=1e-12)
    state = {k: v * 2 for k, v in plain.state().items()}
    ordered.load_state(state)
    np.testing.assert_array_equal(ordered.state()["W1"], state["W1"])
    np.testing.assert_array_equal(ordered.params["W1"], state["W1"][order])


@pytest.mark.parametrize("settings, dark_moves", [
    (["optimizer.name=sgd", "regularization.l2=0.01"], True),      # weight decay
    (["optimizer.name=adam", "optimizer.lr=0.01"], False)])
def test_training_on_lit_pixels_gives_the_numbers_of_every_pixel(settings, dark_moves) -> None:
    """Same weights after training, and the same validation losses: the left-out pixels'
    weights get no gradient but still decay and still weigh in on validation images."""
    a = _arrays()
    kw = dict(val_size=0, train_size=150, dtype=np.float64)
    cfg = load_config(None, ["dtype=float64", "model.hidden=[8]", "training.epochs=3",
                             "training.batch_size=16", *settings])
    plain = make_splits(a, rng=np.random.default_rng(0), **kw)
    lit = make_splits(a, rng=np.random.default_rng(0), lit_first=True, **kw)
    # the test images, which light DARK, stand in as the validation set
    plain, lit = (s.__class__(s.x_train, s.y_train, s.x_test, s.y_test, s.x_test, s.y_test,
                              s.input_order) for s in (plain, lit))
    m_plain, st_plain = train_model(cfg, plain, streams(0))
    m_lit, st_lit = train_model(cfg, lit, streams(0))
    for name, value in m_plain.state().items():
        np.testing.assert_allclose(m_lit.state()[name], value, rtol=1e-9, atol=1e-12,
                                   err_msg=name)
    initial = MLP(cfg.model, D, 10, streams(0).init, np.float64).params["W1"][DARK]
    assert np.allclose(m_lit.state()["W1"][DARK], initial, rtol=0, atol=0) != dark_moves
    for p, q in zip(st_plain.history, st_lit.history):
        assert q["val_loss"] == pytest.approx(p["val_loss"], rel=1e-9)
        assert q["train_loss"] == pytest.approx(p["train_loss"], rel=1e-9)


def test_a_run_saves_a_model_that_reads_raw_pixels(tiny_data_env, tiny_config, tmp_path) -> None:
    """``dlexp train`` trains on the lit pixels of tiny MNIST (its top rows are dark in
    every training image, not in the test images); its model.npz, loaded with no
    input_order, scores the raw test images as summary.json says."""
    import json

    from dlexp.data import load_mnist
    from dlexp.experiments.ensemble import load_model
    from dlexp.train.runner import load_splits, train_run
    cfg = load_config(tiny_config, ["dtype=float64"])
    splits = load_splits(cfg, progress=False)
    assert splits.input_order is not None and splits.x_train.shape[1] < 784
    run = train_run(cfg, runs_root=tmp_path / "runs", progress=False)
    summary = json.loads((run.dir / "summary.json").read_text())
    raw = load_mnist(tiny_data_env, dtype=np.float64)
    plain = load_model(run.dir, cfg, None)                      # W1 read in pixel order
    loss, acc = plain.evaluate(raw.x_test, raw.y_test)
    assert acc == summary["test_acc"] and loss == pytest.approx(summary["test_loss"], rel=1e-12)
    ordered = load_model(run.dir, cfg, splits.input_order)
    np.testing.assert_allclose(ordered.predict_proba(splits.x_test),
                               plain.predict_proba(raw.x_test), rtol=1e-12)


def test_input_order_must_be_a_permutation() -> None:
    spec = ModelSpec(hidden=(4,))
    for bad in (np.zeros(D, int), np.arange(D - 1), np.arange(1, D + 1)):
        with pytest.raises(ValueError, match="permutation"):
            MLP(spec, D, 3, np.random.default_rng(0), input_order=bad)
