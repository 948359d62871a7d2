"""Comparisons: variants and grids, the folder layout, parallel = serial, failures, the CLI."""

from __future__ import annotations

import csv
import json
import re
from unittest.mock import ANY
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from dlexp.cli import app
from dlexp.config import config_from_dict, load_config, read_yaml_mapping
from dlexp.bundled import bundled
from dlexp.errors import ConfigError, RunError
from dlexp.experiments import pool
from dlexp.experiments.aggregate import read_step_losses, smooth_losses
from dlexp.experiments.sweep import CompareOptions, Sweep, run_sweep
from dlexp.experiments.optimizers import optimizer_variants
from dlexp.experiments.report import run_and_report
from dlexp.experiments.variants import (Variant, grid, optimizer_notes, parse_vary,
                                        variant_config)

TINY = {"name": "tiny", "seed": 3, "data": {"val_size": 40},
        "model": {"hidden": [16, 16]},
        "training": {"iterations": 24, "batch_size": 20, "eval_every": 8,
                     "train_eval": "running"}}


@pytest.fixture
def tiny_env(tiny_mnist, monkeypatch):
    monkeypatch.setenv("DLEXP_DATA_DIR", str(tiny_mnist))
    return tiny_mnist


def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


# --- variants ---------------------------------------------------------------------------

def test_grid_is_the_product_of_values_and_seeds():
    vs = grid({"model.init_std": [0.01, 0.1], "model.batchnorm": [True, False]}, seeds=[0, 1])
    assert len(vs) == 8
    assert vs[0] == Variant("init_std=0.01_batchnorm=true",
                            {"model.init_std": 0.01, "model.batchnorm": True}, 0)
    assert [v.run_name for v in vs[:3]] == ["init_std=0.01_batchnorm=true-seed0",
                                            "init_std=0.01_batchnorm=true-seed1",
                                            "init_std=0.01_batchnorm=false-seed0"]
    one = grid({"optimizer.name": ["sgd", "adam"]})
    assert [(v.label, v.run_name, v.seed) for v in one] == [("sgd", "sgd", None),
                                                              ("adam", "adam", None)]
    assert [v.label for v in grid({})] == ["base"]
    assert [v.label for v in grid({"model.hidden": [[50, 50], [100]], "seed": [-1]})] == [
        "hidden=50x50_seed=-1", "hidden=100_seed=-1"]
    assert [v.label for v in grid({"optimizer.lr": [0.1, -1]})] == ["0.1", "lr=-1"]
    with pytest.raises(ConfigError, match="no values"):
        grid({"optimizer.lr": []})
    assert [v.seed for v in grid({"seed": [1, 2]}, None)] == [None, None]   # seed via vary
    with pytest.raises(ConfigError, match="--vary seed=… with --seeds"):
        grid({"seed": [1, 2]}, seeds=[0, 1])                 # --seeds would overwrite it


def test_parse_vary_reads_yaml_values_and_keeps_bracketed_commas():
    got = parse_vary(["optimizer.lr=0.1,0.01", "model.hidden=[50, 50],[100]",
                      "model.batchnorm=true,false"])
    assert got == {"optimizer.lr": [0.1, 0.01], "model.hidden": [[50, 50], [100]],
                   "model.batchnorm": [True, False]}


@pytest.mark.parametrize("item, message", [
    ("optimizer.lr", "expected KEY=V1,V2"), ("=1,2", "expected KEY=V1,V2"),
    ("optimizer.lr=", "empty value"), ("optimizer.lr=0.1,,0.2", "empty value"),
    ("a..b=1", "expected KEY=V1,V2")])
def test_parse_vary_rejects_bad_syntax(item, message):
    with pytest.raises(ConfigError, match=message):
        parse_vary([item])
    with pytest.raises(ConfigError, match="given twice"):
        parse_vary(["seed=1,2", "seed=3"])


def test_parse_vary_empty_value_hint_shows_the_key():
    with pytest.raises(ConfigError, match=r"e\.g\. optimizer\.lr=a,b"):
        parse_vary(["optimizer.lr=0.1,,0.2"])


