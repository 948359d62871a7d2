"""``dlexp search`` in one process on tiny data: outputs, validation only, failures,
pruning, rounds, resuming and bad input."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from dlexp.cli import app
from dlexp.config import load_config
from dlexp.io import folder_lock
from dlexp.nn.model import MLP
from dlexp.train import runner as training_setup
from dlexp.search.runner import run_search
from dlexp.search.searchdir import new_search, resume_search

runner = CliRunner()
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def start(config: Path, runs: Path, **opts):
    """Plan and run a search in this process; the SearchResult."""
    plan = new_search(load_config(config), str(config), opts, runs)
    return run_search(plan)


def rows(search_dir: Path) -> list[dict]:
    with open(search_dir / "trials.csv", newline="") as f:
        return list(csv.DictReader(f))


def summary(search_dir: Path) -> dict:
    return json.loads((search_dir / "summary.json").read_text())


def one_line_error(result) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def sigterm_in_trial(monkeypatch, n: int):
    """SIGTERM (as ``kill`` sends) arrives while trial ``n`` trains; returns the real fit."""
    fit = training_setup.fit
    calls = []

    def fit_then_terminate(*args, **kwargs):
        calls.append(1)
        if len(calls) == n:
            os.kill(os.getpid(), signal.SIGTERM)
        return fit(*args, **kwargs)

    monkeypatch.setattr(training_setup, "fit", fit_then_terminate)
    return fit


def test_cli_search_writes_trials_best_config_summary_and_plots(search_setup, tmp_path):
    _, write_config = search_setup
    runs = tmp_path / "runs"
    res = runner.invoke(app, ["search", "--config", str(write_config()), "--trials", "6",
                              "--runs-dir", str(runs), "-q"])
    assert res.exit_code == 0, res.output
    (d,) = list(runs.iterdir())
    table = rows(d)
    assert list(table[0]) == ["number", "state", "optimizer.lr", "regularization.l2", "val_acc",
                              "val_loss", "epochs", "seconds", "round", "note"]
    assert sorted(int(r["number"]) for r in table) == list(range(6))
    assert all(1e-3 <= float(r["optimizer.lr"]) <= 1.0 for r in table)
    s = summary(d)
    best = max((r for r in table if r["state"] == "complete"), key=lambda r: float(r["val_acc"]))
    assert s["status"] == "completed" and s["finished"] == 6
    assert s["best"]["val_acc"] == float(best["val_acc"])
    cfg = load_config(d / "best.yaml")                      # ready for `dlexp train`
    assert cfg.optimizer.lr == float(best["optimizer.lr"]) and cfg.search is None
    assert cfg.regularization.l2 == float(best["regularization.l2"])
    curves = json.loads((d / "curves.json").read_text())
    assert [len(c["val_acc"]) for c in curves] == [4] * 6
    for name in ("top20", "params", "scatter", "history"):
        assert (d / "plots" / f"{name}.png").read_bytes()[:8] == PNG_MAGIC


def test_same_seed_same_trials_and_the_sampler_seed_matters(search_setup, tmp_path):
    _, write_config = search_setup
    config = write_config()
    params = [[(r["optimizer.lr"], r["val_acc"]) for r in rows(start(
        config, tmp_path / f"r{i}", trials=3, seed=seed).dir)]
        for i, seed in enumerate((5, 5, 6))]
    assert params[0] == params[1]
    assert params[0] != params[2]


def test_the_test_set_is_used_only_by_final_test_and_only_once(search_setup, tmp_path,
                                                                monkeypatch):
    _, write_config = search_setup
    seen: list[int] = []
    evaluate = MLP.evaluate

    def spy(self, x, y, *args, **kwargs):
        seen.append(x.shape[0])
        return evaluate(self, x, y, *args, **kwargs)

    monkeypatch.setattr(MLP, "evaluate", spy)
    runs = tmp_path / "runs"
    args = ["search", "--config", str(write_config()), "--trials", "3", "--runs-dir", str(runs),
            "-q"]
    assert runner.invoke(app, args).exit_code == 0
    assert seen and 37 not in seen                       # 37 = size of the test set only
    (d,) = list(runs.iterdir())
    assert "final_test" not in summary(d)
    for _ in range(2):                                   # asking twice tests once
        res = runner.invoke(app, ["search", "--resume", str(d), "--final-test", "-q",
                                  "--no-plots"])
        assert res.exit_code == 0, res.output
    assert seen.count(37) == 1
    final = summary(d)["final_test"]
    assert 0.0 <= final["test_acc"] <= 1.0
    assert final["params"] == summary(d)["best"]["params"]
    assert yaml.safe_load((d / "final" / "config.yaml").read_text())["data"]["val_size"] == 0


def test_a_new_best_after_the_final_test_is_not_tested_again(search_setup, tmp_path):
    _, write_config = search_setup
    runs = tmp_path / "runs"
    res = runner.invoke(app, ["search", "--config", str(write_config()), "--trials", "2",
                              "--runs-dir", str(runs), "--final-test", "-q", "--no-plots"])
    assert res.exit_code == 0, res.output
    (d,) = list(runs.iterdir())
    tested = summary(d)["final_test"]
    first_meta = json.loads((d / "search.json").read_text())["meta"]   # kept on resume
    # make the recorded test belong to another trial, as if more trials found a new best
    s = summary(d)
    other = {"round": 1, "number": 1 - s["best"]["number"]}
    s["final_test"]["trial"] = other
    (d / "summary.json").write_text(json.dumps(s))
    res = runner.invoke(app, ["search", "--resume", str(d), "--trials", "3", "-q",
                              "--no-plots"])
    assert res.exit_code == 0, res.output
    assert summary(d)["final_test"]["stale"] is True           # kept, and marked
    assert summary(d)["final_test"]["test_acc"] == tested["test_acc"]
    from dlexp.experiments.folders import describe
    assert "test stale" in describe(d).note                    # and `dlexp runs` says so
    started = json.loads((d / "search.json").read_text())
    assert started["meta"] == first_meta and len(started["resumes"]) == 1
    res = runner.invoke(app, ["search", "--resume", str(d), "--final-test", "-q",
                              "--no-plots"])
    assert res.exit_code == 2
    (line,) = res.stderr.strip().splitlines()[-1:]
    assert "the test set was already used" in line and "start a new search" in line
    assert len(list((d / "final").glob("metrics.jsonl"))) == 1   # no second run
    assert summary(d)["final_test"]["trial"] == other


def test_final_test_retrains_for_the_epochs_the_best_trial_ran(search_setup, tmp_path):
    """Early stopping ended the trials; with no validation set it cannot fire in the
    retrain, so the retrain runs the winner's epochs exactly, not the configured 20."""
    _, write_config = search_setup
    config = write_config(epochs=20)
    config.write_text(config.read_text().replace(
        "training: {epochs: 20,", "training: {early_stopping: {patience: 2, min_delta: 0.1}, "
                                  "epochs: 20,"))
    runs = tmp_path / "runs"
    res = runner.invoke(app, ["search", "--config", str(config), "--trials", "4", "--runs-dir",
                              str(runs), "--final-test", "-q", "--no-plots"])
    assert res.exit_code == 0, res.output
    (d,) = list(runs.iterdir())
    s = summary(d)
    (row,) = [r for r in rows(d) if int(r["number"]) == s["best"]["number"]]
    epochs = s["best"]["epochs"]
    assert epochs == int(row["epochs"]) < 20                 # the winner stopped early
    final = yaml.safe_load((d / "final" / "config.yaml").read_text())
    assert final["training"]["epochs"] == epochs and final["training"]["iterations"] is None
    assert final["training"]["early_stopping"]["patience"] is None
    assert final["data"]["val_size"] == 0
    trained = (d / "final" / "metrics.jsonl").read_text().splitlines()
    assert len(trained) == epochs == s["final_test"]["epochs"]
    assert f"for {epochs} epochs" in re.sub(r"[│\s]+", " ", res.stdout)  # table may wrap


