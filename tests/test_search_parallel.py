"""``dlexp search`` across processes: worker processes sharing one journal study, and a
search killed with ``kill -9`` and resumed. Each test runs the real command."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from dlexp.search.study import JOURNAL, open_storage

PATIENCE = 300          # s: generous deadlines, so a loaded machine is slower, never failing
POLL = 0.1              # s between looks at the journal


def dlexp(env_data: Path, *args: str) -> subprocess.Popen:
    """``dlexp search ARGS -q`` in a new process group."""
    env = {**os.environ, "DLEXP_DATA_DIR": str(env_data), "MPLBACKEND": "Agg"}
    return subprocess.Popen([sys.executable, "-m", "dlexp.cli", "search", *args, "-q",
                            "--no-plots"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def finish(proc: subprocess.Popen, timeout: float = PATIENCE) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, (proc.returncode, out, err)
    return err


def only_dir(runs: Path) -> Path:
    (d,) = [p for p in runs.iterdir() if p.is_dir()]
    return d


def wait_until_gone(session: int, timeout: float = 60) -> None:
    """Wait until no live process of ``session`` is left (zombies do not count)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = []
        for entry in os.listdir("/proc"):
            try:
                stat = (Path("/proc") / entry / "stat").read_text()
            except (OSError, ValueError):
                continue
            fields = stat.rsplit(")", 1)[-1].split()      # state ppid pgrp session …
            if fields[0] != "Z" and int(fields[3]) == session:
                alive.append(entry)
        if not alive:
            return
        time.sleep(0.1)
    raise AssertionError(f"processes of session {session} still alive: {alive}")


def wait_for_progress(proc: subprocess.Popen, runs: Path, complete: int,
                      timeout: float = PATIENCE) -> None:
    """Poll the journal until ``complete`` trials are done while another runs. A slow
    machine only makes this wait longer: the deadline is generous, and an early exit of
    the search is reported as such."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            _, err = proc.communicate()
            raise AssertionError(f"the search ended (exit {proc.returncode}) before it could "
                                 f"be killed mid-way: {err}")
        dirs = [p for p in runs.iterdir() if p.is_dir()] if runs.is_dir() else []
        if dirs and (dirs[0] / JOURNAL).is_file():
            try:
                states = [t.state for t in trials(dirs[0])]
            except KeyError:                  # the journal is there, the study not yet
                states = []
            if states.count(TrialState.COMPLETE) >= complete and TrialState.RUNNING in states:
                return
        time.sleep(POLL)
    raise AssertionError(f"no {complete} complete trials with one running after {timeout} s")


def trials(search_dir: Path, study: str = "tiny") -> list:
    storage = open_storage(None, search_dir)
    return optuna.load_study(study_name=study, storage=storage).get_trials(deepcopy=False)


def csv_rows(search_dir: Path) -> list[dict]:
    with open(search_dir / "trials.csv", newline="") as f:
        return list(csv.DictReader(f))


def assert_exact(search_dir: Path, n: int) -> list:
    """Exactly ``n`` distinct complete trials, each in trials.csv once."""
    done = [t for t in trials(search_dir) if t.state == TrialState.COMPLETE]
    assert len(done) == n
    assert len({t.number for t in done}) == n
    assert len({t.params["optimizer.lr"] for t in done}) == n
    counted = [r for r in csv_rows(search_dir) if not r["note"].endswith("(not counted)")]
    assert sorted(int(r["number"]) for r in counted) == sorted(t.number for t in done)
    return done


def test_two_worker_processes_share_one_journal_study_exactly(search_setup, tmp_path):
    data, write_config = search_setup
    config = write_config(epochs=40, hidden=512)              # trials of a few tenths of s
    runs = tmp_path / "runs"
    err = finish(dlexp(data, "--config", str(config), "--trials", "10", "--workers", "2",
                       "--runs-dir", str(runs)))
    d = only_dir(runs)
    assert (d / JOURNAL).is_file() and "search folder" in err
    done = assert_exact(d, 10)
    workers = {t.user_attrs["result"]["worker"] for t in done}
    assert len(workers) == 2 and str(os.getpid()) not in " ".join(workers)


@pytest.mark.parametrize("whole_group", [False, True], ids=["parent", "process-group"])
def test_a_search_killed_with_sigkill_resumes_to_exactly_the_total(search_setup, tmp_path,
                                                                   whole_group):
    """kill -9 of ``dlexp search`` alone: its workers stop too (their trials fail as cut
    short). kill -9 of the whole group (a crashed machine): trials stay RUNNING in the
    journal until the resumed search fails them. Either way: exactly --trials in the end."""
    data, write_config = search_setup
    config = write_config(epochs=40, hidden=64)               # trials of a few tenths of s
    runs = tmp_path / "runs"
    proc = dlexp(data, "--config", str(config), "--trials", "8", "--workers", "2",
                 "--runs-dir", str(runs))
    wait_for_progress(proc, runs, complete=2)
    if whole_group:
        os.killpg(proc.pid, signal.SIGKILL)
    else:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    d = only_dir(runs)
    wait_until_gone(session=proc.pid)                         # the workers end with it …
    before = [(t.number, t.state) for t in trials(d)]
    time.sleep(0.5)
    assert [(t.number, t.state) for t in trials(d)] == before   # … and do no more work
    if whole_group:                                           # nobody could clean up
        assert TrialState.RUNNING in [s for _, s in before]
    assert sum(s == TrialState.COMPLETE for _, s in before) < 8
    err = finish(dlexp(data, "--resume", str(d)))             # as many workers as before
    if whole_group:
        assert "left running by a stopped search" in err
    done = assert_exact(d, 8)
    assert json.loads((d / "summary.json").read_text())["workers"] == 2
    cut = {t.number for t in trials(d) if t.state == TrialState.FAIL
           and (t.user_attrs.get("result") or {}).get("outcome") != "surplus"}
    # … and run again with their parameters, first, as far as the budget leaves room
    by_number = {t.number: t for t in trials(d)}
    reruns = [t for t in done if "failed_trial" in t.system_attrs]    # Optuna's retries
    assert all(by_number[t.system_attrs["failed_trial"]].number in cut
               and t.params == by_number[t.system_attrs["failed_trial"]].params
               for t in reruns)
    keys = set(done[0].params)
    if any(set(by_number[n].params) == keys for n in cut):   # a cut trial had drawn all
        assert reruns                   # (whether one had is down to the kill's timing)
    listed = {int(r["number"]): r for r in csv_rows(d)}
    assert cut and cut <= set(listed)                         # listed, but not counted
    assert all(listed[n]["state"] == "failed" and listed[n]["val_acc"] == ""
               and listed[n]["note"].endswith("(not counted)") for n in cut)


def test_a_missing_database_driver_says_how_to_install_it(tmp_path):
    """optuna wraps the driver's ModuleNotFoundError; the message names the driver."""
    import importlib.util
    from dlexp.errors import ConfigError
    if importlib.util.find_spec("pg8000") is not None:
        pytest.skip("pg8000 is installed here")
    with pytest.raises(ConfigError) as e:
        open_storage("postgresql+pg8000://user:secret@127.0.0.1/db", tmp_path)
    message = str(e.value)
    assert "driver 'pg8000' is not installed" in message and "dlexp[postgres]" in message
    assert "secret" not in message
