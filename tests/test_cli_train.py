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
    assert result.stdout.splitlines()[-1] == str(run)      # last, for `| tail -1`
    assert result.stdout.count(str(run)) == 1 and str(run) not in result.stderr

    base = load_config(tiny_config).name                   # --set shows in the name
    cfg = load_config(tiny_config, ["training.epochs=2", f"name={base}+epochs=2"])
    assert load_config(run / "config.yaml") == cfg          # resolved and reloadable
    assert run.name.startswith(f"{base}+epochs=2-")

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
    from dlexp.data.mnist import load_mnist
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
    assert len(dirs) == 2 and all(d.startswith("tiny+epochs=1-") for d in dirs)


def test_print_config_prints_resolved_yaml_and_does_not_train(cli, tiny_data_env,
                                                             tiny_config, tmp_path):
    runs = tmp_path / "runs"
    result = cli.train(tiny_config, runs, "--print-config", "--set", "optimizer.lr=0.05",
                   "--set", "model.hidden=[8, 4]", "--set", "optimizer.schedule=cosine",
                   "--set", "optimizer.name=adam")
    assert result.exit_code == 0, result.output
    printed = yaml.safe_load(result.stdout)
    expected = load_config(tiny_config, ["optimizer.lr=0.05", "model.hidden=[8, 4]",
                                         "optimizer.schedule=cosine", "optimizer.name=adam",
                                         "name=tiny+lr=0.05+hidden=8,4+schedule=cosine"
                                         "+optimizer=adam"])
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
    assert cli.train(tiny_config, runs, "--set", "model.initializer=normal",      # diverges
                     "--set", "model.init_std=1e20", "--set", "name=big").exit_code == 1
    result = cli("runs", "--runs-dir", str(runs))
    assert result.exit_code == 0, result.output
    for run in runs.iterdir():
        summary = json.loads((run / "summary.json").read_text())
        row = next(line for line in result.stdout.splitlines() if run.name in line)
        assert summary["status"] in row
        best = summary["best_val_acc"]
        assert (f"{best:.3g}" if best is not None else "—") in row     # 3 figures
        started = json.loads((run / "meta.json").read_text())["started"]
        assert started[11:16] in row and "train" in row     # the time (HH:MM), the kind
        assert started[:10] in result.stdout                # the date, heading its rows
    for line in result.stdout.splitlines()[1:]:             # (the title may be a long path)
        assert len(line) <= 80


def _folder(root: Path, name: str, files: dict) -> Path:
    d = root / name
    d.mkdir(parents=True)
    for file, content in files.items():
        (d / file).write_text(content if isinstance(content, str) else json.dumps(content))
    return d


