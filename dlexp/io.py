"""Files that survive a crash (a reader sees the old file or the new one, never half; a
JSON-lines record is one whole line), and files read back checked for shape. A failed
write raises WriteError naming the file. JSON is strict: NaN and ±inf are written as null.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import fcntl
import io
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator, Mapping, Union

import yaml

from dlexp.errors import RunError, WriteError

_UMASK = os.umask(0o022)            # read once, at import, before any threads
os.umask(_UMASK)
_FILE_MODE = 0o666 & ~_UMASK        # what open() would give; mkstemp gives 0600
_PENDING: set[str] = set()          # temporary files being written (see discard_pending)
Shape = Mapping[str, Union[type, tuple]]     # key → type(s) its value must have


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``: temporary file, fsync, rename."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise WriteError(path, e) from None
    _PENDING.add(tmp)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), _FILE_MODE)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise WriteError(path, e) from None
        raise
    finally:
        _PENDING.discard(tmp)


def discard_pending() -> None:
    """Remove the temporary files of writes in progress (before an abrupt exit)."""
    for tmp in list(_PENDING):
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, dumps_json(obj, indent=2) + "\n")


def write_yaml(path: Path, obj: Any) -> None:
    atomic_write_text(path, yaml.safe_dump(obj, sort_keys=False))


def write_csv(path: Path, rows: list[dict], columns: list[str] | None = None) -> None:
    """Dict rows as CSV; columns: the first row's keys unless given."""
    columns = columns or (list(rows[0]) if rows else [])
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, buf.getvalue())


def append_jsonl(path: Path, record: dict) -> None:
    """Append ``record`` as one JSON line in one ``write``; a line not written whole is cut
    off again."""
    data = (dumps_json(record) + "\n").encode("utf-8")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, _FILE_MODE)
    except OSError as e:
        raise WriteError(Path(path), e) from None
    try:
        end = os.fstat(fd).st_size
        try:
            if os.write(fd, data) != len(data):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        except OSError as e:
            os.ftruncate(fd, end)
            raise WriteError(Path(path), e) from None
    finally:
        os.close(fd)


def dumps_json(obj: Any, indent: int | None = None) -> str:
    """``json.dumps`` with NaN/±inf as null and NumPy scalars and arrays as numbers."""
    return json.dumps(_plain(obj), indent=indent, default=str, allow_nan=False)


def _plain(x: Any) -> Any:
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, set)):
        return [_plain(v) for v in x]
    return _plain(x.tolist()) if hasattr(x, "tolist") else x      # NumPy scalar or array


def as_stored(obj: Any) -> Any:
    """``obj`` as stored and read back (tuples as lists, NaN as null), to compare."""
    return json.loads(dumps_json(obj))


_NO_DEFAULT = object()


def read_json(path: Path, default: Any = _NO_DEFAULT) -> Any:
    """The JSON in ``path``; if missing or damaged, ``default``, else a RunError."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:          # JSONDecodeError, UnicodeDecodeError
        if default is not _NO_DEFAULT:
            return default
        problem = "missing or unreadable" if isinstance(e, OSError) else "damaged (not JSON)"
        raise RunError(f"{path}: {problem}; the folder is not complete") from None


def read_record(path: Path, shape: Shape, what: str = "record") -> dict:
    """The JSON object in ``path``, of ``shape``; else a RunError naming the key."""
    data = read_json(path)
    problem = shape_problem(data, shape)
    if problem:
        raise RunError(f"{path}: damaged, not a {what} ({problem}); restore it or start anew")
    return data


def shape_problem(data: Any, shape: Shape) -> str | None:
    """What is wrong with ``data`` as an object of ``shape`` (``float`` takes any number,
    ``int`` no bool, ``None`` null), or None."""
    if not isinstance(data, dict):
        return f"a {type(data).__name__}, not an object"
    for key, types in shape.items():
        if key not in data:
            return f"no {key!r}"
        if not _has_type(data[key], types if isinstance(types, tuple) else (types,)):
            return f"{key!r} is {type(data[key]).__name__}"
    return None


def _has_type(value: Any, types: tuple) -> bool:
    if value is None or isinstance(value, bool):
        return (None if value is None else bool) in types
    return any(isinstance(value, (int, float) if t is float else t) for t in types if t)


def read_jsonl(path: Path, shape: Shape | None = None) -> list[dict]:
    """The records (of ``shape`` if given) of a JSON-lines file; a torn or misshapen line
    is left out."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    out = []
    for line in text.splitlines():
        with contextlib.suppress(json.JSONDecodeError):
            record = json.loads(line)
            if isinstance(record, dict) and (shape is None or not shape_problem(record, shape)):
                out.append(record)
    return out


def read_csv(path: Path, optional: bool = False) -> list[dict[str, str]]:
    """The rows of a CSV file; ``optional``: no rows when the file is not there."""
    if optional and not Path(path).is_file():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@contextlib.contextmanager
def folder_lock(folder: Path, what: str) -> Iterator[None]:
    """Hold ``folder``'s ``flock`` (dropped if the process dies) for the block; RunError at
    once if another process holds it."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunError(f"{folder}: another dlexp {what} is working in this folder; wait "
                           "for it to end or stop it first") from None
        yield
    finally:
        os.close(fd)                    # releases the lock
