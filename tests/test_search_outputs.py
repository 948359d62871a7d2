"""What a search tells its user: a resume with nothing left to run, the summary's time
and cut-short lines, rounds that keep the best trial so far in range, and the figures'
trial numbers and labels (tiny data, one process)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from rich.console import Console
from typer.testing import CliRunner

import dlexp.plots.search as search_plots
from dlexp.cli import app
from dlexp.fmt import fmt, seconds
from dlexp.search.report import print_summary
from dlexp.search.runner import run_search
from dlexp.search.searchdir import resume_search
from test_search_run import rows, start, summary

runner = CliRunner()
KEYS = ("optimizer.lr", "regularization.l2")


def summary_text(search_dir: Path) -> str:
    """The end-of-search table as printed, on one wide line per row."""
    console = Console(width=400, record=True, file=io.StringIO())
    print_summary(summary(search_dir), console)
    return console.export_text()


@pytest.fixture
def figures(monkeypatch):
    """The figures plot_search makes, by name, kept open to be inspected."""
    made: dict[str, plt.Figure] = {}
    monkeypatch.setattr(search_plots, "save_figure",
                        lambda fig, path, **kw: made.__setitem__(Path(path).stem, fig))
    yield made
    for fig in made.values():
        plt.close(fig)


def test_resume_with_no_trials_left_says_so_in_one_line_and_changes_nothing(search_setup,
                                                                             tmp_path):
    _, write_config = search_setup
    d = start(write_config(), tmp_path / "runs", trials=4).dir
    files = ("search.json", "summary.json", "trials.csv", "curves.json")
    before = {n: (d / n).read_bytes() for n in files}
    res = runner.invoke(app, ["search", "--resume", str(d), "--trials", "3"])
    assert res.exit_code == 0, res.output
    assert res.stderr.splitlines() == ["already 4 finished trials ≥ --trials 3; nothing to do"]
    assert res.stdout == "" and not (d / "plots").exists()
    assert {n: (d / n).read_bytes() for n in files} == before
    res = runner.invoke(app, ["search", "--resume", str(d), "--trials", "3", "--final-test",
                              "-q", "--no-plots"])
    assert res.exit_code == 0, res.output
    assert res.stderr.splitlines()[0] == ("already 4 finished trials ≥ --trials 3; "
                                          "no trials to run")
    s = summary(d)
    assert s["trials"] == s["finished"] == 4 and s["status"] == "completed"
    assert len(rows(d)) == 4 and 0 <= s["final_test"]["test_acc"] <= 1
    flat = lambda out: " ".join(out.replace("│", " ").split())  # noqa: E731  (unwrapped)
    assert "(this run, 1 worker, with the final test)" in flat(res.stdout)
    res = runner.invoke(app, ["search", "--resume", str(d), "--trials", "5", "-q",
                              "--no-plots"])                      # more trials, no test now
    assert res.exit_code == 0, res.output
    assert "(this run, 1 worker)" in flat(res.stdout) and "final test)" not in flat(res.stdout)
    assert res.stdout.splitlines()[-1] == str(d) and res.stdout.count(str(d)) == 1


def test_the_summary_tells_wall_time_from_training_time_and_counts_cut_trials(search_setup,
                                                                              tmp_path):
    _, write_config = search_setup
    d = start(write_config(), tmp_path / "runs", trials=2).dir
    line = re.search(r"took (\S+) s of wall time \(this run, 1 worker\); trials' training "
                     r"time adds up to (\S+) s", summary_text(d))
    assert line and "over all runs" not in summary_text(d)
    trained = sum(float(r["seconds"]) for r in rows(d))
    # trials.csv keeps each trial's seconds rounded, so their sum may differ from the
    # summary's (made of the exact times) by a rounding step
    assert abs(float(line.group(2)) - trained) <= 0.1 + 1e-9
    assert f"{line.group(1)} s" == seconds(summary(d)["session_seconds"])
    again = run_search(resume_search(d, None, {"trials": 3}))
    s = summary(again.dir)
    assert s["seconds"] > s["session_seconds"]
    assert f", {seconds(s['seconds'])} over all runs of this search; " in \
        summary_text(d)
    s["cut_short"] = s["not_counted"] = 1                # as a stopped search records it
    (d / "summary.json").write_text(json.dumps(s))
    assert re.search(r"3/3  [^;]*; 1 cut short \(failed in trials.csv; not counted, so run "
                     r"again\)", summary_text(d))


def test_later_rounds_keep_the_best_trial_so_far_in_range(search_setup, tmp_path, figures):
    """--trials 9 --rounds 3 --keep 0.5: each round's ranges hold the best trial of the
    rounds before it, and lie within the previous round's ranges."""
    _, write_config = search_setup
    d = start(write_config(lr_low=1e-4), tmp_path / "runs", trials=9, rounds=3, keep=0.5).dir
    table = rows(d)
    spaces = [r["space"] for r in summary(d)["rounds"]]
    for rnd in (2, 3):
        earlier = [r for r in table if int(r["round"]) < rnd and r["state"] == "complete"]
        best = min(earlier, key=lambda r: (-float(r["val_acc"]), int(r["round"]),
                                           int(r["number"])))
        for key in KEYS:
            now, before = spaces[rnd - 1][key], spaces[rnd - 2][key]
            assert now["low"] <= float(best[key]) <= now["high"], (rnd, key, best, now)
            assert before["low"] <= now["low"] and now["high"] <= before["high"]
            assert all(now["low"] <= float(r[key]) <= now["high"]
                       for r in table if int(r["round"]) == rnd)
    search_plots.plot_search(d)
    ax = figures["history"].axes[0]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels.count("0") == 3                          # each round numbered from 0
    assert {t.get_text().strip() for t in ax.texts} == {"round 1", "round 2", "round 3"}


