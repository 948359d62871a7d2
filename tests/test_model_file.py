"""A run's model.npz holds the trained network in natural pixel order: loaded into a
fresh MLP it scores the raw test images exactly as the run's summary.json says, and
every split's images are (N, 784) as MNIST stores them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dlexp.config import load_config
from dlexp.data.mnist import load_mnist
from dlexp.experiments.overfit import load_model
from dlexp.train.runner import load_splits, train_run


def test_a_run_saves_a_model_that_reads_raw_pixels(tiny_data_env, tiny_config, tmp_path) -> None:
    cfg = load_config(tiny_config, ["dtype=float64"])
    raw = load_mnist(tiny_data_env, dtype=np.float64)
    splits = load_splits(cfg, progress=False)
    for x in (splits.x_train, splits.x_val, splits.x_test):
        assert x.shape[1] == 784
    np.testing.assert_array_equal(splits.x_test, raw.x_test)     # natural order, untouched
    run = train_run(cfg, runs_root=tmp_path / "runs", progress=False)
    summary = json.loads((run.dir / "summary.json").read_text())
    model = load_model(run.dir, cfg)
    assert model.params["W1"].shape == (784, cfg.model.hidden[0])
    loss, acc = model.evaluate(raw.x_test, raw.y_test)
    assert acc == summary["test_acc"] and loss == pytest.approx(summary["test_loss"], rel=1e-12)