def test_each_optimizer_gets_its_own_default_lr_from_the_preset():
    base = read_yaml_mapping(bundled("compare-optimizers"))
    assert "lr" not in base["optimizer"]
    vs = optimizer_variants(["sgd", "momentum", "adagrad", "adam", "rmsprop", "nesterov"],
                            {"adam": {"lr": 0.002}}, None, base)
    lrs = {v.label: variant_config(base, v).optimizer.lr for v in vs}
    assert lrs == {"sgd": 0.01, "momentum": 0.01, "adagrad": 0.01, "adam": 0.002,
                   "rmsprop": 0.001, "nesterov": 0.01}
    cfg = variant_config(base, vs[1])
    assert cfg.optimizer.hyper["momentum"] == 0.9 and cfg.training.iterations == 2000
    base["optimizer"]["lr"] = 0.05                  # --set optimizer.lr sets them all
    vs = optimizer_variants(["rmsprop", "adam"], {}, [0], base)
    assert [variant_config(base, v).optimizer.lr for v in vs] == [0.05, 0.05]


def test_changing_optimizer_drops_settings_it_does_not_have():
    base = load_config(None, ["optimizer.name=adam", "optimizer.beta1=0.8"])
    sgd = variant_config(base, Variant("sgd", {"optimizer.name": "sgd"}, 7))
    assert sgd.optimizer.name == "sgd" and sgd.optimizer.lr == base.optimizer.lr
    assert sgd.seed == 7 and sgd.name == "sgd-seed7"
    with pytest.raises(ConfigError, match="unknown key 'optimizer.lrr'"):
        variant_config(base, Variant("x", {"optimizer.lrr": 1.0}))
    with pytest.raises(ConfigError, match="is a value, not a section"):
        variant_config(base, Variant("x", {"seed.x": 1}))
    with pytest.raises(ConfigError, match="cannot name a run folder"):
        variant_config(base, Variant("../up", {}))


def test_optimizer_notes_name_the_shared_lr_and_each_dropped_setting():
    base = {"optimizer": {"name": "adam", "lr": 0.001, "beta1": 0.8}}
    notes = optimizer_notes(base, grid({"optimizer.name": ["sgd", "adam", "momentum"]}, [0, 1]))
    assert len(notes) == 2
    assert notes[0].startswith("note: optimizer.lr=0.001 from the base config applies to "
                               "every variant; vary it with --vary optimizer.lr=")
    assert notes[1] == ("note: optimizer.beta1=0.8 from the base config is not a setting "
                        "of sgd, momentum; dropped for their variants")
    varied_lr = grid({"optimizer.name": ["sgd", "adam"], "optimizer.lr": [0.1, 0.01]})
    assert not any("optimizer.lr" in n for n in optimizer_notes(base, varied_lr))
    assert optimizer_notes({"optimizer": {"name": "sgd"}}, grid({"optimizer.name": ["adam"]})
                           ) == []
    assert optimizer_notes(base, grid({"optimizer.lr": [0.1, 0.2]})) == []


# --- smoothing --------------------------------------------------------------------------

def test_smoothed_loss_is_a_trailing_bias_corrected_average():
    rng = np.random.default_rng(0)
    x = rng.random(40) + np.linspace(3, 0, 40)
    w = 9
    s = smooth_losses(x, w)
    beta = 1 - 2 / (w + 1)
    for t in (0, 5, 39):                                     # the closed form, 0-based t
        weights = beta ** np.arange(t, -1, -1)               # β^{t−i}, i = 0…t
        assert s[t] == pytest.approx(np.sum(weights * x[:t + 1]) / weights.sum(), rel=1e-12)
    assert s[0] == x[0]                                       # no look-ahead at the start
    later = x.copy()
    later[20:] += 100.0
    np.testing.assert_array_equal(smooth_losses(later, w)[:20], s[:20])   # causal
    np.testing.assert_array_equal(smooth_losses(x, 1), x)
    assert np.all(smooth_losses(np.full(30, 2.3), 50) == pytest.approx(2.3))


# --- running ----------------------------------------------------------------------------

def run_compare(base, variants, label_column="variant", report_keys=(), window=50, **opts):
    """A sweep named ``compare`` of ``variants``; ``opts`` as CompareOptions takes them."""
    return run_sweep(base, Sweep("compare", variants, label_column, report_keys),
                     CompareOptions(smooth=window, **opts))


def _two_by_two(tmp_path: Path, jobs: int, folder: str):
    variants = grid({"optimizer.name": ["sgd", "adam"]}, seeds=[0, 1])
    return run_compare(TINY, variants, out_dir=tmp_path / folder, jobs=jobs, window=6,
                       label_column="optimizer", report_keys=["optimizer.lr"])


