"""``dlexp train``, ``runs``, ``plot`` and ``data`` through Typer's CliRunner on tiny data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from dlexp.config import config_to_dict, load_config
from dlexp.nn.model import MLP

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
RECORD_KEYS = {"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds"}


def only_run(runs: Path) -> Path:
    dirs = [d for d in runs.iterdir() if d.is_dir()]
    assert len(dirs) == 1, dirs
    return dirs[0]


def strict_json(text: str):
    """json.loads that refuses NaN/Infinity (not JSON)."""
    def reject(token):
        raise ValueError(f"non-JSON constant {token}")
    return json.loads(text, parse_constant=reject)


def metrics(run: Path) -> list[dict]:
    return [strict_json(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_train_fills_a_complete_run_directory(cli, tiny_data_env, tiny_config, tmp_path,
                                              monkeypatch):
    runs = tmp_path / "runs"
    argv = ["dlexp", "train", str(tiny_config), "--set", "training.epochs=2"]
    monkeypatch.setattr(sys, "argv", argv)                 # CliRunner leaves sys.argv alone
    result = cli.train(tiny_config, runs, "--set", "training.epochs=2")
    assert result.exit_code == 0, result.output
    run = only_run(runs)
    assert str(run) in result.stdout                       # the summary names the folder

    cfg = load_config(tiny_config, ["training.epochs=2"])
    assert load_config(run / "config.yaml") == cfg          # resolved and reloadable

    records = metrics(run)
    assert [r["epoch"] for r in records] == [1, 2]
    for r in records:
        assert RECORD_KEYS <= set(r)
        assert 0 <= r["train_acc"] <= 1 and 0 <= r["val_acc"] <= 1 and r["seconds"] > 0

    summary = strict_json((run / "summary.json").read_text())
    assert summary["status"] == "completed"
    assert summary["epochs"] == 2 and summary["seed"] == 0
    assert summary["best_val_acc"] == max(r["val_acc"] for r in records)
    assert summary["test_acc"] > 0.5                        # tiny data is learnable
    assert summary["train_seconds"] >= 0 and summary["test_loss"] > 0

    meta = strict_json((run / "meta.json").read_text())
    assert meta["command"] == argv
    for key in ("dlexp", "python", "numpy", "host", "started", "finished", "git_commit"):
        assert key in meta
    assert meta["started"] <= meta["finished"]

    for name in ("loss.png", "accuracy.png"):
        assert (run / "plots" / name).read_bytes()[:8] == PNG_MAGIC

    # the saved weights predict exactly what the run reported on the test set
    from dlexp.data import load_mnist
    arrays = load_mnist(tiny_data_env)
    model = MLP(cfg.model, 784, 10, np.random.default_rng(123))
    with np.load(run / "model.npz") as saved:
        model.load_state(dict(saved))
    loss, acc = model.evaluate(arrays.x_test, arrays.y_test)
    assert acc == summary["test_acc"]
    assert loss == pytest.approx(summary["test_loss"], rel=1e-6)


def test_two_runs_never_share_a_directory(cli, tiny_data_env, tiny_config, tmp_path):
    runs = tmp_path / "runs"
    for _ in range(2):
        assert cli.train(tiny_config, runs, "--set", "training.epochs=1").exit_code == 0
    dirs = sorted(d.name for d in runs.iterdir())
    assert len(dirs) == 2 and all(d.startswith("tiny-") for d in dirs)


def test_print_config_prints_resolved_yaml_and_does_not_train(cli, tiny_data_env,
                                                             tiny_config, tmp_path):
    runs = tmp_path / "runs"
    result = cli.train(tiny_config, runs, "--print-config", "--set", "optimizer.lr=0.05",
                   "--set", "model.hidden=[8, 4]", "--set", "optimizer.schedule=cosine")
    assert result.exit_code == 0, result.output
    printed = yaml.safe_load(result.stdout)
    expected = load_config(tiny_config, ["optimizer.lr=0.05", "model.hidden=[8, 4]",
                                         "optimizer.schedule=cosine"])
    assert printed == config_to_dict(expected)
    assert printed["optimizer"]["lr"] == 0.05 and printed["model"]["hidden"] == [8, 4]
    assert printed["optimizer"]["beta2"] == 0.999          # defaults are filled in
    assert not runs.exists()


@pytest.mark.parametrize("override, words", [
    ("training.epochs=0", "training.epochs"),
    ("trainig.epochs=3", "did you mean 'training'"),
    ("optimizer.name=adamm", "choose one of"),
    ("epochs", "KEY=VALUE"),
    ("training.epochs.x=1", "not a section"),
    ("model.hidden=[16, -1]", "model.hidden[1]"),
])
def test_bad_set_fails_with_one_line(cli, tiny_data_env, tiny_config, tmp_path, override,
                                     words):
    runs = tmp_path / "runs"
    result = cli.train(tiny_config, runs, "--set", override)
    assert words in cli.one_line_error(result)
    assert not runs.exists()


def test_same_seed_same_metrics_other_seed_other_metrics(cli, tiny_data_env, tiny_config,
                                                         tmp_path):
    def run_metrics(seed: int, runs: Path) -> list[dict]:
        assert cli.train(tiny_config, runs, "--set", f"seed={seed}").exit_code == 0
        return [{k: v for k, v in r.items() if k != "seconds"} for r in metrics(only_run(runs))]

    first = run_metrics(1, tmp_path / "a")
    assert run_metrics(1, tmp_path / "b") == first
    assert run_metrics(2, tmp_path / "c") != first


def test_runs_lists_each_run(cli, tiny_data_env, tiny_config, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")                     # a terminal of 80 columns
    runs = tmp_path / "runs"
    assert cli.train(tiny_config, runs).exit_code == 0
    assert cli.train(tiny_config, runs, "--set", "optimizer.name=sgd",
                 "--set", "optimizer.lr=1e6", "--set", "training.epochs=30").exit_code == 1
    result = cli("runs", "--runs-dir", str(runs))
    assert result.exit_code == 0, result.output
    for run in runs.iterdir():
        summary = json.loads((run / "summary.json").read_text())
        row = next(line for line in result.stdout.splitlines() if run.name in line)
        assert summary["status"] in row
        best = summary["best_val_acc"]
        assert (f"{best:.4f}" if best is not None else "—") in row
        started = json.loads((run / "meta.json").read_text())["started"]
        assert started[:10] in row                          # the date
    for line in result.stdout.splitlines()[1:]:             # (the title may be a long path)
        assert len(line) <= 80


def test_runs_on_missing_folder_says_so(cli, tmp_path):
    result = cli("runs", "--runs-dir", str(tmp_path / "none"))
    assert result.exit_code == 0 and "no runs" in result.stdout
    (tmp_path / "file").write_text("x")
    cli.one_line_error(cli("runs", "--runs-dir", str(tmp_path / "file")))


def test_plot_overlays_runs_and_rejects_non_runs(cli, tiny_data_env, tiny_config, tmp_path):
    runs = tmp_path / "runs"
    for lr in ("0.01", "0.001"):
        assert cli.train(tiny_config, runs, "--set", f"optimizer.lr={lr}").exit_code == 0
    dirs = sorted(str(d) for d in runs.iterdir())
    out = tmp_path / "overlay.png"
    result = cli("plot", *dirs, "--metric", "val_loss", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == PNG_MAGIC and str(out) in result.stdout

    line = cli.one_line_error(cli("plot", str(tmp_path)))
    assert "not a run folder" in line
    line = cli.one_line_error(cli("plot", str(tmp_path / "nope")))
    assert "no such run folder" in line
    line = cli.one_line_error(cli("plot", dirs[0], "--metric", "acc"))
    assert "val_acc" in line
    (tmp_path / "file").write_text("x")
    bad_out = tmp_path / "file" / "overlay.png"                # a path under a file
    cli.one_line_error(cli("plot", dirs[0], "--out", str(bad_out)))


def test_data_reports_checksum_mismatch_on_tiny_files(cli, tiny_data_env):
    result = cli("data")
    assert result.exit_code == 1
    assert "BAD" in result.stdout and "not the official MNIST" in result.stdout


def test_divergence_stops_with_status_and_keeps_metrics(cli, tiny_data_env, tiny_config,
                                                        tmp_path):
    runs = tmp_path / "runs"
    # weight decay with lr·λ = 5 multiplies the weights by -4 an update: they overflow
    result = cli.train(tiny_config, runs, "--set", "optimizer={name: sgd, lr: 1.0}", "--set",
                   "regularization.l2=5", "--set", "training.epochs=50")
    assert result.exit_code == 1
    run = only_run(runs)
    summary = strict_json((run / "summary.json").read_text())
    assert summary["status"] == "diverged" and "loss became" in summary["stop_reason"]
    assert summary["test_acc"] is None and summary["epochs"] < 30
    records = metrics(run)                                  # strict JSON, even with NaN losses
    assert len(records) == summary["epochs"] - 1 >= 1       # every finished epoch kept
    assert not (run / "model.npz").exists()
    assert "RuntimeWarning" not in result.output            # the status says it, once


def test_early_stopping_ends_training(cli, tiny_data_env, tiny_config, tmp_path):
    runs = tmp_path / "runs"
    result = cli.train(tiny_config, runs, "--set", "training.epochs=10", "--set",
                   "training.early_stopping={patience: 2, min_delta: 1.0}")
    assert result.exit_code == 0, result.output
    summary = json.loads((only_run(runs) / "summary.json").read_text())
    # nothing gains more than 1.0 in accuracy: the 1st evaluation sets the best, 2 more wait
    assert summary["epochs"] == 3 and summary["status"] == "completed"
    assert "early stopping" in summary["stop_reason"] and summary["test_acc"] is not None


@pytest.mark.parametrize("module", ["dlexp", "dlexp.cli"])
def test_python_dash_m_runs_the_cli(module):
    out = subprocess.run([sys.executable, "-m", module, "train", "--help"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "--print-config" in out.stdout
