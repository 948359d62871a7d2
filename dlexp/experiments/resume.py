"""Finishing an interrupted comparison: ``--resume DIR`` on the command that made it.

The comparison folder records what it compares (``compare.json``: name, base config,
variants, label column, smoothing window, reported keys) and every sub-run as it ends
(``runs.jsonl``, one line each; a later line for the same run wins). Resuming:

1. rebuilds that record from the command line given now and refuses (one line, exit 2)
   if it differs from the stored one — a resumed comparison compares the same things;
2. keeps each sub-run whose last line says ``completed`` (or a status the command
   expects, such as ``diverged`` in ``batchnorm``) with its folder untouched;
3. deletes the folders of the others (interrupted, skipped, failed, or never recorded
   because the process was killed) and trains them again, appending their lines;

then the tables and figures are made from all of them, as after an uninterrupted run.
Same config and seed give the same numbers, so a resumed comparison equals one that ran
straight through.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Sequence

from dlexp.errors import ConfigError
from dlexp.io import as_stored, read_jsonl, read_record


def kept_runs(out_dir: Path, spec: dict, expected: Sequence[str]) -> dict[str, dict]:
    """The finished sub-runs of the comparison in ``out_dir`` to keep, by run name;
    ConfigError if the folder is not a comparison or compares something else."""
    out_dir = Path(out_dir)
    stored_path = out_dir / "compare.json"
    if not out_dir.is_dir():
        raise ConfigError(f"--resume {out_dir}: no such folder; the comparison printed its "
                          "folder, and `dlexp runs` lists them")
    if not stored_path.is_file():
        raise ConfigError(f"--resume {out_dir}: not a comparison folder (no compare.json); "
                          "`dlexp runs` lists them")
    stored = read_record(stored_path, SHAPE, "comparison record")
    wanted = as_stored(spec)                               # tuples → lists, as stored
    differ = list(dict.fromkeys(WHAT[k] for k in wanted if stored.get(k) != wanted[k]))
    if differ:
        raise ConfigError(f"--resume {out_dir}: that comparison was started with another "
                          f"{' and another '.join(differ)}; resume it with the command and "
                          "options that started it, or start a new one")
    last = {r["run"]: r for r in read_jsonl(out_dir / "runs.jsonl", RUN_SHAPE)}
    done = ("completed", *expected)
    return {name: r for name, r in last.items() if r.get("status") in done
            and (out_dir / name).is_dir()}


SHAPE = {"name": str, "base": dict, "variants": list, "label_column": str, "window": int,
         "keys": list}
RUN_SHAPE = {"run": str, "status": str}      # a runs.jsonl line; others are left out


# What the user changed, for each field of compare.json that differs.
WHAT = {"name": "--name or command", "base": "base config (--config, --set, --iterations, "
        "--epochs)", "variants": "set of runs (--vary, --seeds, the command's options)",
        "keys": "set of runs (--vary, --seeds, the command's options)",
        "label_column": "--name or command", "window": "--smooth"}


def clear_runs(out_dir: Path, names: Sequence[str]) -> None:
    """Delete the sub-run folders ``names`` (what an unfinished run left) before rerunning."""
    for name in names:
        path = Path(out_dir) / name
        if path.is_dir():
            shutil.rmtree(path)