def test_ctrl_c_after_training_waits_for_the_summary_and_figures(tiny_env, tmp_path):
    """A SIGINT while the results are written (here: while the figures are drawn) lets
    them be written, and is reported on the result."""
    import signal
    finished = []

    def draw(names, out_dir, band, interrupted):
        signal.raise_signal(signal.SIGINT)                   # Ctrl-C arrives now
        (out_dir / "figure.png").write_text("drawn")         # the work still completes
        finished.append(interrupted)

    result = run_compare(TINY, grid({"optimizer.lr": [0.1]}), out_dir=tmp_path / "c",
                         jobs=1, draw=draw)
    assert result.signalled and finished == [False]
    assert (tmp_path / "c" / "figure.png").read_text() == "drawn"
    assert json.loads((tmp_path / "c" / "summary.json").read_text())["status"] == "completed"


SIGNALS_BETWEEN_SUB_RUNS = """
import csv, json, signal, sys
from pathlib import Path
from dlexp.experiments import pool
from dlexp.experiments.sweep import CompareOptions, Sweep, run_sweep
from dlexp.experiments.variants import grid

real = pool.run_one
def run_one(cfg, run_dir):                    # SIGTERM as the first sub-run ends
    out = real(cfg, run_dir)
    if run_dir.name == "0.1":
        signal.raise_signal(signal.SIGTERM)
    return out
pool.run_one = run_one

def draw(names, out_dir, band, interrupted):
    runs = [r["status"] for r in csv.DictReader(open(out_dir / "runs.csv"))]
    print(json.loads((out_dir / "summary.json").read_text())["status"], runs, flush=True)
    if sys.argv[2] == "twice":
        signal.raise_signal(signal.SIGINT)    # a second signal while figures are drawn
    (out_dir / "figure.png").write_text("drawn")

r = run_sweep(json.loads(sys.argv[3]), Sweep("compare", grid({"optimizer.lr": [0.1, 0.05, 0.02]})),
              CompareOptions(out_dir=Path(sys.argv[1]), jobs=1, quiet=True, draw=draw))
print("returned", r.signalled)
"""


@pytest.mark.parametrize("times", ["once", "twice"])
def test_sigterm_between_serial_sub_runs_ends_with_summary_tables_and_figures(
        tiny_env, tmp_path, times):
    """SIGTERM as the first of three sub-runs ends (--jobs 1): the others are skipped,
    the tables, summary and figures are written; a second signal exits at once (130)
    with every file written so far whole."""
    import subprocess
    import sys
    out = tmp_path / "c"
    proc = subprocess.run([sys.executable, "-c", SIGNALS_BETWEEN_SUB_RUNS, str(out), times,
                           json.dumps(TINY)], capture_output=True, text=True, timeout=300)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "interrupted ['completed', 'skipped', 'skipped']"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["statuses"] == {"completed": 1,
                                                                          "skipped": 2}
    assert "finished" not in json.loads((out / "meta.json").read_text())
    assert [r["status"] for r in _rows(out / "runs.csv")] == ["completed", "skipped",
                                                               "skipped"]
    if times == "once":
        assert proc.returncode == 0 and lines[1:] == ["returned False"]
        assert (out / "figure.png").read_text() == "drawn"
    else:
        assert proc.returncode == 130 and lines[1:] == []
        assert not (out / "figure.png").exists()
    assert not list(out.rglob("*.tmp"))


