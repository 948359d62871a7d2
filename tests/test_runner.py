"""``train_run`` and ``fit``: epochs, batches, stopping, and what a run folder always holds."""

from __future__ import annotations

import json
import os
import signal

import numpy as np
import pytest

from dlexp.config import load_config
from dlexp.data.splits import Splits
from dlexp.errors import ConfigError, RunError
from dlexp.train.loop import Callback, fit
from dlexp.train.runner import (EXIT_CODES, build_model, build_optimizer_for, fit_options,
                                load_splits, streams, train_run)
from dlexp.train.rundir import new_run_dir
from dlexp.train import signals


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
    state = fit(model, optimizer, schedule, x, y, x[:0], y[:0],
                rng=np.random.default_rng(rng_seed), callbacks=tuple(callbacks),
                **fit_options(cfg))
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
        state = fit(model, opt, sched, x, y, x[:0], y[:0], rng=s.order, callbacks=(blowup,),
                    **fit_options(cfg))
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
                                                          tmp_path, monkeypatch):
    """Ctrl-C while the data loads: no update is made, the folder is still complete."""
    from dlexp.train import runner as runner_module
    real = runner_module.load_splits

    def load_then_ctrl_c(*args, **kwargs):
        splits = real(*args, **kwargs)
        signal.raise_signal(signal.SIGINT)
        return splits

    monkeypatch.setattr(runner_module, "load_splits", load_then_ctrl_c)
    result = train_run(load_config(tiny_config), runs_root=tmp_path / "runs", progress=False)
    summary = json.loads((result.dir / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["test_acc"] is None
    assert summary["steps"] == 0 and EXIT_CODES["interrupted"] == 130


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
    assert (len(splits.y_train), len(splits.y_val), len(splits.y_test)) == (150, 50, 50)


class SignalAt(Callback):
    """Raise ``signum`` in this process after update ``step`` (or when training ends):
    the handler runs before ``raise_signal`` returns, so the point is exact."""

    def __init__(self, signum: int, step: int | None = None) -> None:
        self.signum, self.step = signum, step

    def on_step_end(self, state, loss):
        if state.step == self.step:
            signal.raise_signal(self.signum)

    def on_train_end(self, state):
        if self.step is None:
            signal.raise_signal(self.signum)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_first_signal_stops_after_the_current_update_and_writes_every_file(
        tiny_data_env, tiny_config, tmp_path, signum):
    before = {s: signal.getsignal(s) for s in signals.SIGNALS}
    cfg = load_config(tiny_config, ["training.epochs=50"])
    result = train_run(cfg, runs_root=tmp_path, callbacks=(SignalAt(signum, 3),),
                       progress=False)
    s = json.loads((result.dir / "summary.json").read_text())
    name = signal.Signals(signum).name
    assert s["status"] == "interrupted" and s["steps"] == 3 and s["test_acc"] is None
    assert s["stop_reason"] == f"interrupted by {name}"
    assert len((result.dir / "steps.csv").read_text().splitlines()) == 1 + 3
    assert (result.dir / "model.npz").is_file() and "finished" in json.loads(
        (result.dir / "meta.json").read_text())
    assert {s: signal.getsignal(s) for s in before} == before      # handlers restored
    assert signals.requested() == 0                                 # and the request forgotten


def test_a_signal_after_training_still_leaves_the_whole_run(tiny_data_env, tiny_config,
                                                            tmp_path):
    """Ctrl-C landing as training ends: the test set is evaluated and every file written."""
    result = train_run(load_config(tiny_config), runs_root=tmp_path,
                       callbacks=(SignalAt(signal.SIGINT),), progress=False)
    s = json.loads((result.dir / "summary.json").read_text())
    assert s["status"] == "completed" and s["test_acc"] is not None
    assert (result.dir / "model.npz").is_file() and (result.dir / "steps.csv").is_file()


SECOND_SIGNAL = """
import os, signal, sys
from pathlib import Path
from dlexp.config import load_config
from dlexp.train import loop, runner
import dlexp.io as io

class Twice(loop.Callback):
    def on_step_end(self, state, loss):
        if state.step == 2:
            signal.raise_signal(signal.SIGINT)
            os.write(1, b"after the first\\n")
            if sys.argv[1] == "training":
                signal.raise_signal(signal.SIGTERM)
                os.write(1, b"never\\n")

if sys.argv[1] == "writing":          # the second signal lands inside model.npz's write
    real = io.os.fsync
    def fsync(fd):
        if Path(os.readlink(f"/proc/self/fd/{fd}")).name.startswith(".model.npz."):
            signal.raise_signal(signal.SIGINT)
        real(fd)
    io.os.fsync = fsync
runner.train_run(load_config(sys.argv[2], ["training.epochs=50"]), runs_root=Path(sys.argv[3]),
                 callbacks=(Twice(),), progress=False)
print("never")
"""


@pytest.mark.parametrize("where", ["training", "writing"])
def test_a_second_signal_exits_at_once_leaving_files_whole_or_absent(tiny_data_env,
                                                                     tiny_config, tmp_path,
                                                                     where):
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, "-c", SECOND_SIGNAL, where, str(tiny_config),
                           str(tmp_path / "runs")], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "DLEXP_DATA_DIR": str(tiny_data_env)})
    assert proc.returncode == 130, proc.stderr
    assert proc.stdout == "after the first\n" and "Traceback" not in proc.stderr
    (run,) = (tmp_path / "runs").iterdir()
    names = {p.name for p in run.iterdir()}
    assert not [n for n in names if n.endswith(".tmp")]            # no half-written file
    assert "model.npz" not in names and "summary.json" not in names
    assert {"config.yaml", "meta.json", "metrics.jsonl"} <= names
    if where == "writing":
        assert "steps.csv" in names                  # written whole before model.npz began
        assert len((run / "steps.csv").read_text().splitlines()) == 1 + 2


def test_full_train_eval_records_the_whole_set_objective_with_penalty():
    """train_loss with train_eval 'full' is cross-entropy on all training images at the
    record's weights plus the L2 penalty — computed here independently."""
    import dataclasses

    from dlexp.config import load_config
    from dlexp.train.runner import streams, train_model

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
