"""What a folder under ``runs/`` is, when it started and how it ended: for ``dlexp runs``.
The kind is told by a file (:data:`dlexp.train.rundir.MARKERS`). Without its
summary.json a folder is ``running`` while a dlexp process holds its lock, else
``stopped`` (killed, or the machine went down). Only the files are read.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from dlexp.errors import RunError
from dlexp.io import folder_lock, read_json, shape_problem
from dlexp.train.rundir import is_done, kind_of, sub_runs


@dataclass(frozen=True)
class Folder:
    path: Path
    kind: str
    started: float                # seconds since the epoch
    status: str                   # completed, failed, interrupted, running, stopped, …
    runs: int | None = None       # sub-runs of a comparison, finished trials of a search
    note: str = ""                # e.g. "3 diverged" (sub-runs), or a search's stale test
    val_acc: float | None = None
    test_acc: float | None = None


def describe(folder: Path) -> Folder | None:
    """The row of ``dlexp runs`` for ``folder``; None if dlexp did not write it. A file
    it cannot read (damaged, or JSON of the wrong shape) makes the status ``damaged``
    with the file's name in the note; the rest of the row is what could be read."""
    folder = Path(folder)
    kind = kind_of(folder)
    if kind is None:
        return None
    damaged: list[str] = []
    meta = _read(folder, "meta.json", {}, damaged)
    summary = _read(folder, "summary.json", {"status": str}, damaged)
    status, more = summary.get("status"), {}
    if kind == "search":
        meta = _read(folder, "search.json", {"meta": dict}, damaged).get("meta") or {}
        best, final = _get(summary, "best", dict) or {}, _get(summary, "final_test", dict) or {}
        more = {"runs": _get(summary, "finished", int), "val_acc": _number(best, "val_acc"),
                "test_acc": _number(final, "test_acc"),
                "note": "test stale: a later trial is better" if final.get("stale") else ""}
    elif kind == "compare":
        counts = _get(summary, "statuses", dict) or {}
        more = {"runs": _get(summary, "runs", int) or len(sub_runs(folder)) or None,
                "note": ", ".join(f"{n} {s}" for s, n in counts.items() if s != "completed")}
    elif kind != "train":                      # the chapter's folders write no summary
        status = "completed" if is_done(folder, kind) else "running?"
    else:
        more = {"val_acc": _number(summary, "best_val_acc"),
                "test_acc": _number(summary, "test_acc")}
    row = Folder(folder, kind, _started(meta, folder), status or _unfinished(folder), **more)
    if damaged:
        note = f"cannot read {', '.join(damaged)}"
        row = replace(row, status="damaged", note=f"{row.note}; {note}" if row.note else note)
    return row


DEFAULT_ROOT = Path("runs")


def list_folders(root: Path) -> list[Folder]:
    """Every folder dlexp wrote directly under ``root``, oldest first (by start time).

    A missing ``runs/`` (the default, before the first run) holds none; any other missing
    path, a file, or the folder of one run instead of a folder of runs is a RunError."""
    root = Path(root)
    if not root.exists():
        if root == DEFAULT_ROOT:
            return []
        raise RunError(f"{root}: no such folder; pass the folder your runs are in with "
                       f"--runs-dir (default: {DEFAULT_ROOT})")
    if not root.is_dir():
        raise RunError(f"{root}: not a folder; pass the runs folder with --runs-dir")
    kind = kind_of(root)
    if kind not in (None, "compare", "reproduce"):    # their sub-folders are listed
        raise RunError(f"{root} is the folder of one {kind} run, not a folder of runs; "
                       f"list its neighbours with: dlexp runs --runs-dir {root.parent}")
    found = [describe(d) for d in root.iterdir() if d.is_dir()]
    return sorted((f for f in found if f is not None), key=lambda f: (f.started, f.path.name))


def _started(meta: dict, folder: Path) -> float:
    try:
        return datetime.strptime(str(meta["started"]), "%Y-%m-%dT%H:%M:%S%z").timestamp()
    except (KeyError, ValueError, TypeError):
        return folder.stat().st_mtime


def local_time(seconds: float) -> tuple[str, str]:
    """(date, time) of a start time: ``("2026-11-28", "00:47:17")``."""
    t = time.localtime(seconds)
    return time.strftime("%Y-%m-%d", t), time.strftime("%H:%M:%S", t)


def _read(folder: Path, name: str, shape: dict, damaged: list[str]) -> dict:
    """The JSON object in ``folder/name`` ({} if absent); a damaged or misshapen one is
    added to ``damaged`` and read as {}."""
    path = folder / name
    if not path.exists():
        return {}
    data = read_json(path, None)
    if shape_problem(data, shape) is not None:
        damaged.append(name)
        return {}
    return data


def _unfinished(folder: Path) -> str:
    """A folder without its summary: ``running`` while a dlexp process holds its lock
    (train, compare and search do), else ``stopped`` (killed, or the machine went down)."""
    try:
        with folder_lock(folder, "run"):
            return "stopped"
    except RunError:
        return "running"
    except OSError:
        return "running?"


def _get(data: dict, key: str, kind: type | tuple[type, ...]) -> Any:
    """``data[key]`` if it is a ``kind`` (a bool is no number), else None."""
    value = data.get(key)
    return None if isinstance(value, bool) or not isinstance(value, kind) else value


def _number(data: dict, key: str) -> float | None:
    value = _get(data, key, (int, float))
    return float(value) if value is not None and math.isfinite(value) else None
