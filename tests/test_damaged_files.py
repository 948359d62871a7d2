"""Files read back after a crash: a torn search journal is repaired (a backup kept);
a damaged or misshapen JSON file is one line naming it (exit 2), never a traceback;
``dlexp runs`` lists what it can and marks what it cannot read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dlexp.config import load_config
from dlexp.experiments.sweep import CompareOptions, Sweep, run_sweep
from dlexp.experiments.variants import grid
from dlexp.search.study import JOURNAL, whole_records_end
from dlexp.search.runner import run_search
from dlexp.search.searchdir import new_search

TINY = {"name": "tiny", "seed": 3, "data": {"val_size": 40}, "model": {"hidden": [8]},
        "training": {"iterations": 8, "batch_size": 20, "eval_every": 4}}


def search(write_config, runs: Path, trials: int = 2) -> Path:
    config = write_config()
    plan = new_search(load_config(config), str(config), {"trials": trials}, runs)
    return run_search(plan).dir


def test_whole_records_end_stops_at_the_first_torn_or_foreign_line():
    good = b'{"op": 1}\n{"op": 2}\n'
    assert whole_records_end(good) == len(good)
    assert whole_records_end(good + b'{"op": 3, "wor') == len(good)       # torn, no newline
    assert whole_records_end(good + b'{"op": 3}{"op": 4}\n') == len(good)  # merged
    assert whole_records_end(good + b'[1]\n{"op": 5}\n') == len(good)


def test_a_torn_last_journal_record_is_cut_off_with_a_backup_and_the_search_resumes(
        search_setup, tmp_path, cli):
    _, write_config = search_setup
    d = search(write_config, tmp_path / "runs")
    journal = d / JOURNAL
    whole = journal.read_bytes()
    torn = b'{"op_code":4,"worker_id":"x","study_id":0,"datetime_st'
    journal.write_bytes(whole + torn)                 # disk full in the middle of a record
    res = cli("search", "--resume", d, "--trials", "3", "-q", "--no-plots")
    assert res.exit_code == 0, res.output
    assert "journal.log: its last 1 record(s) were torn" in res.stderr
    (backup,) = d.glob(f"{JOURNAL}.damaged-*")
    assert backup.read_bytes() == whole + torn        # the damaged file is kept
    assert journal.read_bytes().startswith(whole)     # nothing whole was lost …
    assert whole_records_end(journal.read_bytes()) == len(journal.read_bytes())   # … all whole
    assert json.loads((d / "summary.json").read_text())["finished"] == 3


@pytest.mark.parametrize("content", ["[]", '{"format": "dlexp-search/1", "config": 3}',
                                     "{not json"])
def test_a_damaged_search_json_is_one_line(search_setup, tmp_path, cli, content):
    _, write_config = search_setup
    d = search(write_config, tmp_path / "runs")
    (d / "search.json").write_text(content)
    line = cli.one_line_error(cli("search", "--resume", d, "--trials", "3", "-q"))
    assert "search.json" in line


def test_a_damaged_search_summary_is_one_line_and_keeps_the_search(search_setup, tmp_path,
                                                                    cli):
    _, write_config = search_setup
    d = search(write_config, tmp_path / "runs")
    (d / "summary.json").write_text('{"status": "completed", "finished": "two"}')
    before = (d / "summary.json").read_bytes()
    line = cli.one_line_error(cli("search", "--resume", d, "--trials", "3", "-q",
                                  "--no-plots"))
    assert "summary.json: damaged" in line and "'finished'" in line
    res = cli("search", "--resume", d, "--final-test", "-q", "--no-plots")
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "summary.json: damaged" in res.stderr.strip().splitlines()[-1]
    assert (d / "summary.json").read_bytes() == before


@pytest.mark.parametrize("content", ['{"name": "compare", "variants": 5}', "[1, 2]", "{"])
def test_a_damaged_compare_json_is_one_line(tiny_data_env, tmp_path, content):
    from dlexp.errors import DlexpError
    variants = grid({"optimizer.lr": [0.1]})
    d = run_compare(TINY, variants, out_dir=tmp_path / "c", jobs=1).dir
    (d / "compare.json").write_text(content)
    with pytest.raises(DlexpError, match="compare.json: (damaged|missing)") as caught:
        run_compare(TINY, variants, jobs=1, resume=d)
    assert caught.value.exit_code == 2


def run_compare(base, variants, **opts):
    """A sweep named ``compare`` of ``variants``; ``opts`` as CompareOptions takes them."""
    return run_sweep(base, Sweep("compare", variants), CompareOptions(**opts))


def test_misshapen_runs_jsonl_lines_are_rerun(tiny_data_env, tmp_path, capsys):
    variants = grid({"optimizer.lr": [0.1, 0.05]})
    d = run_compare(TINY, variants, out_dir=tmp_path / "c", jobs=1).dir
    first, second = (d / "runs.jsonl").read_text().splitlines()
    (d / "runs.jsonl").write_text(first + "\n" + json.dumps({"run": 5}) + "\n[]\n")
    capsys.readouterr()
    result = run_compare(TINY, variants, jobs=1, resume=d)
    redone = [line.split()[1] for line in capsys.readouterr().err.splitlines()
              if line.startswith("[")]                     # "[k/n] run: status …"
    assert redone == ["0.05:"] and result.status == "completed"


def test_dlexp_runs_lists_every_folder_and_marks_the_damaged_ones(tiny_data_env,
                                                                  tiny_config, tmp_path,
                                                                  cli):
    runs = tmp_path / "runs"
    for _ in range(3):
        assert cli.train(tiny_config, runs).exit_code == 0
    a, b, c = sorted(runs.iterdir())
    (b / "summary.json").write_text('["a list"]')
    (c / "summary.json").write_text('{"status": "completed", "test_acc": "high"}')
    res = cli("runs", "--runs-dir", runs)
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert a.name in out and b.name in out and c.name in out
    assert out.count("damaged") == 1 and "cannot read summary.json" in out
    from dlexp.experiments.folders import describe
    assert describe(c).status == "completed" and describe(c).test_acc is None
    assert describe(a).status == "completed" and describe(a).test_acc is not None


def test_plot_leaves_out_metrics_records_without_an_epoch(tiny_data_env, tiny_config,
                                                          tmp_path, cli):
    runs = tmp_path / "runs"
    assert cli.train(tiny_config, runs).exit_code == 0
    (run,) = runs.iterdir()
    metrics = run / "metrics.jsonl"
    records = [json.loads(line) for line in metrics.read_text().splitlines()]
    odd = {k: v for k, v in records[0].items() if k != "epoch"}
    metrics.write_text("\n".join(json.dumps(r) for r in [odd, *records[1:]]) + "\n")
    res = cli("plot", run, "--out", tmp_path / "o.png")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "o.png").stat().st_size > 0
    from dlexp.train.rundir import read_metrics
    assert read_metrics(run) == records[1:]
