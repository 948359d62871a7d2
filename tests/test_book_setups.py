"""``--book``: each preset's settings as the book's script runs it, beside the standard
setup that stays the default — the overrides, the book's first-300 images, and fresh
initial weights per search trial."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from dlexp import book
from dlexp.config import config_from_dict
from dlexp.data.mnist import MnistArrays
from dlexp.data.splits import make_splits
from dlexp.experiments.optimizers import optimizer_variants
from dlexp.experiments.report import load_base
from dlexp.experiments.sweep import CompareOptions
from dlexp.train.runner import streams

PRESET_CONFIG = {"compare-optimizers": "compare-optimizers", "compare-inits": "compare-inits",
                 "batchnorm": "batchnorm", "overfit-weight-decay": "overfit",
                 "overfit-dropout": "overfit", "search": "search"}


def resolved(preset: str, use_book: bool, sets=()):
    raw = load_base(None, PRESET_CONFIG[preset], book.with_book(preset, list(sets), use_book),
                    CompareOptions())
    return config_from_dict(raw)


@pytest.mark.parametrize("preset", sorted(book.BOOK))
def test_book_is_one_flag_away_and_the_standard_setup_stays_the_default(preset):
    std, bk = resolved(preset, False), resolved(preset, True)
    assert (std.training.sampling, std.training.record_loss) == ("without_replacement",
                                                                 "before_update")
    assert (bk.training.sampling, bk.training.record_loss) == ("with_replacement",
                                                               "after_update")
    assert std.data.val_take == "sample" and std.trial_init == "shared"
    assert resolved(preset, True, ["training.sampling=without_replacement"]
                    ).training.sampling == "without_replacement"     # --set still wins


def test_the_books_lengths_images_and_layers():
    c = resolved("overfit-weight-decay", True)
    assert (c.data.val_take, c.training.iterations, c.model.hidden) == ("last", 601,
                                                                        (100,) * 6)
    c = resolved("overfit-dropout", True)
    assert (c.training.epochs, c.training.iterations, c.model.dropout_mode) == (301, None,
                                                                                 "book")
    c = resolved("batchnorm", True)
    assert c.training.iterations == 191
    for use_book in (False, True):        # batch norm as the book's class, also by default
        m = resolved("batchnorm", use_book).model
        assert (m.bn_running_init, m.bn_unbiased, m.bn_momentum) == ("book", False, 0.1)
    for preset in ("compare-optimizers", "compare-inits"):
        c = resolved(preset, True)
        assert (c.data.val_size, c.training.iterations, c.training.batch_size) == (0, 2000,
                                                                                   128)
    c = resolved("search", True)
    assert (c.trial_init, c.data.stratify, c.data.train_size, c.data.val_size) == (
        "per_trial", False, 500, 0.2)


def test_compare_optimizers_book_uses_the_books_classes():
    names = ["sgd", "momentum", "adagrad", "adam", "rmsprop"]
    base = {"optimizer": {"name": "sgd"}}                   # as the preset's config
    got = {v.label: dict(v.overrides) for v in optimizer_variants(names, {}, None, base, True)}
    assert got["adam"]["optimizer.name"] == "adam_book"
    assert got["adagrad"]["optimizer.eps"] == got["rmsprop"]["optimizer.eps"] == 1e-7
    assert got["rmsprop"]["optimizer.lr"] == 0.01 and got["sgd"] == {"optimizer.name": "sgd"}
    std = {v.label: dict(v.overrides) for v in optimizer_variants(names, {}, None, {})}
    assert std["adam"] == {"optimizer.name": "adam"} and std["rmsprop"]["optimizer.lr"] == 0.001


def test_val_take_last_trains_on_the_first_images_in_order_without_rebalancing():
    n = 20_000
    y = np.repeat(np.arange(10), 2)[np.arange(n) % 20]       # first 300: unbalanced runs
    y[:300] = np.sort(y[:300])                               # 30 each, sorted …
    y[:40] = 0                                               # … with 40+ zeros
    arrays = MnistArrays(np.arange(n, dtype=np.float32)[:, None], y, np.zeros((5, 1)),
                         np.zeros(5, dtype=np.int64))
    kw = dict(val_size=10_000, train_size=10_300, rng=streams(0).split)
    first = make_splits(arrays, val_take="last", **kw)
    np.testing.assert_array_equal(first.x_train[:, 0], np.arange(300))
    np.testing.assert_array_equal(first.x_val[:, 0], np.arange(300, 10_300))
    assert np.bincount(first.y_train.astype(int))[0] == np.count_nonzero(y[:300] == 0)
    balanced = make_splits(arrays, **kw)                      # the standard: stratified
    assert np.bincount(balanced.y_train.astype(int)).max() <= 31


SEARCH_YAML = """\
name: tiny
seed: 0
trial_init: TRIAL_INIT
data: {val_size: 0.25}
model: {hidden: [16], activation: relu, initializer: he_normal}
optimizer: {name: sgd, lr: 0.1}
training: {epochs: 2, batch_size: 50}
search:
  model.activation: {distribution: choice, choices: [relu]}
"""


@pytest.mark.parametrize("trial_init", ["shared", "per_trial"])
def test_search_trials_share_or_draw_their_initial_weights(search_setup, tmp_path, cli,
                                                           trial_init):
    path = tmp_path / f"{trial_init}.yaml"
    path.write_text(SEARCH_YAML.replace("TRIAL_INIT", trial_init))
    r = cli("search", "--config", path, "--trials", 3, "--quiet", "--no-plots",
            "--runs-dir", tmp_path / trial_init)
    assert r.exit_code == 0, r.output
    (folder,) = (tmp_path / trial_init).iterdir()
    with open(folder / "trials.csv", newline="") as f:
        losses = {row["val_loss"] for row in csv.DictReader(f)}
    # the same hyperparameters in every trial: only the initial weights can differ
    assert len(losses) == (1 if trial_init == "shared" else 3)


def test_search_book_with_resume_is_refused(cli, tmp_path):
    line = cli.one_line_error(cli("search", "--book", "--resume", tmp_path))
    assert "--book with --resume" in line
