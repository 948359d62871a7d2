"""The §6.2–6.4 presets: their variant grids are the book's, and tiny runs of each write
the CSVs, figures and summary numbers (symmetry, speed-up, gaps, ensemble accuracy)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from dlexp.config import config_from_dict, load_config, read_yaml_mapping
from dlexp.data.mnist import MnistArrays
from dlexp.data.splits import make_splits
from dlexp.errors import ConfigError
from dlexp.experiments import batchnorm, inits, overfit
from dlexp.bundled import bundled
from dlexp.experiments.variants import variant_config
from dlexp.nn.model import MLP
from dlexp.train.runner import load_splits, streams


def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _base(name: str) -> dict:
    return read_yaml_mapping(bundled(name))


# --- the grids are the book's -------------------------------------------------------------

def test_compare_inits_grid_and_base():
    base = _base(inits.NAME)
    variants = inits.plan(base, [0, 1]).variants
    assert [v.label for v in variants[::2]] == ["std=0.01", "lecun_normal", "he_normal",
                                                "zeros"]
    cfgs = {v.label: variant_config(base, v) for v in variants if v.seed == 0}
    assert (cfgs["std=0.01"].model.initializer, cfgs["std=0.01"].model.init_std) == (
        "normal", 0.01)
    assert {k: c.model.initializer for k, c in cfgs.items()} == {
        "std=0.01": "normal", "lecun_normal": "lecun_normal", "he_normal": "he_normal",
        "zeros": "zeros"}
    c = cfgs["he_normal"]
    assert c.model.hidden == (100,) * 4 and c.model.activation == "relu"
    assert (c.optimizer.name, c.optimizer.lr) == ("sgd", 0.01)
    assert (c.training.batch_size, c.training.iterations) == (128, 2000)
    for bad, message in (("xavier_normall", "unknown initializer"),
                         ("he_normal=0.1", "only normal takes a std"),
                         ("normal=abc", "not a number"),
                         ("zeros,zeros", "zeros is given twice; remove one"),
                         ("normal=0.01,normal=1e-2", "std=1e-2 repeats std=0.01")):
        with pytest.raises(ConfigError, match=message):
            inits.parse_inits(bad)


def test_batchnorm_grid_is_16_scales_with_and_without():
    scales = batchnorm.weight_scales()
    np.testing.assert_allclose(scales, np.logspace(0, -4, 16))
    variants = batchnorm.bn_variants(scales, None)
    assert len(variants) == 32 and len({v.label for v in variants}) == 32
    assert [v.label for v in variants[:4]] == ["bn-w1", "plain-w1", "bn-w0.541",
                                               "plain-w0.541"]
    base = _base(batchnorm.NAME)
    cfg = variant_config(base, variants[-2])                  # bn, the smallest scale
    assert cfg.model.batchnorm and cfg.model.init_std == pytest.approx(1e-4)
    assert cfg.model.initializer == "normal" and cfg.model.hidden == (100,) * 5
    assert not variant_config(base, variants[-1]).model.batchnorm
    assert (cfg.data.train_size, cfg.data.val_size) == (1000, 0)
    assert (cfg.optimizer.name, cfg.optimizer.lr, cfg.training.batch_size,
            cfg.training.epochs, cfg.training.train_eval) == ("sgd", 0.01, 100, 20, "full")
    assert batchnorm.scale_texts([0.12341, 0.12342]) == ["0.12341", "0.12342"]


def test_overfit_grids_and_the_300_training_images():
    wd = overfit.decay_plan({}, None, l1="1e-3").variants
    assert [(v.label, dict(v.overrides)) for v in wd] == [
        ("l2=0", {"regularization.l2": 0.0}), ("l2=0.1", {"regularization.l2": 0.1}),
        ("l1=0.001", {"regularization.l1": 0.001})]
    do = overfit.dropout_plan({}, [0, 1]).variants
    assert [v.run_name for v in do[::2]] == ["dropout=0-seed0", "dropout=0.15-seed0",
                                             "dropout=0.2-seed0"]
    cfg = variant_config(_base(overfit.CONFIG), do[-1])
    assert cfg.model.dropout == 0.2 and cfg.model.hidden == (100,) * 6
    assert (cfg.optimizer.lr, cfg.training.batch_size, cfg.training.epochs) == (0.01, 100, 200)
    with pytest.raises(ConfigError, match="^--dropout 1.0: model.dropout: must be ≥ 0 and < 1"):
        overfit.dropout_plan(_base(overfit.CONFIG), None, "0.2,1")   # the config's check
    with pytest.raises(ConfigError, match="0 is given twice; remove one"):   # l2=0 twice
        overfit.decay_plan({}, None, l2="0,0.0")

    # make_splits on a 60,000-image stand-in: exactly 300 training images, all from the
    # first 10,300, none of them validation images; the same 300 for every run seed.
    n = 60_000
    y = np.arange(n) % 10
    arrays = MnistArrays(np.arange(n, dtype=np.float32)[:, None], y, np.zeros((5, 1)),
                         np.zeros(5, dtype=np.int64))
    d = cfg.data
    split = make_splits(arrays, val_size=d.val_size, train_size=d.train_size,
                        rng=streams(d.split_seed).split, stratify=d.stratify)
    train, val = split.x_train[:, 0].astype(int), split.x_val[:, 0].astype(int)
    assert (train.size, val.size) == (300, 10_000)
    assert max(train.max(), val.max()) < 10_300 and not set(train) & set(val)
    assert np.bincount(y[train]).min() >= 29                 # stratified: ~30 per class


def test_split_seed_fixes_the_images_across_run_seeds(tiny_data_env):
    overrides = ["data.train_size=150", "data.val_size=100", "training.batch_size=10"]
    a, b = (load_splits(load_config(None, [*overrides, f"seed={s}", "data.split_seed=4"]),
                        progress=False) for s in (0, 1))
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_val, b.y_val)
    c = load_splits(load_config(None, [*overrides, "seed=1"]), progress=False)
    assert not np.array_equal(a.y_val, c.y_val) or not np.array_equal(a.x_val, c.x_val)
    cfgs = [load_config(None, [*overrides, f"seed={s}"]) for s in (0, 1)]
    with pytest.raises(ConfigError, match="data.split_seed"):
        overfit.check_same_split(cfgs)


COMPARISONS = ("compare", "compare-optimizers", "compare-inits", "batchnorm",
               "overfit-weight-decay", "overfit-dropout", "ensemble")
SHARED = {"--iterations", "--epochs", "--seeds", "--smooth", "--name", "--jobs", "-j",
          "--workers", "--runs-dir", "--band", "--quiet", "-q"}


@pytest.mark.parametrize("command", COMPARISONS)
def test_every_comparison_command_takes_the_shared_options(command):
    import typer.main

    from dlexp.cli import app
    click = typer.main.get_command(app).commands[command]
    flags = {flag for param in click.params for flag in param.opts}
    shared = SHARED - {"--smooth"} if command == "batchnorm" else SHARED   # no loss figure
    assert shared <= flags, shared - flags
    (jobs,) = [p for p in click.params if "--jobs" in p.opts]
    assert set(jobs.opts) == {"--jobs", "-j", "--workers"}     # as `dlexp search` names them
    search = typer.main.get_command(app).commands["search"]
    (workers,) = [p for p in search.params if "--workers" in p.opts]
    assert set(workers.opts) == set(jobs.opts)
    if command == "ensemble":                     # its members are its seeds
        (members,) = [p for p in click.params if "--members" in p.opts]
        assert "--seeds" in members.opts


# --- the analyses on hand-made numbers ----------------------------------------------------

def test_hidden_symmetry_counts_distinct_units():
    rng = np.random.default_rng(0)
    column = rng.standard_normal((6, 1))
    same = {"W1": np.repeat(column, 4, axis=1), "W2": np.zeros((4, 4)), "W3": rng.random((4, 3))}
    got = inits.hidden_symmetry(same)
    assert got == {"unit_spread": 0.0, "distinct_units": 1}
    apart = {**same, "W2": rng.standard_normal((4, 4))}
    got = inits.hidden_symmetry(apart)
    assert got["distinct_units"] == 1                          # W1 still has one
    got = inits.hidden_symmetry({**apart, "W1": rng.standard_normal((6, 4))})
    assert got["distinct_units"] == 4 and got["unit_spread"] > 0.5


def test_epochs_to_reach_and_the_speedup_table():
    assert batchnorm.epochs_to_reach([1, 2, 3, 4], [0.2, 0.5, 0.91, 0.95], 0.9) == 3
    assert batchnorm.epochs_to_reach([1, 2], [0.2, 0.5], 0.9) is None
    summary = [{"variant": "bn-w1", "model.init_std": 1.0, "model.batchnorm": True,
                "status": "completed"},
               {"variant": "plain-w1", "model.init_std": 1.0, "model.batchnorm": False,
                "status": "diverged"},
               {"variant": "bn-w0.1", "model.init_std": 0.1, "model.batchnorm": True,
                "status": "completed"},
               {"variant": "plain-w0.1", "model.init_std": 0.1, "model.batchnorm": False,
                "status": "completed"}]
    columns = {"bn-w1": {"final_train_acc": 0.95, "epochs_to_target": 1},
               "bn-w0.1": {"final_train_acc": 0.99, "epochs_to_target": 2},
               "plain-w0.1": {"final_train_acc": 0.92, "epochs_to_target": 6}}
    table = batchnorm.paired_rows(summary, columns)
    assert [(r["init_std"], r["speedup"], r["plain_status"]) for r in table] == [
        (1.0, None, "diverged"), (0.1, 3.0, "completed")]
    overall = batchnorm.speedup_overall(table, 0.9)
    assert (overall["bn_reached"], overall["plain_reached"], overall["only_bn_reached"],
            overall["median_speedup"]) == (2, 1, 1, 3.0)
    assert (overall["bn_fastest_epochs"], overall["bn_fastest_scale"],
            overall["plain_fastest_epochs"], overall["fastest_speedup"]) == (1, 1.0, 6, 6.0)


def test_average_proba_and_accuracy():
    p = [np.array([[0.6, 0.4], [0.1, 0.9]]), np.array([[0.2, 0.8], [0.3, 0.7]])]
    np.testing.assert_allclose(overfit.average_proba(p), [[0.4, 0.6], [0.2, 0.8]])
    assert overfit.accuracy(overfit.average_proba(p), np.array([0, 1])) == 0.5
    assert overfit.accuracy(np.empty((0, 2)), np.empty(0, dtype=int)) is None


# --- tiny runs of each preset -------------------------------------------------------------

TINY = ["--jobs", "1", "--quiet", "--set", "model.hidden=[8, 8]"]


def _one_dir(root: Path) -> Path:
    (d,) = [p for p in root.iterdir() if p.is_dir()]
    return d


def test_compare_inits_zeros_keeps_hidden_units_identical(cli, tiny_data_env, tmp_path):
    r = cli("compare-inits", "--inits", "he_normal,zeros", "--iterations", 12, "--seeds", 1,
            *TINY, "--set", "model.activation=sigmoid", "--set", "data.val_size=40",
            "--set", "training.batch_size=20", "--set", "training.eval_every=6",
            "--runs-dir", tmp_path / "runs")
    assert r.exit_code == 0, r.output
    d = _one_dir(tmp_path / "runs")
    summary = {s["init"]: s for s in _rows(d / "summary.csv")}
    assert summary["zeros"]["distinct_units"] == "1"
    assert summary["he_normal"]["distinct_units"] == "8"
    assert "distinct units: how many different units" in " ".join(r.output.split())
    assert float(summary["he_normal"]["unit_spread"]) > 0.1
    assert json.loads((d / "summary.json").read_text())["identical_hidden_units"] == ["zeros"]
    with np.load(d / "zeros" / "model.npz") as f:
        state = dict(f)
    for w in (state["W1"], state["W2"]):                      # trained, yet all columns equal
        np.testing.assert_allclose(w, np.repeat(w[:, :1], w.shape[1], axis=1), atol=1e-7)
    assert np.abs(state["W2"]).max() > 0                      # sigmoid: they did move
    assert (d / "plots" / "loss.png").is_file() and (d / "loss.csv").is_file()


def test_compare_inits_explains_its_symmetry_columns_only_when_it_shows_them(
        cli, tiny_data_env, tmp_path):
    r = cli("compare-inits", "--inits", "he_normal", "--iterations", 6, "--seeds", 1, *TINY,
            "--set", "optimizer.lr=1e9", "--set", "data.val_size=40",
            "--runs-dir", tmp_path / "runs")
    assert r.exit_code == 1 and "he_normal (diverged" in r.output  # no model: no columns
    assert "distinct" not in r.output and "unit spread" not in r.output


def test_batchnorm_tiny_run_reports_the_speedup(cli, tiny_data_env, tmp_path):
    r = cli("batchnorm", "--scales", 2, "--high", 1e9, "--low", 0.05, "--epochs", 4,
            "--target", 0.3, "--seeds", 1, *TINY, "--set", "data.train_size=100",
            "--set", "training.batch_size=20", "--runs-dir", tmp_path / "runs")
    assert r.exit_code == 0, r.output                          # a diverged run is a result
    assert "as expected, plain-w1e+09 (diverged" in r.output
    d = _one_dir(tmp_path / "runs")
    overall_status = json.loads((d / "summary.json").read_text())
    assert overall_status["status"] == "completed"             # honest: the preset finished
    assert overall_status["statuses"] == {"completed": 3, "diverged": 1}
    assert not (d / "val_accuracy.csv").exists()               # no validation set: no file
    table = _rows(d / "batchnorm.csv")
    assert [float(t["init_std"]) for t in table] == pytest.approx([1e9, 0.05])
    assert table[0]["plain_status"] == "diverged" and table[0]["plain_final_acc"] == ""
    summary = {s["variant"]: s for s in _rows(d / "summary.csv")}
    metrics = [json.loads(line) for line in (d / "bn-w0.05" / "metrics.jsonl").open()]
    acc = [m["train_acc"] for m in metrics]
    assert [m["epoch"] for m in metrics] == [1, 2, 3, 4]
    assert float(summary["bn-w0.05"]["final_train_acc"]) == pytest.approx(acc[-1])
    hit = next((m["epoch"] for m in metrics if m["train_acc"] >= 0.3), None)
    assert summary["bn-w0.05"]["epochs_to_target"] == ("" if hit is None else str(hit))
    overall = json.loads((d / "summary.json").read_text())["batchnorm"]
    assert overall["target"] == 0.3 and overall["scales"] == 2
    assert overall["bn_reached"] == sum(t["bn_epochs"] != "" for t in table)
    for png in ("batchnorm_grid.png", "batchnorm_summary.png"):
        assert (d / "plots" / png).is_file()
    assert not (d / "bn-w0.05" / "plots").exists()             # no per-run plots here
    assert "training accuracy per weight scale" in r.output


@pytest.mark.parametrize("command, extra, labels", [
    ("overfit-weight-decay", ["--l1", "0.001"], ["l2=0", "l2=0.1", "l1=0.001"]),
    ("overfit-dropout", ["--dropout", "0,0.5"], ["dropout=0", "dropout=0.5"])])
def test_overfit_tiny_runs_report_the_gap(cli, tiny_data_env, tmp_path, command, extra,
                                          labels):
    r = cli(command, *extra, "--epochs", 3, "--seeds", 2, *TINY,
            "--set", "data.train_size=200", "--set", "data.val_size=100",
            "--set", "training.batch_size=25", "--runs-dir", tmp_path / "runs")
    assert r.exit_code == 0, r.output
    d = _one_dir(tmp_path / "runs")
    summary = _rows(d / "summary.csv")
    assert [s["variant"] for s in summary] == labels
    gaps = json.loads((d / "summary.json").read_text())["gaps"]
    for s in summary:
        runs = [json.loads((d / f"{s['variant']}-seed{k}" / "summary.json").read_text())
                for k in (0, 1)]
        train = np.mean([x["final_train_acc"] for x in runs])
        val = np.mean([x["final_val_acc"] for x in runs])
        test = np.mean([x["test_acc"] for x in runs])
        assert float(s["gap_val"]) == pytest.approx(train - val, abs=1e-6)
        assert float(s["gap_test"]) == pytest.approx(train - test, abs=1e-6)
        assert gaps[s["variant"]]["gap_val"] == pytest.approx(train - val)
    curves = _rows(d / "train_accuracy.csv")
    assert [int(c["epoch"]) for c in curves if c["label"] == labels[0]] == [1, 2, 3]
    assert {c["n"] for c in curves} == {"2"}
    assert (d / "plots" / "train_val_accuracy.png").is_file()


def test_ensemble_averages_the_members_softmax(cli, tiny_data_env, tmp_path):
    r = cli("ensemble", "--seeds", 3, "--dropout", 0.5, "--epochs", 3, *TINY,
            "--set", "data.train_size=200", "--set", "data.val_size=100",
            "--set", "training.batch_size=25", "--runs-dir", tmp_path / "runs")
    assert r.exit_code == 0, r.output
    d = _one_dir(tmp_path / "runs")
    summary = {s["variant"]: s for s in _rows(d / "summary.csv")}
    assert set(summary) == {"plain", "dropout=0.5"}
    for label in summary:
        val_probs, test_probs = [], []
        for k in range(3):
            run = d / f"{label}-seed{k}"
            cfg = config_from_dict(read_yaml_mapping(run / "config.yaml"))
            model = MLP(cfg.model, 784, 10, np.random.default_rng(99), np.dtype(cfg.dtype))
            with np.load(run / "model.npz") as f:
                model.load_state(dict(f))
            splits = load_splits(cfg, progress=False)
            val_probs.append(model.predict_proba(splits.x_val))
            test_probs.append(model.predict_proba(splits.x_test))
            own = json.loads((run / "summary.json").read_text())["test_acc"]
            assert np.mean(test_probs[-1].argmax(1) == splits.y_test) == pytest.approx(own)
        test_acc = np.mean(np.mean(test_probs, axis=0).argmax(1) == splits.y_test)
        val_acc = np.mean(np.mean(val_probs, axis=0).argmax(1) == splits.y_val)
        assert float(summary[label]["ensemble_test_acc"]) == pytest.approx(test_acc)
        assert float(summary[label]["ensemble_val_acc"]) == pytest.approx(val_acc)
        curve = [c for c in _rows(d / "ensemble.csv") if c["label"] == label]
        assert [c["members"] for c in curve] == ["1", "2", "3"]
        assert float(curve[-1]["val_acc"]) == pytest.approx(val_acc)
    info = json.loads((d / "summary.json").read_text())["ensemble"]
    assert info["plain"]["members"] == 3
    assert (d / "plots" / "ensemble.png").is_file()


def test_ensemble_refuses_members_on_different_images(cli, tiny_data_env, tmp_path):
    r = cli("ensemble", "--members", 2, "--set", "data.split_seed=null",
            "--runs-dir", tmp_path / "runs")
    assert "data.split_seed" in cli.one_line_error(r)
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("args, message", [
    (["compare-inits", "--inits", "he_normal,glorot"], "unknown initializer 'glorot'"),
    (["batchnorm", "--target", "1.5"], "--target 1.5: an accuracy in (0, 1]"),
    (["batchnorm", "--scales", "0"], "Invalid value for '--scales'"),
    (["overfit-dropout", "--dropout", "0,1"],
     "--dropout 1.0: model.dropout: must be ≥ 0 and < 1"),
    (["overfit-weight-decay", "--l2", "0,-1"], "--l2 -1.0: regularization.l2: must be ≥ 0"),
    (["overfit-weight-decay", "--l1", "-1"], "--l1 -1.0: regularization.l1: must be ≥ 0"),
    (["overfit-weight-decay", "--epochs", "0"], "Invalid value for '--epochs'"),
    (["ensemble", "--members", "0"], "Invalid value for '--members'"),
    (["ensemble", "--dropout", "1"], "--dropout 1.0: model.dropout: must be ≥ 0 and < 1")])
def test_preset_input_errors_are_one_line_before_anything_runs(cli, tiny_data_env, tmp_path,
                                                              args, message):
    r = cli(*args, "--runs-dir", tmp_path / "runs")
    assert message in cli.one_line_error(r)
    assert not (tmp_path / "runs").exists()
