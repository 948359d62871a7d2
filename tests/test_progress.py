"""Live progress: plain lines off a terminal, running/done/failed, wall times."""

from __future__ import annotations

import io
import signal
import time

from rich.console import Console

from dlexp.train import signals
from dlexp.train.progress import RunsTicker, clock, time_left, unfinished_runs


def test_clock_and_time_left():
    assert [clock(s) for s in (None, 0, 59.6, 61, 3725)] == ["—", "0:00", "1:00", "1:01",
                                                            "1:02:05"]
    assert time_left(30.0, 0, 6) is None and time_left(30.0, 2, 6) == 60.0


def test_the_ticker_names_running_runs_and_counts_failures(tmp_path):
    for name, files in (("a", ["config.yaml", "summary.json"]), ("b", ["config.yaml"]),
                        ("c", [])):
        (tmp_path / name).mkdir()
        for f in files:
            (tmp_path / name / f).write_text("x")
    assert unfinished_runs(tmp_path) == ["b"]
    ticker = RunsTicker(4, lambda: unfinished_runs(tmp_path), done=1,
                        console=Console(file=io.StringIO()))
    ticker.finished("completed")
    ticker.finished("diverged")
    line = ticker.line()
    assert line.startswith("3/4 runs done (1 failed); running: b; ")
    assert line.endswith("left") and "elapsed" in line


def test_off_a_terminal_the_ticker_prints_plain_lines_until_stopped(tmp_path):
    out = io.StringIO()
    ticker = RunsTicker(2, lambda: ["x"], every=0.01, console=Console(file=out, width=200))
    ticker.start()
    deadline = time.monotonic() + 10
    while out.getvalue().count("\n") < 2 and time.monotonic() < deadline:
        time.sleep(0.01)                                   # polls the output, no race
    ticker.stop()
    lines = out.getvalue().splitlines()
    assert len(lines) >= 2 and all(x.startswith("0/2 runs done; running: x; ") for x in lines)
    assert "\x1b" not in out.getvalue()


def test_the_training_bar_shows_no_loss_until_one_is_known():
    from dlexp.train.loop import FitState
    from dlexp.train.progress import RichProgress
    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    bar = RichProgress("t", every=5, console=console)
    state = FitState(total_steps=10, steps_per_epoch=5)
    bar.on_train_begin(state)
    assert "nan" not in _text(bar) and "loss" not in _text(bar)
    state.step = 5
    bar.on_step_end(state, 0.25)
    assert "loss 0.2500" in _text(bar)
    bar.on_train_end(state)


def _text(bar) -> str:
    out = Console(file=io.StringIO(), width=120)
    out.print(bar.progress.make_tasks_table(bar.progress.tasks))
    return out.file.getvalue()


def test_a_training_log_has_a_line_per_evaluation_with_wall_times(tmp_path, tiny_data_env,
                                                                  tiny_config, cli):
    """`dlexp train` into a log (not a terminal): whole lines, no 'nan'."""
    res = cli("train", tiny_config, "--runs-dir", tmp_path / "runs")
    assert res.exit_code == 0, res.output
    evals = [x for x in res.stderr.splitlines() if x.startswith("ep ")]
    assert evals and all("elapsed" in x and "left" in x for x in evals)
    assert "nan" not in res.stderr


def test_a_final_test_counts_in_the_wall_time_of_its_run():
    from dlexp.search.report import _times
    summary = {"workers": 1, "session_seconds": 0.04, "seconds": 9.7,
               "pruning": {"seconds_trained": 6.7}, "final_test": {"seconds": 3.6}}
    assert _times(summary).startswith("took 3.6 s of wall time (this run, 1 worker, with "
                                      "the final test)")
    summary["final_test"]["earlier"] = True                   # tested before: not retrained
    assert _times(summary).startswith("took 0.0 s of wall time (this run, 1 worker)")


def test_after_a_stop_the_ticker_drops_its_estimate():
    ticker = RunsTicker(4, console=Console(file=io.StringIO()))
    ticker.finished("completed")
    assert ticker.line().endswith(" left")
    with signals.stoppable():
        signal.raise_signal(signal.SIGINT)      # Ctrl-C: queued runs skip
        ticker.finished("skipped")
        line = ticker.line()
    assert line.startswith("2/4 runs done; ") and line.endswith("elapsed, stopping")
    assert "left" not in line and "failed" not in line
