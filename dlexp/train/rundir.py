"""Run folders: a new one per run, never overwriting another, and reading one back.

    runs/<name>-<YYYYmmdd-HHMMSS>[-k]/  config.yaml (resolved), meta.json (command line,
        versions, host, times, git commit), metrics.jsonl (a record per evaluation),
        steps.csv (each update's loss), summary.json, model.npz, plots/
"""

from __future__ import annotations

import os
import platform
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterable

import numpy

from dlexp import __version__
from dlexp.config_yaml import read_yaml_mapping
from dlexp.errors import ConfigError, RunError
from dlexp.io import read_json, read_jsonl, write_json

# kind, the file that tells it, the file written once its work is over
MARKERS = (("search", "search.json", "summary.json"), ("compare", "compare.json", "summary.json"),
           ("reproduce", "reproduce.json", "verdicts.json"), ("paths", "paths.json", "paths.csv"),
           ("activations", "stats.csv", "stats.csv"),
           ("step-fade", "step_fade.json", "step_fade.json"),
           ("adam-bias", "adam_bias.json", "adam_bias.json"),
           ("search-methods", "search_methods.json", "search_methods.json"),
           ("train", "config.yaml", "summary.json"))
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%z"             # meta.json's started and finished
METRICS_SHAPE = {"epoch": int, "step": int, **{f"{split}_{m}": (float, None)
                                               for split in ("train", "val")
                                               for m in ("loss", "acc")}}


def new_run_dir(root: Path, name: str) -> Path:
    """Create and return ``root/<name>-<timestamp>[-k]``."""
    root, fix = Path(root), "choose another with --runs-dir"
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        what = "is a file, not a folder" if root.is_file() else f"cannot be created ({e.strerror})"
        raise RunError(f"{root}: the runs folder {what}; {fix}") from None
    if not os.access(root, os.W_OK):
        raise RunError(f"{root}: the runs folder is not writable; {fix}")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for k in range(1, 1000):
        path = root / (f"{name}-{stamp}" if k == 1 else f"{name}-{stamp}-{k}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
        except OSError as e:
            raise RunError(f"{path}: cannot create the run folder ({e.strerror}); "
                           f"use a shorter plain name, or {fix}") from None
    raise RunError(f"{root}: could not find a free run folder name for {name!r}")


def run_meta(started: float) -> dict:
    try:
        git = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5, cwd=Path(__file__).parent).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        git = None
    return {"command": sys.argv, "dlexp": __version__, "python": platform.python_version(),
            "numpy": numpy.__version__, "platform": platform.platform(),
            "host": socket.gethostname(),
            "started": time.strftime(TIME_FORMAT, time.localtime(started)),
            "git_commit": git}


def finish_meta(folder: Path) -> None:
    """Record the time now as ``finished`` in ``folder/meta.json``."""
    path = Path(folder) / "meta.json"
    write_json(path, {**read_json(path, {}), "finished": time.strftime(TIME_FORMAT)})


def read_metrics(run_dir: Path) -> list[dict]:
    """The whole, well-shaped evaluation records of ``run_dir/metrics.jsonl``."""
    return read_jsonl(Path(run_dir) / "metrics.jsonl", METRICS_SHAPE)


def kind_of(folder: Path) -> str | None:
    """The kind of a folder dlexp wrote (the first of :data:`MARKERS` it holds), or None.
    A folder with only its meta.json (started, not yet done) is known by its name,
    ``KIND`` or ``KIND-<timestamp>[-k]``."""
    folder = Path(folder)
    kind = next((kind for kind, marker, _ in MARKERS if (folder / marker).is_file()), None)
    if kind is None and (folder / "meta.json").is_file():
        kind = next((k for k, _, _ in MARKERS
                     if re.fullmatch(rf"{k}(-\d{{8}}-\d{{6}}(-\d+)?)?", folder.name)), None)
    return kind


def is_done(folder: Path, kind: str) -> bool:
    """Whether ``folder`` of ``kind`` holds the file written once its work is over."""
    return any(k == kind and (Path(folder) / last).is_file() for k, _, last in MARKERS)


def sub_runs(folder: Path) -> list[str]:
    """The sub-run folder names of a comparison, in variant order."""
    spec = read_json(Path(folder) / "compare.json", {})
    variants = (spec.get("variants") if isinstance(spec, dict) else None) or []
    return [v["run"] for v in variants if isinstance(v, dict) and isinstance(v.get("run"), str)]


def flat_config(run_dir: Path) -> dict:
    """A run's config.yaml as ``{"dotted.key": value}``; {} if it has none."""
    def flatten(raw: dict, prefix: str = "") -> dict:
        out = {}
        for k, v in raw.items():
            out.update(flatten(v, f"{prefix}{k}.") if isinstance(v, dict) else {prefix + k: v})
        return out
    try:
        return flatten(read_yaml_mapping(Path(run_dir) / "config.yaml"))
    except ConfigError:
        return {}


def train_evals(run_dirs: Iterable[Path]) -> set[str]:
    """The ``training.train_eval`` settings of the runs (``full`` when not written)."""
    return {str(flat_config(d).get("training.train_eval") or "full") for d in run_dirs}


def has_weight_decay(run_dirs: Iterable[Path]) -> bool:
    """Whether any of the runs trained with ``regularization.l2`` or ``l1`` > 0."""
    values = [flat_config(d).get(f"regularization.{k}") for d in run_dirs for k in ("l2", "l1")]
    return any(isinstance(v, (int, float)) and v > 0 for v in values)
