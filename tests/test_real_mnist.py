"""The baseline on real MNIST: one epoch must reach 95 % test accuracy (skipped when
DLEXP_DATA_DIR does not point at the four official files)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
REPO = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("DLEXP_DATA_DIR") or "/nonexistent")
HAVE_MNIST = (DATA / "train-images-idx3-ubyte.gz").is_file() and \
    (DATA / "train-images-idx3-ubyte.gz").stat().st_size > 1_000_000      # not tiny files

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not HAVE_MNIST, reason="real MNIST not found: set "
                                 "DLEXP_DATA_DIR to the folder of the four .gz files")]


def test_baseline_reaches_95_percent_in_one_epoch(cli, tmp_path):
    t0 = time.perf_counter()
    result = cli.train(REPO / "configs" / "baseline.yaml", tmp_path, "--set", "training.epochs=1")
    seconds = time.perf_counter() - t0
    assert result.exit_code == 0, result.output
    (run,) = tmp_path.iterdir()
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["steps"] == 550   # 55,000 / 100
    assert summary["test_acc"] >= 0.95, summary
    assert summary["best_val_acc"] >= 0.94, summary
    print(f"baseline, 1 epoch: test acc {summary['test_acc']:.4f} in {seconds:.1f} s")


def test_data_on_real_mnist_is_all_ok(cli):
    result = cli("data")
    assert result.exit_code == 0, result.output
    assert "BAD" not in result.stdout and "all files match" in result.stdout