def test_final_test_of_an_unfinished_search_is_skipped_loudly(search_setup, tmp_path,
                                                              monkeypatch):
    _, write_config = search_setup
    fit = sigterm_in_trial(monkeypatch, 2)
    runs = tmp_path / "runs"
    res = runner.invoke(app, ["search", "--config", str(write_config(epochs=30)), "--trials",
                              "3", "--runs-dir", str(runs), "--final-test", "-q",
                              "--no-plots"])
    (d,) = list(runs.iterdir())
    assert res.exit_code == 130, res.output
    skipped = [line for line in res.stderr.splitlines() if "--final-test skipped" in line]
    assert len(skipped) == 1 and "interrupted (1/3 trials)" in skipped[0]
    assert f"dlexp search --resume {d} --final-test" in skipped[0]
    assert "final_test" not in summary(d) and not (d / "final").exists()
    monkeypatch.setattr(training_setup, "fit", fit)
    res = runner.invoke(app, ["search", "--resume", str(d), "--final-test", "-q", "--no-plots"])
    assert res.exit_code == 0 and "skipped" not in res.stderr, res.output
    assert summary(d)["finished"] == 3 and 0.0 <= summary(d)["final_test"]["test_acc"] <= 1.0


def test_diverging_and_crashing_trials_are_recorded_and_the_search_goes_on(search_setup,
                                                                            tmp_path,
                                                                            monkeypatch):
    _, write_config = search_setup
    fit = training_setup.fit

    def flaky_fit(model, optimizer, schedule, *args, **kwargs):
        if 0.01 < schedule(0) < 0.1:
            raise RuntimeError("simulated crash")
        if schedule(0) >= 0.1:                              # blow the loss up
            model.params["W1"][...] = float("nan")
        return fit(model, optimizer, schedule, *args, **kwargs)

    monkeypatch.setattr(training_setup, "fit", flaky_fit)
    result = start(write_config(), tmp_path / "runs", trials=8)
    table = rows(result.dir)
    assert len(table) == 8 and result.status == "completed"
    by_lr = {r["state"]: [] for r in table}
    for r in table:
        by_lr[r["state"]].append(float(r["optimizer.lr"]))
    assert set(by_lr) == {"complete", "diverged", "failed"}
    assert all(lr >= 0.1 for lr in by_lr["diverged"])
    assert all(0.01 < lr < 0.1 for lr in by_lr["failed"])
    assert all(r["val_acc"] == "" and r["note"] for r in table if r["state"] != "complete")
    assert any("simulated crash" in r["note"] for r in table)
    assert summary(result.dir)["states"]["diverged"] == len(by_lr["diverged"])


