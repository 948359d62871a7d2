"""train_eval "running": each record's train_loss is the mean of the batch losses and its
train_acc the accuracy of the images seen since the last record, as per-batch counting
gives them (argmax of each batch's logits, ties to the first class)."""

from __future__ import annotations

import numpy as np
import pytest

from dlexp.config import load_config
from dlexp.train.loop import fit
from dlexp.train.runner import build_model, build_optimizer_for, fit_options, streams


@pytest.mark.parametrize("record_loss", ["before_update", "after_update"])
def test_running_means_match_per_batch_counting_and_start_anew_after_each_record(record_loss):
    cfg = load_config(None, ["model.hidden=[6]", "training.batch_size=7", "training.epochs=3",
                             "training.eval_every=4", "training.train_eval=running",
                             f"training.record_loss={record_loss}", "data.val_size=0"])
    rng = np.random.default_rng(0)
    x, y = rng.random((30, 5)).astype(np.float32), rng.integers(0, 3, 30)
    s = streams(0)
    model = build_model(cfg, 5, 10, s)
    optimizer, schedule = build_optimizer_for(cfg, len(x))
    hits, seen, original = [], [], model.loss

    def loss(xb, yb, training=True):        # the logits the recorded loss comes from
        value = original(xb, yb, training)
        if training == (record_loss == "before_update"):
            hits.append(int(np.count_nonzero(model.logits.argmax(axis=1) == yb)))
            seen.append(len(yb))
        return value

    model.loss = loss
    state = fit(model, optimizer, schedule, x, y, x[:0], y[:0], rng=s.order,
                **fit_options(cfg))
    assert [r["step"] for r in state.history] == [4, 8, 12, 15]   # the last one partial
    since = 0
    for r in state.history:
        batch = slice(since, r["step"])
        assert r["train_loss"] == pytest.approx(np.mean(state.step_losses[batch]), rel=1e-12)
        assert r["train_acc"] == sum(hits[batch]) / sum(seen[batch])
        since = r["step"]
    assert 0 < sum(hits) < sum(seen)