def test_resume_reruns_only_what_did_not_finish_and_equals_a_straight_run(tiny_env,
                                                                         tmp_path, capsys):
    """An interrupted comparison (here: one run recorded as interrupted, one never
    recorded, as after kill -9) is finished by --resume: the completed runs are kept
    untouched, the others trained again, and every number equals a straight run's."""
    variants = grid({"optimizer.lr": [0.1, 0.05, 0.02]})
    straight = run_compare(TINY, variants, out_dir=tmp_path / "straight", jobs=1)
    d = run_compare(TINY, variants, out_dir=tmp_path / "cut", jobs=1).dir
    lines = (d / "runs.jsonl").read_text().splitlines()
    cut = json.loads(lines[1])
    cut.update(status="interrupted", test_acc=None)
    (d / "runs.jsonl").write_text(lines[0] + "\n" + json.dumps(cut) + "\n")   # 3rd: lost
    (d / "0.05" / "metrics.jsonl").write_text("{}\n")                  # a partial folder
    marker = (d / "0.1" / "model.npz").stat().st_mtime_ns
    meta = json.loads((d / "meta.json").read_text())
    assert meta.pop("finished") >= meta["started"]                   # finished, then cut
    (d / "meta.json").write_text(json.dumps(meta))
    capsys.readouterr()
    result = run_compare(TINY, variants, jobs=1, resume=d)
    redone = [line.split()[1] for line in capsys.readouterr().err.splitlines()
              if line.startswith("[")]                     # "[k/n] run: status …"
    assert sorted(redone) == ["0.02:", "0.05:"]
    assert (d / "0.1" / "model.npz").stat().st_mtime_ns == marker        # kept as it was
    assert result.status == "completed" and not result.failed
    fields = ["run", "status", "steps", "final_train_loss", "best_val_acc", "test_acc"]
    assert ([{k: r[k] for k in fields} for r in result.runs]
            == [{k: r[k] for k in fields} for r in straight.runs])
    assert _rows(d / "loss.csv") == _rows(straight.dir / "loss.csv")
    assert json.loads((d / "meta.json").read_text()) == {**meta, "finished": ANY}


def test_resume_refuses_another_comparison_or_a_plain_folder(tiny_env, tmp_path):
    d = run_compare(TINY, grid({"optimizer.lr": [0.1]}), out_dir=tmp_path / "c", jobs=1).dir
    with pytest.raises(ConfigError, match="was started with another set of runs"):
        run_compare(TINY, grid({"optimizer.lr": [0.2]}), jobs=1, resume=d)
    with pytest.raises(ConfigError, match="another base config"):
        run_compare({**TINY, "seed": 5}, grid({"optimizer.lr": [0.1]}), jobs=1, resume=d)
    with pytest.raises(ConfigError, match="no such folder"):
        run_compare(TINY, grid({"optimizer.lr": [0.1]}), jobs=1, resume=tmp_path / "nope")
    with pytest.raises(ConfigError, match="not a comparison folder"):
        run_compare(TINY, grid({"optimizer.lr": [0.1]}), jobs=1, resume=tmp_path)
    (d / "compare.json").write_text('{"name": "c", "vari')           # torn by a crash
    with pytest.raises(RunError, match=r"compare.json: damaged \(not JSON\)"):
        run_compare(TINY, grid({"optimizer.lr": [0.1]}), jobs=1, resume=d)


def test_layout_csvs_and_plots(tiny_env, tmp_path):
    result = _two_by_two(tmp_path, 1, "serial")
    d = result.dir
    assert result.status == "completed" and not result.failed
    for run in ("sgd-seed0", "sgd-seed1", "adam-seed0", "adam-seed1"):
        for f in ("config.yaml", "metrics.jsonl", "steps.csv", "summary.json", "model.npz"):
            assert (d / run / f).is_file(), (run, f)
    assert len((d / "runs.jsonl").read_text().splitlines()) == 4
    assert json.loads((d / "summary.json").read_text())["status"] == "completed"

    loss = _rows(d / "loss.csv")
    assert len(loss) == 2 * 24 and {r["n"] for r in loss} == {"2"}
    sgd = [r for r in loss if r["label"] == "sgd"]
    per_seed = np.array([read_step_losses(d / f"sgd-seed{k}") for k in (0, 1)])   # (2, 24)
    np.testing.assert_allclose([float(r["raw"]) for r in sgd], per_seed.mean(0), rtol=1e-5)
    smooth = np.array([smooth_losses(c, 6) for c in per_seed])
    np.testing.assert_allclose([float(r["smooth_max"]) for r in sgd], smooth.max(0), rtol=1e-5)

    val = _rows(d / "val_accuracy.csv")
    assert [int(r["step"]) for r in val if r["label"] == "adam"] == [8, 16, 24]

    summary = _rows(d / "summary.csv")
    assert [r["optimizer"] for r in summary] == ["sgd", "adam"]
    assert [float(r["optimizer.lr"]) for r in summary] == [0.01, 0.001]
    assert float(summary[0]["final_smoothed_loss"]) == pytest.approx(smooth[:, -1].mean(),
                                                                     rel=1e-12)
    tests = [json.loads((d / f"adam-seed{k}" / "summary.json").read_text())["test_acc"]
             for k in (0, 1)]
    assert float(summary[1]["test_acc"]) == pytest.approx(np.mean(tests), rel=1e-5)

    from dlexp.plots.compare import plot_compare, plot_sub_runs
    paths = plot_compare(d, band="std")
    assert paths == [d / "plots" / "loss.png", d / "plots" / "val_accuracy.png"]
    assert d / "sgd-seed0" / "plots" / "loss.png" in plot_sub_runs(d)