def test_median_pruning_stops_hopeless_trials_and_reports_the_saving(search_setup, tmp_path):
    _, write_config = search_setup
    result = start(write_config(epochs=8, lr_low=1e-4), tmp_path / "runs", trials=14,
                   pruner="median")
    table = rows(result.dir)
    pruned = [r for r in table if r["state"] == "pruned"]
    assert len(table) == 14 and pruned
    assert all(int(r["epochs"]) < 8 for r in pruned)
    p = summary(result.dir)["pruning"]
    assert p["pruned"] == len(pruned) and p["seconds_saved_est"] > 0
    assert p["evals_run"] < p["evals_planned"] == 14 * 8
    best_pruned = max(float(r["val_acc"]) for r in pruned)
    assert best_pruned < max(float(r["val_acc"]) for r in table if r["state"] == "complete")


def test_rounds_narrow_to_the_best_trials_and_record_their_ranges(search_setup, tmp_path):
    _, write_config = search_setup
    result = start(write_config(lr_low=1e-4), tmp_path / "runs", trials=10, rounds=2, keep=0.5)
    table = rows(result.dir)
    first = [r for r in table if r["round"] == "1"]
    second = [r for r in table if r["round"] == "2"]
    assert len(first) == len(second) == 5
    top = sorted(first, key=lambda r: (-float(r["val_acc"]), int(r["number"])))[:3]
    lrs = [float(r["optimizer.lr"]) for r in top]
    ranges = summary(result.dir)["rounds"]
    assert ranges[0]["space"]["optimizer.lr"]["low"] == 1e-4
    assert ranges[1]["space"]["optimizer.lr"] == {"distribution": "log_uniform",
                                                  "low": min(lrs), "high": max(lrs)}
    assert all(min(lrs) <= float(r["optimizer.lr"]) <= max(lrs) for r in second)


def test_resume_continues_to_the_total_not_n_more(search_setup, tmp_path):
    _, write_config = search_setup
    first = start(write_config(), tmp_path / "runs", trials=4)
    plan = resume_search(first.dir, None, {"trials": 7})
    again = run_search(plan)
    table = rows(again.dir)
    assert again.status == "completed" and len(table) == 7
    assert sorted(int(r["number"]) for r in table) == list(range(7))
    assert len({r["optimizer.lr"] for r in table}) == 7
    assert json.loads((first.dir / "search.json").read_text())["trials"] == 7


