"""``train_run`` and ``fit``: epochs, batches, stopping, and what a run folder always holds."""

from __future__ import annotations

import json
import os
import signal
import time

import numpy as np
import pytest

from dlexp.config import load_config
from dlexp.data import Splits
from dlexp.errors import ConfigError, RunError
from dlexp.train.loop import Callback, fit
from dlexp.train.runner import EXIT_CODES, load_splits, train_run
from dlexp.train.rundir import new_run_dir
from dlexp.train.setup import build_model, build_optimizer_for, streams
from dlexp.train.signals import (hold_interrupts, interrupt_on_sigterm, interrupted_by,
                                 signal_of)


def recorded_fit(cfg, x, y, rng_seed=0, callbacks=()):
    """Run ``fit`` while recording the sample ids (column 0 of x) of every batch."""
    s = streams(cfg.seed)
    model = build_model(cfg, x.shape[1], 10, s)
    optimizer, schedule = build_optimizer_for(cfg, x.shape[0])
    batches: list[np.ndarray] = []
    original = model.loss

    def loss(xb, yb, training=True):
        batches.append(xb[:, 0].astype(int))
        return original(xb, yb, training)

    model.loss = loss
    state = fit(model, optimizer, schedule, x, y, x[:0], y[:0], cfg.training,
                cfg.regularization, np.random.default_rng(rng_seed), tuple(callbacks))
    return state, batches


