"""The suite runs as `pytest` as well as `python -m pytest` (pytest settings in pyproject.toml)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bare_pytest_finds_the_benchmarks_package_and_this_checkout():
    """`pytest` (the script) does not put the current folder on the path as `python -m`
    does; `python -I` behaves the same, so it stands in for the script here."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    probe = ("import sys, pytest\n"
             "class Where:\n"
             "    def pytest_collection_finish(self, session):\n"
             "        import benchmarks, dlexp\n"
             "        print('dlexp at', dlexp.__file__)\n"
             "sys.exit(pytest.main(['--co', '-q', '-p', 'no:cacheprovider',\n"
             "                      'tests/test_benchmarks.py'], plugins=[Where()]))\n")
    res = subprocess.run([sys.executable, "-I", "-c", probe], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "tests collected" in res.stdout
    line = next(x for x in res.stdout.splitlines() if x.startswith("dlexp at"))
    assert Path(line.split(" at ", 1)[1]).resolve().is_relative_to(ROOT)