def test_parallel_results_equal_serial(tiny_env, tmp_path):
    serial = _two_by_two(tmp_path, 1, "serial")
    parallel = _two_by_two(tmp_path, 2, "parallel")
    assert [r["run"] for r in parallel.runs] == [r["run"] for r in serial.runs]
    for a, b in zip(serial.runs, parallel.runs):
        for key in ("status", "steps", "final_train_loss", "best_val_acc", "test_acc"):
            assert a[key] == b[key], (a["run"], key)
        assert ((serial.dir / a["run"] / "steps.csv").read_text()
                == (parallel.dir / b["run"] / "steps.csv").read_text())
    timeless = lambda rows: [{k: v for k, v in r.items() if k != "seconds"}  # noqa: E731
                             for r in rows]
    assert (timeless(_rows(serial.dir / "summary.csv"))
            == timeless(_rows(parallel.dir / "summary.csv")))
    assert (serial.dir / "loss.csv").read_text() == (parallel.dir / "loss.csv").read_text()


def test_a_failing_run_is_recorded_and_the_rest_complete(tiny_env, tmp_path, monkeypatch):
    real = pool.train_run

    def flaky(cfg, **kw):
        if cfg.optimizer.name == "adam":
            raise RuntimeError("boom")
        return real(cfg, **kw)

    monkeypatch.setattr(pool, "train_run", flaky)
    result = _two_by_two(tmp_path, 1, "flaky")
    status = {r["run"]: r["status"] for r in result.runs}
    assert status == {"sgd-seed0": "completed", "sgd-seed1": "completed",
                      "adam-seed0": "failed", "adam-seed1": "failed"}
    assert result.status == "failed" and "boom" in result.failed[0]["error"]
    failed = json.loads((result.dir / "adam-seed0" / "summary.json").read_text())
    assert failed["status"] == "failed"
    summary = _rows(result.dir / "summary.csv")
    assert summary[1]["status"] == "failed" and summary[1]["test_acc"] == ""


def _signal_in_first_run(monkeypatch, step: int, signum: int) -> None:
    """``signum`` arrives after update ``step`` of the first sub-run (and only there)."""
    import signal

    from dlexp.train.loop import Callback
    real, runs = pool.train_run, []

    class SignalAt(Callback):
        def on_step_end(self, state, loss):
            if state.step == step:
                signal.raise_signal(signum)      # handled before it returns: an exact point

    def train_run(cfg, **kw):
        runs.append(cfg)
        return real(cfg, callbacks=(SignalAt(),) if len(runs) == 1 else (), **kw)

    monkeypatch.setattr(pool, "train_run", train_run)


def test_a_stop_request_interrupts_the_running_run_and_skips_the_rest(tiny_env, tmp_path,
                                                                      monkeypatch):
    import signal
    _signal_in_first_run(monkeypatch, 5, signal.SIGINT)
    result = _two_by_two(tmp_path, 1, "stopped")
    assert [r["status"] for r in result.runs] == ["interrupted", "skipped", "skipped",
                                                  "skipped"]
    assert result.status == "interrupted"
    first = json.loads((result.dir / "sgd-seed0" / "summary.json").read_text())
    assert first["status"] == "interrupted" and first["steps"] == 5
    assert len(read_step_losses(result.dir / "sgd-seed0")) == 5
    assert json.loads((result.dir / "summary.json").read_text())["status"] == "interrupted"


def test_a_stopped_run_names_the_signal_the_comparison_got(tiny_env, tmp_path, monkeypatch):
    import signal
    _signal_in_first_run(monkeypatch, 3, signal.SIGTERM)
    result = _two_by_two(tmp_path, 1, "stopped")
    first = json.loads((result.dir / "sgd-seed0" / "summary.json").read_text())
    assert first["status"] == "interrupted" and first["stop_reason"] == "interrupted by SIGTERM"
    assert result.runs[0]["error"] == "interrupted by SIGTERM"