def test_runs_lists_every_kind_of_folder_by_start_time(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    runs = tmp_path / "runs"
    at = lambda s: {"started": f"2020-01-02T10:00:{s:02d}+0000"}  # noqa: E731
    _folder(runs, "a-train", {"config.yaml": "name: a", "meta.json": at(40),
                              "summary.json": {"status": "completed", "best_val_acc": 0.9,
                                               "test_acc": 0.8}})
    _folder(runs, "b-batchnorm", {"compare.json": {"name": "batchnorm"}, "meta.json": at(10),
                                  "summary.json": {"status": "completed", "runs": 32,
                                                   "statuses": {"completed": 29,
                                                                "diverged": 3}}})
    _folder(runs, "c-search", {"search.json": {"meta": at(30)}, "summary.json": {
        "status": "completed", "finished": 100, "best": {"val_acc": 0.97}}})
    _folder(runs, "d-optimizer-paths", {"paths.json": {}, "paths.csv": "x",
                                        "meta.json": at(20)})
    _folder(runs, "e-running", {"config.yaml": "name: e", "meta.json": at(50)})
    _folder(runs, "h-killed", {"config.yaml": "name: h", "meta.json": at(55)})
    _folder(runs, "f-activations", {"stats.csv": "x"})                  # no meta: its mtime
    _folder(runs, "g-notes", {"notes.txt": "not dlexp's"})
    from dlexp.io import folder_lock
    with folder_lock(runs / "e-running", "run"):              # a process works there
        result = cli("runs", "--runs-dir", runs)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    rows = {name: next(i for i, line in enumerate(lines) if line.startswith(name))
            for name in ("a-train", "b-batchnorm", "c-search", "d-optimizer-paths",
                         "e-running", "h-killed", "f-activations")}
    assert sorted(rows, key=rows.get) == ["b-batchnorm", "d-optimizer-paths", "c-search",
                                          "a-train", "e-running", "h-killed",
                                          "f-activations"]
    assert "g-notes" not in result.stdout
    row = lambda name: lines[rows[name]].split()  # noqa: E731
    from datetime import datetime

    from dlexp.experiments.folders import local_time
    clock = lambda s: local_time(datetime.strptime(  # noqa: E731  (in this machine's zone)
        at(s)["started"], "%Y-%m-%dT%H:%M:%S%z").timestamp())[1][:5]
    assert row("b-batchnorm")[1:5] == ["compare", clock(10), "completed", "32"]
    assert lines[rows["b-batchnorm"] + 1].split() == ["3", "diverged"]
    assert row("c-search")[1:] == ["search", clock(30), "completed", "100", "0.97", "—"]
    assert row("d-optimizer-paths")[1:4] == ["paths", clock(20), "completed"]
    assert row("a-train")[3:] == ["completed", "0.9", "0.8"]
    assert row("e-running")[3] == "running"
    assert row("h-killed")[3] == "stopped"                  # no summary, nobody working
    assert row("f-activations")[1] == "activations" and row("f-activations")[3] == "completed"
    assert all(len(line) <= 80 for line in lines[1:])


def test_runs_lists_the_chapter_folders_and_a_reproduce_folders_insides(cli, tmp_path):
    runs = tmp_path / "runs"
    meta = {"meta.json": {"started": "2020-01-02T10:00:00+0000"}}
    _folder(runs, "step-fade-20261208-001408", {**meta, "step_fade.json": {}})
    _folder(runs, "adam-bias-20261208-001409", meta)                  # still running
    _folder(runs, "search-methods-20261208-001410-2", {**meta, "search_methods.json": {}})
    rep = _folder(runs, "reproduce-quick-20261208-001411", {**meta, "reproduce.json": {}})
    for name, marker in (("step-fade", "step_fade.json"), ("adam-bias", "adam_bias.json"),
                         ("search-methods", None), ("compare-optimizers", "compare.json")):
        _folder(rep, name, {**meta, **({marker: {}} if marker else {})})
    _folder(runs, "notes-20261208-001412", meta)                     # no kind dlexp knows
    kinds = {}
    for folder in (runs, rep):
        result = cli("runs", "--runs-dir", folder)
        assert result.exit_code == 0, result.output
        kinds[folder] = {line.split()[0]: line.split()[1:4:2] for line in
                         result.stdout.splitlines() if (folder / line.split()[0]).is_dir()}
    assert kinds[runs] == {"step-fade-20261208-001408": ["step-fade", "completed"],
                           "adam-bias-20261208-001409": ["adam-bias", "running?"],
                           "search-methods-20261208-001410-2": ["search-methods", "completed"],
                           "reproduce-quick-20261208-001411": ["reproduce", "running?"]}
    assert kinds[rep] == {"step-fade": ["step-fade", "completed"],
                          "adam-bias": ["adam-bias", "completed"],
                          "search-methods": ["search-methods", "running?"],
                          "compare-optimizers": ["compare", "stopped"]}


def test_runs_on_missing_folder_says_so(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)                    # no runs/ yet: nothing to list
    result = cli("runs")
    assert result.exit_code == 0 and "no runs in runs yet" in result.stdout
    err = cli.one_line_error(cli("runs", "--runs-dir", str(tmp_path / "none")))
    assert "no such folder" in err
    (tmp_path / "file").write_text("x")
    cli.one_line_error(cli("runs", "--runs-dir", str(tmp_path / "file")))


def test_runs_on_one_run_folder_points_at_its_parent(cli, tiny_data_env, tiny_config, tmp_path):
    runs = tmp_path / "runs"
    assert cli.train(tiny_config, runs).exit_code == 0
    (run,) = runs.iterdir()
    err = cli.one_line_error(cli("runs", "--runs-dir", str(run)))
    assert "one train run" in err and f"dlexp runs --runs-dir {runs}" in err


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
    parent = tmp_path / "compare-x"
    parent.mkdir()
    (parent / "compare.json").write_text(json.dumps({"variants": [{"run": "sgd-seed0"}]}))
    line = cli.one_line_error(cli("plot", str(parent)))
    assert f"pass its sub-run folders, e.g. {parent / 'sgd-seed0'}" in line
    line = cli.one_line_error(cli("plot", str(tmp_path / "nope")))
    assert "no such run folder" in line
    line = cli.one_line_error(cli("plot", dirs[0], "--metric", "acc"))
    assert "val_acc" in line
    (tmp_path / "file").write_text("x")
    bad_out = tmp_path / "file" / "overlay.png"                # a path under a file
    cli.one_line_error(cli("plot", dirs[0], "--out", str(bad_out)))
    assert "file: not a run folder" in cli.one_line_error(cli("plot", str(tmp_path / "file")))

    for _ in range(2):          # `dlexp plot runs/*` again: it matches the first overlay too
        given = sorted(runs.iterdir())
        result = cli("plot", *given, "--runs-dir", runs)
        assert result.exit_code == 0, result.output
    overlay = runs / "overlay-val_acc.png"
    assert overlay in given and result.stdout.strip() == str(overlay)
    assert result.stderr.strip() == f"note: {overlay} is not a run folder; left out"


def test_plot_names_runs_by_what_differs_and_skips_runs_without_an_epoch(
        cli, tiny_data_env, tiny_config, tmp_path):
    from dlexp.plots.runs import legend_labels
    runs = tmp_path / "runs"
    for lr in ("0.01", "0.001"):
        assert cli.train(tiny_config, runs, "--set", f"optimizer.lr={lr}").exit_code == 0
    dirs = sorted(runs.iterdir(), key=lambda d: yaml.safe_load(
        (d / "config.yaml").read_text())["optimizer"]["lr"])
    labels = legend_labels(dirs)
    assert labels[dirs[0]] == f"{dirs[0].name}: optimizer.lr=0.001"
    assert labels[dirs[1]] == f"{dirs[1].name}: optimizer.lr=0.01"
    empty = runs / "empty-run"                                  # started, no epoch yet
    empty.mkdir()
    (empty / "metrics.jsonl").write_text("")
    result = cli("plot", *dirs, empty, "--runs-dir", tmp_path / "figs")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(tmp_path / "figs" / "overlay-val_acc.png")
    assert result.stderr.strip() == f"note: {empty} has no evaluation of val_acc yet; left out"
    assert "No artists" not in result.output
    assert cli.one_line_error(cli("plot", empty, "--runs-dir", tmp_path)).startswith(
        "error: none of the runs has an evaluation")


def test_data_reports_checksum_mismatch_on_tiny_files(cli, tiny_data_env):
    result = cli("data")
    assert result.exit_code == 1
    assert "BAD" in result.stdout
    assert "4 of the 4 files are not official MNIST files; replace them" in result.stdout


def test_data_report_speaks_of_one_bad_file_in_the_singular(capsys, tmp_path):
    from dlexp.cli.tables import print_data_report
    from dlexp.data.mnist import FileCheck
    checks = [FileCheck(f"f{i}", 10, True, True, True, i > 0) for i in range(4)]
    assert not print_data_report(tmp_path, checks)
    out = " ".join(capsys.readouterr().out.split())
    assert "1 of the 4 files is not an official MNIST file; replace it, or unset" in out


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
    assert len(records) == summary["epochs"] >= 1           # every finished epoch kept
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


@pytest.mark.parametrize("when", ["parsing", "loading"])
def test_ctrl_c_before_training_starts_says_interrupted(cli, monkeypatch, when):
    """Ctrl-C before the command's own signal handling is set up: Python raises
    KeyboardInterrupt wherever it is; here while the options are parsed, or while the
    handling's module loads."""
    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    class CtrlC:
        def find_spec(self, name, path=None, target=None):
            if name == "dlexp.train.signals":
                ctrl_c()
    if when == "parsing":
        import typer.core
        monkeypatch.setattr(typer.core.TyperCommand, "parse_args", ctrl_c)
    else:
        monkeypatch.delitem(sys.modules, "dlexp.train.signals", raising=False)
        monkeypatch.setattr(sys, "meta_path", [CtrlC(), *sys.meta_path])
    result = cli("train", "baseline")
    assert result.exit_code == 130 and result.stderr == "interrupted\n"


@pytest.mark.parametrize("module", ["dlexp", "dlexp.cli"])
def test_python_dash_m_runs_the_cli(module):
    out = subprocess.run([sys.executable, "-m", module, "train", "--help"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "--print-config" in out.stdout


def test_runs_fits_an_80_column_terminal_with_long_names(cli, tmp_path, monkeypatch):
    """On a terminal, words in kind/started/status never break; only a name longer than
    the room left folds; into a pipe each row stays whole on one line."""
    runs = tmp_path / "runs"
    meta = {"started": "2020-01-02T10:00:00+0000"}
    long = "activations-sigmoid-normalstd1-20200102-100000"
    _folder(runs, long, {"stats.csv": "x", "meta.json": meta})
    _folder(runs, "compare-optimizers-20200102-100001", {
        "compare.json": {"name": "c"}, "meta.json": meta,
        "summary.json": {"status": "interrupted", "runs": 18}})
    _folder(runs, "baseline-20200102-100002", {
        "config.yaml": "name: a", "meta.json": meta,
        "summary.json": {"status": "completed", "best_val_acc": 0.9786, "test_acc": 0.9771}})
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("TTY_COMPATIBLE", "1")                 # as on a terminal
    import re
    lines = re.sub(r"\x1b\[[0-9;]*m", "", cli("runs", "--runs-dir", runs).stdout).splitlines()
    assert all(len(line) <= 80 for line in lines[1:]), lines
    for word in ("compare", "activations", "interrupted", "completed", "0.979", "0.977"):
        assert any(word in line.split() for line in lines), (word, lines)
    short = next(line for line in lines if line.startswith("compare-optimizers-"))
    assert short.split()[1] == "compare" and short.split()[3] == "interrupted"
    monkeypatch.setenv("TTY_COMPATIBLE", "0")                 # into a pipe
    piped = cli("runs", "--runs-dir", runs).stdout.splitlines()
    assert any(line.startswith(long + " ") for line in piped)