def test_figures_number_trials_as_trials_csv_and_keep_labels_off_the_curves(search_setup,
                                                                             tmp_path, figures):
    _, write_config = search_setup
    d = start(write_config(), tmp_path / "runs", trials=5).dir
    search_plots.plot_search(d)
    table = rows(d)
    (points,) = [ln for ln in figures["history"].axes[0].lines if ln.get_label() == "complete"]
    assert list(points.get_xdata()) == [int(r["number"]) for r in table
                                        if r["state"] == "complete"]
    ranked = sorted((r for r in table if r["state"] == "complete"),
                    key=lambda r: (-float(r["val_acc"]), int(r["number"])))
    panels = [ax for ax in figures["top20"].axes if ax.axison]
    assert len(panels) == len(ranked)
    for ax, r in zip(panels, ranked):
        assert not ax.texts                                # nothing drawn over the curves
        title = ax.get_title()
        assert f"trial {r['number']}," in title
        assert (f"lr {fmt(float(r['optimizer.lr']), 2)}  l2 "
                f"{fmt(float(r['regularization.l2']), 2)}") in title


def test_not_on_a_terminal_the_search_prints_a_plain_line_per_finished_trial():
    """Piped (``2>&1 | tee log``): no table frames, a whole line each time a trial
    finishes, with the trials running and the wall time elapsed and left."""
    import io

    from rich.console import Console

    from dlexp.search.report import Collected, LiveTable
    out = io.StringIO()
    row = lambda n: {"state": "complete", "val_acc": 0.5, "round": 1, "number": n,  # noqa: E731
                     "params": {}, "epochs": 1}
    with LiveTable(4, [], console=Console(file=out, width=200)) as live:
        live(Collected(rows=[], running=2), 1.0)
        live(Collected(rows=[row(0)], running=2), 30.0)
        live(Collected(rows=[row(0)], running=2), 31.0)          # nothing new: no line
        live(Collected(rows=[row(0), row(1)], running=1), 60.0)
    lines = out.getvalue().splitlines()
    assert lines == ["0/4 trials finished (none yet), 2 running · 0:01 elapsed, ~— left",
                     "1/4 trials finished (1 complete), 2 running · 0:30 elapsed, ~1:30 left",
                     "2/4 trials finished (2 complete), 1 running · 1:00 elapsed, ~1:00 left"]
