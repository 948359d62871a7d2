"""One lock per folder: a second command writing into a folder another one is working in
is refused with one line, and changes nothing there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dlexp.config import load_config
from dlexp.errors import ConfigError, RunError
from dlexp.experiments.sweep import CompareOptions, Sweep, run_sweep
from dlexp.experiments.variants import grid
from dlexp.io import folder_lock
from dlexp.train.runner import train_run

TINY = {"name": "tiny", "seed": 3, "data": {"val_size": 40}, "model": {"hidden": [8]},
        "training": {"iterations": 8, "batch_size": 20, "eval_every": 4}}


def snapshot(folder: Path) -> dict:
    """Every file under ``folder`` with its bytes (what a refused command must not touch)."""
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_folder_lock_refuses_a_second_holder_and_is_released(tmp_path):
    with folder_lock(tmp_path, "comparison"):
        with pytest.raises(RunError, match="another dlexp comparison is working in this folder"):
            with folder_lock(tmp_path, "comparison"):
                pass
    with folder_lock(tmp_path, "comparison"):        # free again
        pass
    assert list(tmp_path.iterdir()) == []           # and no lock file left behind


def test_a_refused_comparison_resume_changes_nothing(tiny_data_env, tmp_path):
    variants = grid({"optimizer.lr": [0.1, 0.05]})

    def run_compare(base, variants, **opts):
        return run_sweep(base, Sweep("compare", variants), CompareOptions(**opts))

    d = run_compare(TINY, variants, out_dir=tmp_path / "c", jobs=1).dir
    lines = (d / "runs.jsonl").read_text().splitlines()
    (d / "runs.jsonl").write_text(lines[0] + "\n")       # the second run left to do
    before = snapshot(d)
    with folder_lock(d, "comparison"):                   # as if another one were resuming it
        with pytest.raises(RunError, match=f"{d}: another dlexp comparison"):
            run_compare(TINY, variants, jobs=1, resume=d)
    assert snapshot(d) == before                         # no sub-run deleted or rewritten
    result = run_compare(TINY, variants, jobs=1, resume=d)   # once free, it resumes
    assert result.status == "completed"


def test_a_run_folder_in_use_is_refused(tiny_data_env, tiny_config, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    with folder_lock(run, "comparison"):
        with pytest.raises(RunError, match="another dlexp"):
            train_run(load_config(tiny_config), run_dir=run, progress=False)
    assert list(run.iterdir()) == []


def test_a_model_too_large_for_memory_is_refused_before_any_folder(tiny_data_env,
                                                                   tiny_config, tmp_path,
                                                                   monkeypatch):
    from dlexp.train import runner
    cfg = load_config(tiny_config, ["model.hidden=[100000000]"])
    assert runner.model_bytes(cfg, 784) > 10 ** 12                  # a terabyte and more
    monkeypatch.setattr(runner, "available_memory", lambda: 8 * 2 ** 30)
    with pytest.raises(ConfigError, match=r"model.hidden=\[100000000\] needs about .* GiB"):
        train_run(cfg, runs_root=tmp_path / "runs", progress=False)
    assert not (tmp_path / "runs").exists()
    small = load_config(tiny_config)
    assert runner.model_bytes(small, 784) < 2 ** 30


def test_a_refused_search_resume_leaves_search_json_as_it_was(search_setup, tmp_path):
    from typer.testing import CliRunner

    from dlexp.cli import app
    from dlexp.search.runner import run_search
    from dlexp.search.searchdir import new_search
    _, write_config = search_setup
    config = write_config()
    d = run_search(new_search(load_config(config), str(config), {"trials": 2},
                              tmp_path / "runs")).dir
    before = (d / "search.json").read_bytes()
    with folder_lock(d, "search"):
        res = CliRunner().invoke(app, ["search", "--resume", str(d), "--trials", "3", "-q"])
    assert res.exit_code == 2 and "another dlexp search" in res.stderr
    assert (d / "search.json").read_bytes() == before
    assert json.loads(before)["trials"] == 2


def test_a_signal_to_the_parent_stops_its_worker_processes(tiny_data_env, tmp_path,
                                                           monkeypatch):
    """--jobs 2: SIGINT in the parent as the first sub-run's result arrives; the workers
    share the stop record, so no sub-run starts after it and the comparison ends
    interrupted, with its summary."""
    import signal

    from dlexp.experiments import pool
    real, seen = pool._result, []

    def result_then_ctrl_c(fut):                # in the parent, as each sub-run ends
        seen.append(real(fut))
        if len(seen) == 1:
            signal.raise_signal(signal.SIGINT)
        return seen[-1]

    monkeypatch.setattr(pool, "_result", result_then_ctrl_c)
    variants = grid({"optimizer.lr": [0.1, 0.05, 0.02, 0.01, 0.005, 0.002]})
    slow = {**TINY, "training": {**TINY["training"], "iterations": 400}}
    result = run_sweep(slow, Sweep("compare", variants),
                       CompareOptions(out_dir=tmp_path / "c", jobs=2, quiet=True))
    statuses = [r["status"] for r in result.runs]
    assert result.status == "interrupted" and "skipped" in statuses
    assert set(statuses) <= {"completed", "interrupted", "skipped"}
    assert statuses.count("completed") <= 3              # the first, and at most one each
    summary = json.loads((result.dir / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    for r in result.runs:                                   # whatever ran is a whole folder
        if r["status"] != "skipped":
            sub = json.loads((result.dir / r["run"] / "summary.json").read_text())
            assert sub["status"] == r["status"]
        if r["status"] == "interrupted":
            assert r["error"] == "interrupted by SIGINT"       # the parent's signal, named