def test_sigterm_stops_cleanly_and_resume_finishes(search_setup, tmp_path, monkeypatch):
    """The trial cut short is in trials.csv as failed, with no score, and does not count."""
    _, write_config = search_setup
    fit = sigterm_in_trial(monkeypatch, 3)
    result = start(write_config(epochs=30), tmp_path / "runs", trials=5)
    assert result.status == "interrupted"
    s = summary(result.dir)
    assert s["status"] == "interrupted" and s["finished"] == 2 and s["cut_short"] == 1
    table = rows(result.dir)
    assert [(r["number"], r["state"]) for r in table] == [("0", "complete"), ("1", "complete"),
                                                          ("2", "failed")]
    assert table[2]["note"] == "cut short; re-run (not counted)" and table[2]["val_acc"] == ""
    monkeypatch.setattr(training_setup, "fit", fit)
    done = run_search(resume_search(result.dir, None, {}))
    table = rows(done.dir)
    assert done.status == "completed" and [r["number"] for r in table] == list("012345")
    assert [r["state"] for r in table].count("failed") == 1 and table[2]["state"] == "failed"
    s = summary(done.dir)
    assert s["finished"] == 5 and s["not_counted"] == s["cut_short"] == 1
    # the trial cut short ran again with its parameters: the same five as a search
    # that was never stopped
    straight = start(write_config(epochs=30), tmp_path / "straight", trials=5)
    counted = lambda t: sorted(r["optimizer.lr"] for r in t if r["state"] != "failed")  # noqa: E731
    assert counted(table) == counted(rows(straight.dir))
    assert table[3]["optimizer.lr"] == table[2]["optimizer.lr"]


@pytest.mark.parametrize("args, words", [
    (["--sampler", "grid"], "--sampler 'grid': choose one of random, tpe"),
    (["--pruner", "early"], "--pruner 'early': choose one of none, median, hyperband"),
    (["--trials", "2", "--rounds", "3"], "at least one trial per round"),
    (["--keep", "1.5"], "--keep 1.5"),
    (["--set", "optimizer.lr=0.5"], "optimizer.lr is searched, so every trial sets it"),
])
def test_bad_options_are_one_line_errors(search_setup, tmp_path, args, words):
    _, write_config = search_setup
    res = runner.invoke(app, ["search", "--config", str(write_config()), *args,
                              "--runs-dir", str(tmp_path / "runs")])
    assert words in one_line_error(res)
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").iterdir())


def test_resume_refuses_other_folders_configs_and_options(search_setup, tmp_path):
    _, write_config = search_setup
    plain = tmp_path / "plain"
    plain.mkdir()
    res = runner.invoke(app, ["search", "--resume", str(plain)])
    assert "not a search folder" in one_line_error(res)
    d = start(write_config(), tmp_path / "runs", trials=2).dir
    other = write_config("other.yaml", epochs=5)
    res = runner.invoke(app, ["search", "--resume", str(d), "--config", str(other)])
    assert "started with a different config" in one_line_error(res)
    res = runner.invoke(app, ["search", "--resume", str(d), "--sampler", "tpe"])
    assert "--sampler random, not tpe" in one_line_error(res)
    with folder_lock(d, "search"):                                  # as if another search still ran
        res = runner.invoke(app, ["search", "--resume", str(d), "--trials", "3"])
    assert "another dlexp search is working in this folder" in one_line_error(res)
    no_search = tmp_path / "plain.yaml"
    no_search.write_text("optimizer: {name: sgd}\n")
    res = runner.invoke(app, ["search", "--config", str(no_search)])
    assert "no search: section; add one (see `dlexp configs show search`)" in \
        one_line_error(res)


def test_tpe_sampler_runs_and_stays_in_range(search_setup, tmp_path):
    _, write_config = search_setup
    result = start(write_config(), tmp_path / "runs", trials=12, sampler="tpe")
    table = rows(result.dir)
    assert len(table) == 12 and summary(result.dir)["sampler"] == "tpe"
    assert all(1e-3 <= float(r["optimizer.lr"]) <= 1.0 for r in table)


REAL_MNIST = Path(os.environ.get("DLEXP_DATA_DIR", "/nonexistent"))


@pytest.mark.slow
@pytest.mark.skipif(not (REAL_MNIST / "train-images-idx3-ubyte.gz").is_file(),
                    reason="real MNIST not found (set DLEXP_DATA_DIR)")
def test_the_books_search_on_real_mnist_finds_the_good_learning_rates(tmp_path):
    from dlexp.bundled import bundled
    result = start(bundled("search"), tmp_path / "runs", trials=10)
    table = rows(result.dir)
    assert len(table) == 10
    assert sorted(int(r["epochs"]) for r in table) == [50] * 10
    acc = {float(r["optimizer.lr"]): float(r["val_acc"]) for r in table}
    assert all(a < 0.3 for lr, a in acc.items() if lr < 1e-4)   # too slow to learn in time
    best_lr = max(acc, key=acc.get)
    assert 1e-3 < best_lr <= 1e-2 and acc[best_lr] >= 0.75
