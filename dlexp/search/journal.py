"""The search journal after a crash (disk full, power cut, ``kill -9``).

Optuna appends each change of the study to ``journal.log`` as one JSON line. A write cut
short leaves a torn last line, and the next append would be joined onto it, merging two
records into one no reader can parse. Before a search works in its folder (holding the
folder's lock, so no other process writes the journal) :func:`repair_journal`:

* cuts the file back to its last whole record, keeping the damaged file as
  ``journal.log.damaged-<time>`` beside it;
* removes a journal lock file left by a process that died holding it.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from dlexp.io import atomic_write_bytes

JOURNAL = "journal.log"
LOCK_SUFFIX = ".lock"            # Optuna's lock file beside the journal


def whole_records_end(data: bytes) -> int:
    """Bytes at the start of ``data`` that are whole JSON-object lines."""
    end = 0
    for line in data.splitlines(keepends=True):
        if not line.endswith(b"\n"):
            break
        try:
            record = json.loads(line)
        except ValueError:
            break
        if not isinstance(record, dict):
            break
        end += len(line)
    return end


def repair_journal(search_dir: Path) -> str | None:
    """Repair ``search_dir``'s journal as the module says; what was done, or None."""
    path = Path(search_dir) / JOURNAL
    try:
        os.unlink(str(path) + LOCK_SUFFIX)
    except FileNotFoundError:
        pass
    if not path.is_file():
        return None
    data = path.read_bytes()
    end = whole_records_end(data)
    if end == len(data):
        return None
    backup = path.with_name(f"{JOURNAL}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    atomic_write_bytes(backup, data)
    os.truncate(path, end)
    lost = data[end:].count(b"\n") + (not data.endswith(b"\n"))
    return (f"{path}: its last {lost} record(s) were torn (disk full or a crash) and are cut "
            f"off; the damaged file is kept as {backup.name}")