def test_an_interrupted_comparison_still_gets_its_table_and_figures(tiny_env, tmp_path,
                                                                   monkeypatch, capsys):
    import signal
    _signal_in_first_run(monkeypatch, 10, signal.SIGINT)   # the first run stops at update 10
    plan = Sweep("stopped", grid({"optimizer.name": ["sgd", "adam"]}, seeds=[0, 1]),
                "optimizer")
    from dlexp.plots.compare import draw_figures
    opts = CompareOptions(jobs=1, smooth=6, runs_dir=tmp_path / "runs", draw=draw_figures)
    assert run_and_report(TINY, plan, opts) == 130
    (d,) = (tmp_path / "runs").iterdir()
    first = json.loads((d / "sgd-seed0" / "summary.json").read_text())
    assert first["status"] == "interrupted" and first["best_val_acc"] is not None
    summary = _rows(d / "summary.csv")
    assert summary[0]["status"] == "interrupted×1, skipped×1"
    assert float(summary[0]["best_val_acc"]) == first["best_val_acc"]
    assert (d / "plots" / "loss.png").is_file() and (d / "plots" / "val_accuracy.png").is_file()
    out = capsys.readouterr()
    assert f"{first['best_val_acc']:.3g}" in out.out             # the table shows it too
    assert "interrupted" in out.err


# --- CLI --------------------------------------------------------------------------------

def _write_base(tmp_path: Path) -> Path:
    import yaml
    path = tmp_path / "base.yaml"
    path.write_text(yaml.safe_dump({**TINY, "optimizer": {"name": "sgd"}}))
    return path


def test_cli_diverging_variant_exits_nonzero_naming_it(tiny_env, tmp_path):
    r = CliRunner().invoke(app, ["compare", str(_write_base(tmp_path)), "--vary",
                                 "optimizer.lr=0.01,1e6", "--runs-dir", str(tmp_path / "runs"),
                                 "--jobs", "1", "--quiet"])
    assert r.exit_code == 1
    assert "1 of 2 runs did not complete: 1e6 (diverged" in r.output
    (d,) = (tmp_path / "runs").iterdir()
    runs = {row["run"]: row["status"] for row in _rows(d / "runs.csv")}
    assert runs == {"0.01": "completed", "1e6": "diverged"}
    assert (d / "plots" / "loss.png").is_file()


@pytest.mark.parametrize("vary, message", [
    ("optimizer.lrr=0.1,0.2", "--vary optimizer.lrr=0.1: unknown key 'optimizer.lrr'"),
    ("optimizer.lr=-1,0.1", "--vary optimizer.lr=-1: optimizer.lr: must be > 0"),
    ("optimizer.lr=", "empty value"),
    ("optimizer.lr", "expected KEY=V1,V2"),
    ("optimizer.lr=0.1,-1", "--vary optimizer.lr=-1: optimizer.lr: must be > 0")])
def test_cli_vary_errors_are_one_line_exit_2(tiny_env, tmp_path, vary, message):
    r = CliRunner().invoke(app, ["compare", str(_write_base(tmp_path)), "--vary", vary,
                                 "--runs-dir", str(tmp_path / "runs")])
    assert r.exit_code == 2
    assert r.output.startswith("error: ") and r.output.count("\n") == 1
    assert message in r.output
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("extra, message", [
    (["--name=-x"], "--name '-x': cannot name a run folder"),
    (["--name", ".hidden"], "--name '.hidden': cannot name a run folder"),
    (["--name", "my run"], "--name 'my run': cannot name a run folder"),
    (["--name", "bad/name"], "--name 'bad/name': cannot name a run folder"),
    (["--vary", "seed=1,2", "--seeds", "2"], "--vary seed=… with --seeds")])
def test_cli_compare_refuses_bad_names_and_seed_clashes(tiny_env, tmp_path, extra, message):
    r = CliRunner().invoke(app, ["compare", str(_write_base(tmp_path)), "--vary",
                                 "optimizer.lr=0.1,0.2", *extra,
                                 "--runs-dir", str(tmp_path / "runs")])
    assert r.exit_code == 2, r.output
    assert r.output.startswith("error: ") and r.output.count("\n") == 1
    assert message in r.output
    assert not (tmp_path / "runs").exists()


