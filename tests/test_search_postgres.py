"""Several machines on one study: two ``dlexp search --storage URL`` processes join one
study on a real PostgreSQL server (initdb + pg_ctl in a temporary folder, loopback port).
Skipped where the server binaries or the driver (extra ``postgres``) are missing."""

from __future__ import annotations

import csv
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

psycopg2 = pytest.importorskip("psycopg2", reason="the postgres extra is not installed")


def _server_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    """A throw-away PostgreSQL server on 127.0.0.1; its SQLAlchemy URL."""
    bindir = _server_bin()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries (initdb) on this machine")
    folder = Path(tempfile.mkdtemp(prefix="dlexp-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:                        # the server refuses to run as root
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the server")
        os.chown(folder, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", _free_port()

    def run(*cmd: str) -> None:
        subprocess.run([*as_user, *cmd], check=True, capture_output=True, timeout=60)

    run(str(bindir / "initdb"), "-D", str(data), "-U", "dlexp", "--auth=trust", "--no-sync")
    run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "-o",
        f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
    try:
        yield f"postgresql+psycopg2://dlexp@127.0.0.1:{port}/postgres"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def dlexp(data: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "DLEXP_DATA_DIR": str(data), "MPLBACKEND": "Agg"}
    return subprocess.Popen([sys.executable, "-m", "dlexp.cli", "search", *args, "-q",
                            "--no-plots"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def csv_rows(runs: Path) -> list[dict]:
    (d,) = list(runs.iterdir())
    with open(d / "trials.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_two_machines_join_one_study_for_exactly_the_total(search_setup, tmp_path,
                                                           postgres_url):
    data, write_config = search_setup
    config = write_config(epochs=40, hidden=512)              # trials of a few tenths of s
    common = ["--config", str(config), "--storage", postgres_url, "--study", "shared",
              "--trials", "10"]
    hosts = [dlexp(data, *common, "--runs-dir", str(tmp_path / f"host{i}")) for i in (1, 2)]
    for proc in hosts:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, (out, err)
    study = optuna.load_study(study_name="shared", storage=postgres_url)
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    assert len(done) == 10 and len({t.number for t in done}) == 10
    assert len({t.params["optimizer.lr"] for t in done}) == 10
    assert len({t.user_attrs["result"]["worker"] for t in done}) == 2      # both took part
    first, second = csv_rows(tmp_path / "host1"), csv_rows(tmp_path / "host2")
    assert first == second and len(first) == 10                 # every machine's files


def test_joining_a_study_with_another_config_is_refused(search_setup, tmp_path, postgres_url):
    data, write_config = search_setup
    for i, epochs in enumerate((2, 3)):
        proc = dlexp(data, "--config", str(write_config(f"c{i}.yaml", epochs=epochs)),
                     "--storage", postgres_url, "--study", "guarded", "--trials", "2",
                     "--runs-dir", str(tmp_path / f"r{i}"))
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert err.strip().splitlines()[-1] == (
        "error: study 'guarded' was started with a different config; join it with the "
        "same config, or choose another --study name")


def test_an_unreachable_database_is_a_one_line_error(search_setup, tmp_path):
    data, write_config = search_setup
    url = f"postgresql+psycopg2://nobody:secret@127.0.0.1:{_free_port()}/none"
    proc = dlexp(data, "--config", str(write_config()), "--storage", url,
                 "--runs-dir", str(tmp_path / "runs"))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    lines = [line for line in err.strip().splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "cannot open the database" in lines[0]
    assert "secret" not in err and "***" in lines[0]