def id_data(n: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.random.default_rng(0).random((n, 12)).astype(np.float32)
    x[:, 0] = np.arange(n)                                   # the sample's id, exact
    return x, np.arange(n) % 10


def test_each_epoch_is_a_permutation_and_the_last_partial_batch_is_used(tiny_config):
    cfg = load_config(tiny_config, ["training.batch_size=48", "training.epochs=3",
                                    "model.hidden=[4]"])
    x, y = id_data(160)
    state, batches = recorded_fit(cfg, x, y)
    assert state.steps_per_epoch == 4 == -(-160 // 48)       # ceil: 48, 48, 48, 16
    assert state.step == 12 and state.status == "completed"
    assert [len(b) for b in batches] == [48, 48, 48, 16] * 3
    epochs = [np.concatenate(batches[i:i + 4]) for i in range(0, 12, 4)]
    for order in epochs:
        assert sorted(order.tolist()) == list(range(160))    # every sample exactly once
    assert not np.array_equal(epochs[0], epochs[1])          # a fresh order each epoch


def test_fit_copes_with_fewer_samples_than_a_batch(tiny_config):
    cfg = load_config(tiny_config, ["training.batch_size=100", "model.hidden=[4]"])
    x, y = id_data(7)
    state, batches = recorded_fit(cfg, x, y)
    assert state.status == "completed" and state.steps_per_epoch == 1
    assert [len(b) for b in batches] == [7, 7]
    assert all(np.isfinite(r["train_loss"]) for r in state.history)


def test_a_callback_interrupt_is_recorded_as_interrupted(tiny_config):
    class CtrlCAfter(Callback):
        def on_eval(self, state, record):
            if record["epoch"] == 2:
                raise KeyboardInterrupt

    cfg = load_config(tiny_config, ["training.epochs=5", "model.hidden=[4]"])
    x, y = id_data(64)
    state, _ = recorded_fit(cfg, x, y, callbacks=[CtrlCAfter()])
    assert state.status == "interrupted" and len(state.history) == 2


def test_divergence_keeps_the_history_so_far(tiny_config):
    class Blowup(Callback):
        def __init__(self):
            self.model = None

        def on_eval(self, state, record):
            if record["epoch"] == 2:
                self.model.flat_params[:] = 1e30                # (P,) overflows next forward

    cfg = load_config(tiny_config, ["training.epochs=5", "model.hidden=[4]"])
    x, y = id_data(64)
    s = streams(cfg.seed)
    model = build_model(cfg, x.shape[1], 10, s)
    opt, sched = build_optimizer_for(cfg, 64)
    blowup = Blowup()
    blowup.model = model
    with np.errstate(all="ignore"):
        state = fit(model, opt, sched, x, y, x[:0], y[:0], cfg.training, cfg.regularization,
                    s.order, (blowup,))
    assert state.status == "diverged" and "loss became" in state.stop
    assert [r["epoch"] for r in state.history] == [1, 2]


def test_train_run_writes_every_file_and_returns_the_summary(tiny_data_env, tiny_config,
                                                             tmp_path):
    cfg = load_config(tiny_config)
    result = train_run(cfg, runs_root=tmp_path / "runs", progress=False)
    names = {p.name for p in result.dir.iterdir()}
    assert {"config.yaml", "meta.json", "metrics.jsonl", "steps.csv", "summary.json",
            "model.npz"} <= names
    assert json.loads((result.dir / "summary.json").read_text()) == result.summary
    steps = (result.dir / "steps.csv").read_text().splitlines()
    assert steps[0] == "step,loss" and len(steps) == 1 + result.summary["steps"] == 11
    assert EXIT_CODES[result.summary["status"]] == 0
    assert (result.dir / "metrics.jsonl").stat().st_mode & 0o777 == (
        (result.dir / "summary.json").stat().st_mode & 0o777)    # atomic files: usual mode


def test_batch_larger_than_the_training_set_fails_before_the_run_folder(tiny_data_env,
                                                                        tiny_config, tmp_path):
    cfg = load_config(tiny_config, ["training.batch_size=161"])     # 160 training images
    with pytest.raises(ConfigError, match="training.batch_size"):
        train_run(cfg, runs_root=tmp_path / "runs", progress=False)
    assert not (tmp_path / "runs").exists()


def test_interrupt_before_training_still_leaves_a_summary(tiny_data_env, tiny_config,
                                                          tmp_path):
    class CtrlCAtStart(Callback):
        def on_train_begin(self, state):
            raise KeyboardInterrupt

    cfg = load_config(tiny_config)
    result = train_run(cfg, runs_root=tmp_path / "runs", callbacks=(CtrlCAtStart(),),
                       progress=False)
    summary = json.loads((result.dir / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["test_acc"] is None
    assert EXIT_CODES["interrupted"] == 130


def test_new_run_dir_never_reuses_a_folder(tmp_path):
    dirs = [new_run_dir(tmp_path, "same") for _ in range(5)]
    assert len(set(dirs)) == 5 and all(d.is_dir() for d in dirs)


def test_new_run_dir_under_a_file_is_a_run_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(RunError, match="--runs-dir"):
        new_run_dir(tmp_path / "file" / "runs", "x")
    with pytest.raises(RunError, match="--runs-dir"):
        new_run_dir(tmp_path / "file", "x")


def test_load_splits_sizes_follow_the_config(tiny_data_env, tiny_config):
    splits = load_splits(load_config(tiny_config, ["data.val_size=0.25"]), progress=False)
    assert splits.sizes == {"train": 150, "val": 50, "test": 50}


def _raise_signal(signum: int) -> None:
    os.kill(os.getpid(), signum)
    time.sleep(0.05)                                          # let the handler run


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_hold_interrupts_defers_one_signal_and_yields_to_a_second(signum):
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    done = []
    with pytest.raises(KeyboardInterrupt):
        with hold_interrupts():
            _raise_signal(signum)
            done.append("finished the writes")
    assert done == ["finished the writes"]                  # deferred to the end

    with pytest.raises(KeyboardInterrupt):
        with hold_interrupts():
            _raise_signal(signum)
            _raise_signal(signum)
            done.append("never")
    assert done == ["finished the writes"]                  # a second one acts at once
    assert {s: signal.getsignal(s) for s in before} == before   # handlers restored


def test_sigterm_is_a_keyboard_interrupt_that_says_it_was_sigterm():
    with pytest.raises(KeyboardInterrupt) as caught:
        with interrupt_on_sigterm():
            _raise_signal(signal.SIGTERM)
    assert signal_of(caught.value) == signal.SIGTERM
    assert interrupted_by(signal_of(caught.value)) == "interrupted by SIGTERM"
    assert signal_of(KeyboardInterrupt()) == signal.SIGINT
    assert interrupted_by(0) == "interrupted by the user"


def test_full_train_eval_records_the_whole_set_objective_with_penalty():
    """train_loss with train_eval 'full' is cross-entropy on all training images at the
    record's weights plus the L2 penalty — computed here independently."""
    import dataclasses

    from dlexp.config import load_config
    from dlexp.train.setup import streams, train_model

    rng = np.random.default_rng(0)
    x = rng.random((60, 8)).astype(np.float64)
    y = rng.integers(0, 10, 60)
    data = Splits(x, y, x[:0], y[:0], x[:0], y[:0])
    cfg = load_config(None, ["dtype=float64", "model.hidden=[5]", "training.epochs=2",
                             "training.batch_size=16", "regularization.l2=0.01",
                             "data.val_size=0"])
    cfg = dataclasses.replace(cfg, training=dataclasses.replace(cfg.training, train_eval="full"))
    model, state = train_model(cfg, data, streams(0))
    ce, acc = model.evaluate(x, y)
    w = np.concatenate([model.params["W1"].ravel(), model.params["W2"].ravel()])
    last = state.history[-1]
    assert last["train_loss"] == pytest.approx(ce + 0.5 * 0.01 * float(w @ w), rel=1e-12)
    assert last["train_acc"] == acc


def test_a_signal_just_before_the_final_writes_still_leaves_a_summary(tiny_data_env,
                                                                      tiny_config, tmp_path,
                                                                      monkeypatch):
    """Ctrl-C landing between the end of training and the held writes: the files are
    written, then the run stops."""
    from dlexp.train import runner as runner_module

    hold = runner_module.hold_interrupts
    calls = []

    def interrupted_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:                  # 1: config and meta; 2: the final writes
            raise KeyboardInterrupt
        return hold(*args, **kwargs)

    monkeypatch.setattr(runner_module, "hold_interrupts", interrupted_once)
    with pytest.raises(KeyboardInterrupt):
        train_run(load_config(tiny_config), runs_root=tmp_path / "runs", progress=False)
    (run,) = (tmp_path / "runs").iterdir()
    assert json.loads((run / "summary.json").read_text())["status"] == "completed"
    assert (run / "steps.csv").is_file() and "finished" in json.loads(
        (run / "meta.json").read_text())