def test_cli_resume_finishes_a_comparison_and_refuses_other_options(tiny_env, tmp_path):
    base = str(_write_base(tmp_path))
    args = ["compare", base, "--vary", "optimizer.lr=0.1,0.2", "--runs-dir",
            str(tmp_path / "runs"), "--jobs", "1"]
    assert CliRunner().invoke(app, args).exit_code == 0
    (d,) = (tmp_path / "runs").iterdir()
    first = (d / "runs.jsonl").read_text().splitlines()[0]
    (d / "runs.jsonl").write_text(first + "\n")                # the second run was lost
    r = CliRunner().invoke(app, [*args, "--resume", str(d)])
    assert r.exit_code == 0, r.output
    assert f"resuming {d}: 1 of 2 runs already finished" in r.output
    assert "[2/2] 0.2: completed" in r.output
    assert [row["status"] for row in _rows(d / "runs.csv")] == ["completed", "completed"]
    other = [*args[:3], "optimizer.lr=0.1,0.3", *args[4:], "--resume", str(d)]
    r = CliRunner().invoke(app, other)
    assert r.exit_code == 2 and r.output.count("\n") == 1
    assert "started with another set of runs (--vary" in r.output


def test_cli_compare_optimizers_runs_the_preset(tiny_env, tmp_path):
    r = CliRunner().invoke(app, [
        "compare-optimizers", "--optimizers", "sgd,momentum", "--hyper", "momentum.lr=0.05",
        "--iterations", "12", "--seeds", "1", "--jobs", "1", "--quiet",
        "--set", "data.val_size=40", "--set", "training.batch_size=20",
        "--set", "training.eval_every=6", "--runs-dir", str(tmp_path / "runs")])
    assert r.exit_code == 0, r.output
    (d,) = (tmp_path / "runs").iterdir()
    assert re.fullmatch(r"compare-optimizers-\d{8}-\d{6}", d.name)
    assert r.stdout.splitlines()[-1] == str(d) and r.stdout.count(str(d)) == 1   # | tail -1
    summary = _rows(d / "summary.csv")
    assert [(s["optimizer"], float(s["optimizer.lr"])) for s in summary] == [
        ("sgd", 0.01), ("momentum", 0.05)]
    cfg = config_from_dict(read_yaml_mapping(d / "momentum" / "config.yaml"))
    assert cfg.training.iterations == 12 and cfg.model.hidden == (100, 100, 100, 100)
    assert (d / "plots" / "val_accuracy.png").is_file()


def test_cli_compare_notes_dropped_settings_and_fits_80_columns(tiny_env, tmp_path,
                                                                monkeypatch):
    import yaml
    monkeypatch.setenv("COLUMNS", "80")
    base = tmp_path / "base.yaml"
    base.write_text(yaml.safe_dump({**TINY, "optimizer": {"name": "adam", "lr": 0.002}}))
    r = CliRunner().invoke(app, ["compare", str(base), "--vary", "optimizer.name=sgd,adam",
                                 "--vary", "model.batchnorm=true,false",
                                 "--set", "optimizer.beta1=0.8", "--iterations", "8",
                                 "--runs-dir", str(tmp_path / "runs"), "-j", "1"])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert any(line.startswith("note: optimizer.lr=0.002 from the base config applies to "
                               "every variant") for line in lines)
    assert "note: optimizer.beta1=0.8 from the base config is not a setting of sgd; " \
           "dropped for its variants" in lines
    assert "[1/4] name=sgd_batchnorm=true: completed  train loss since last eval" in r.output
    first = next(line for line in lines if line.startswith("[1/4]"))
    assert re.search(r"\(\d+:\d\d elapsed, ~\d+:\d\d left\)$", first)   # counts itself
    (d,) = (tmp_path / "runs").iterdir()
    assert f"comparison folder: {d}" in lines[:3]           # said before anything runs
    summary = _rows(d / "summary.csv")
    assert [float(s["optimizer.lr"]) for s in summary] == [0.002] * 4     # the shared lr
    table = [line for line in lines
             if not line.startswith(("note:", "[", str(d), "comparison folder:"))]
    assert all(len(line) <= 80 and "…" not in line for line in table)
    assert "final" in r.output and "smoothed" in r.output                 # the loss column
    assert "batchnorm=false" in r.output.replace("\n", "")               # labels whole
