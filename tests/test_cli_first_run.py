"""The first run without a network: one line that says what to do."""

from __future__ import annotations

import os
import subprocess
import sys

from dlexp.data.mnist import MNIST_FILES


def test_first_run_offline_names_the_files_the_cache_folder_and_dlexp_data(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DLEXP_DATA_DIR", "no_proxy", "NO_PROXY")}
    dead = "http://127.0.0.1:9"                        # nothing listens: refused at once
    env.update(XDG_CACHE_HOME=str(tmp_path / "cache"), http_proxy=dead, https_proxy=dead,
               HTTP_PROXY=dead, HTTPS_PROXY=dead)
    res = subprocess.run([sys.executable, "-m", "dlexp", "train", "baseline", "-q",
                          "--runs-dir", str(tmp_path / "runs")], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    for name in MNIST_FILES:
        assert name in lines[0]
    assert str(tmp_path / "cache" / "dlexp" / "mnist") in lines[0]
    assert "DLEXP_DATA_DIR" in lines[0] and "`dlexp data`" in lines[0]
