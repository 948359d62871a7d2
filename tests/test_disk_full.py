"""A full disk at any point: one line naming the file, the run marked failed with that
reason, every earlier file whole, and the work resumable once space is freed. The disk
fills by a failing write (ENOSPC) of a chosen file."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from dlexp import io


def disk_full_for(monkeypatch, prefix: str, after: int = 0) -> list[str]:
    """Make writes of files whose name starts with ``prefix`` fail as on a full disk
    (the ``after`` first ones still succeed) until ``.clear()`` is called on the list
    returned, which holds the names that failed."""
    real_fsync, real_write, failed, seen = io.os.fsync, io.os.write, ["full"], []

    def full(name: str) -> bool:
        if not failed or not Path(name).name.lstrip(".").startswith(prefix):
            return False
        seen.append(name)
        if len(seen) <= after:
            return False
        failed.append(Path(name).name)
        return True

    def fsync(fd):                                   # atomic writes: the temp file's flush
        if full(os.readlink(f"/proc/self/fd/{fd}")):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    def write(fd, data):                             # appends: one write per line
        if full(os.readlink(f"/proc/self/fd/{fd}")):
            return real_write(fd, data[:len(data) // 2])     # torn: half the line fits
        return real_write(fd, data)

    monkeypatch.setattr(io.os, "fsync", fsync)
    monkeypatch.setattr(io.os, "write", write)
    return failed


def test_disk_full_while_writing_the_model_keeps_the_test_accuracy(tiny_data_env,
                                                                   tiny_config, tmp_path,
                                                                   monkeypatch, cli):
    failed = disk_full_for(monkeypatch, "model.npz")
    runs = tmp_path / "runs"
    line = cli.one_line_error(cli.train(tiny_config, runs), code=1)
    assert "model.npz: cannot write (No space left on device)" in line
    assert failed[1].startswith(".model.npz.")
    (run,) = runs.iterdir()
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "failed" and "model.npz" in summary["stop_reason"]
    assert 0 <= summary["test_acc"] <= 1 and summary["epochs"] == 2
    assert not (run / "model.npz").exists() and not list(run.glob(".*.tmp"))
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 2
    from dlexp.experiments.folders import describe
    assert describe(run).status == "failed"


def test_disk_full_while_appending_metrics_leaves_whole_lines(tiny_data_env, tiny_config,
                                                              tmp_path, monkeypatch, cli):
    disk_full_for(monkeypatch, "metrics.jsonl", after=1)       # the second record is torn
    runs = tmp_path / "runs"
    line = cli.one_line_error(cli.train(tiny_config, runs), code=1)
    assert "metrics.jsonl: cannot write" in line
    (run,) = runs.iterdir()
    text = (run / "metrics.jsonl").read_text()
    assert text.endswith("\n") and len(text.splitlines()) == 1       # cut back to whole
    assert json.loads(text)["epoch"] == 1
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "failed" and "metrics.jsonl" in summary["stop_reason"]


def test_a_failed_append_never_joins_the_next_line(tmp_path, monkeypatch):
    path = tmp_path / "runs.jsonl"
    io.append_jsonl(path, {"run": "a"})
    full = disk_full_for(monkeypatch, "runs.jsonl")
    with pytest.raises(io.WriteError, match="runs.jsonl: cannot write"):
        io.append_jsonl(path, {"run": "b", "pad": "x" * 100})
    full.clear()                                               # space freed
    io.append_jsonl(path, {"run": "c"})
    assert [json.loads(x)["run"] for x in path.read_text().splitlines()] == ["a", "c"]


def test_disk_full_in_a_comparison_fails_that_sub_run_and_resume_finishes_it(
        tiny_data_env, tmp_path, monkeypatch):
    from dlexp.experiments.sweep import CompareOptions, Sweep, run_sweep
    from dlexp.experiments.variants import grid

    def run_compare(base, variants, **opts):
        return run_sweep(base, Sweep("compare", variants), CompareOptions(**opts))

    tiny = {"name": "tiny", "seed": 3, "data": {"val_size": 40}, "model": {"hidden": [8]},
            "training": {"iterations": 8, "batch_size": 20, "eval_every": 4}}
    variants = grid({"optimizer.lr": [0.1, 0.05]})
    straight = run_compare(tiny, variants, out_dir=tmp_path / "straight", jobs=1)
    full = disk_full_for(monkeypatch, "steps.csv", after=1)    # the second sub-run's
    result = run_compare(tiny, variants, out_dir=tmp_path / "c", jobs=1)
    assert [r["status"] for r in result.runs] == ["completed", "failed"]
    assert "steps.csv: cannot write (No space left" in result.runs[1]["error"]
    sub = json.loads((result.dir / "0.05" / "summary.json").read_text())
    assert sub["status"] == "failed" and sub["test_acc"] is not None
    full.clear()                                               # space freed
    resumed = run_compare(tiny, variants, jobs=1, resume=result.dir)
    assert resumed.status == "completed"
    assert [r["test_acc"] for r in resumed.runs] == [r["test_acc"] for r in straight.runs]


def test_disk_full_in_a_search_is_one_line_and_resumes_to_the_exact_total(search_setup,
                                                                          tmp_path,
                                                                          monkeypatch, cli):
    from optuna.storages.journal import JournalFileBackend
    _, write_config = search_setup
    real, calls = JournalFileBackend.append_logs, []

    def append_logs(self, logs):                  # the journal's 16th write finds no space
        calls.append(1)
        if len(calls) == 16 and full:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(self, logs)

    full = [True]
    monkeypatch.setattr(JournalFileBackend, "append_logs", append_logs)
    runs = tmp_path / "runs"
    res = cli("search", "--config", write_config(), "--trials", "4", "--runs-dir", runs,
              "-q", "--no-plots")
    assert res.exit_code == 1 and "Traceback" not in res.output, (len(calls), res.output)
    assert "journal.log: cannot write (No space left on device)" in res.stderr
    (d,) = runs.iterdir()
    summary = json.loads((d / "summary.json").read_text())
    assert summary["status"] == "failed" and "journal.log" in summary["error"]
    done = summary["finished"]
    assert 0 < done < 4
    full.clear()                                                # space freed
    res = cli("search", "--resume", d, "-q", "--no-plots")
    assert res.exit_code == 0, res.output
    summary = json.loads((d / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["finished"] == 4
