"""Files that survive a crash: atomic writes and line-at-a-time appends.

``atomic_write_*`` writes to a temporary file in the same folder, flushes it to disk and
renames it over the target, so a reader sees the old file or the new one, never half.
``append_jsonl`` writes each record as one complete line with a single ``write`` call.
A write that fails (disk full) raises :class:`~dlexp.errors.WriteError` naming the file.
:func:`folder_lock` keeps two commands from writing into one folder at once.
JSON is written strictly (RFC 8259): a non-finite float (NaN, ±inf, e.g. the validation
loss of a diverged run) becomes ``null``, so every line parses with any JSON reader.
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


def _file_mode() -> int:
    """0666 less the process umask (read once, at import, before any threads)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


_FILE_MODE = _file_mode()


_PENDING: set[str] = set()        # temporary files being written (for discard_pending)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically (temp file + fsync + rename). A failure
    (disk full) leaves the old file and no temporary one, and raises WriteError."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise WriteError(path, e) from None
    _PENDING.add(tmp)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), _FILE_MODE)  # mkstemp makes 0600; give the usual mode
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        _unlink(tmp)
        if isinstance(e, OSError):
            raise WriteError(path, e) from None
        raise
    finally:
        _PENDING.discard(tmp)


def discard_pending() -> None:
    """Remove the temporary files of writes in progress (before an abrupt exit)."""
    for tmp in list(_PENDING):
        _unlink(tmp)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file and a rename."""
    atomic_write_bytes(path, text.encode("utf-8"))


def write_json(path: Path, obj: Any) -> None:
    """``obj`` as indented JSON, atomically (non-finite floats as null: :func:`dumps_json`)."""
    atomic_write_text(path, dumps_json(obj, indent=2) + "\n")


def write_yaml(path: Path, obj: Any) -> None:
    """``obj`` as YAML in its own key order, atomically."""
    atomic_write_text(path, yaml.safe_dump(obj, sort_keys=False))


def append_jsonl(path: Path, record: dict) -> None:
    """Append ``record`` as one JSON line with a single ``write``; if it cannot be written
    whole (disk full) the file is cut back to its previous end and WriteError is raised,
    so the next line never joins a torn one."""
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


_NO_DEFAULT = object()


def read_json(path: Path, default: Any = _NO_DEFAULT) -> Any:
    """The JSON in ``path``. A missing, unreadable or damaged file gives ``default`` when
    one is given, else a RunError naming the file (one line, exit 2)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:          # JSONDecodeError, UnicodeDecodeError
        if default is not _NO_DEFAULT:
            return default
        problem = "missing or unreadable" if isinstance(e, OSError) else "damaged (not JSON)"
        raise RunError(f"{path}: {problem}; the folder is not complete") from None


Shape = Mapping[str, Union[type, tuple]]     # key → type(s) its value must have


def read_record(path: Path, shape: Shape, what: str = "record") -> dict:
    """The JSON object in ``path`` with a value of the right type for every key of
    ``shape`` (``float`` accepts any number, ``int`` no bool, ``None`` null); a missing, damaged or
    misshapen file is a RunError naming the file and the key (one line, exit 2)."""
    data = read_json(path)
    problem = shape_problem(data, shape)
    if problem:
        raise RunError(f"{path}: damaged, not a {what} ({problem}); restore it or start anew")
    return data


def shape_problem(data: Any, shape: Shape) -> str | None:
    """What is wrong with ``data`` as an object of ``shape``, or None."""
    if not isinstance(data, dict):
        return f"a {type(data).__name__}, not an object"
    for key, types in shape.items():
        if key not in data:
            return f"no {key!r}"
        if not _has_type(data[key], types if isinstance(types, tuple) else (types,)):
            return f"{key!r} is {type(data[key]).__name__}"
    return None


def _has_type(value: Any, types: tuple) -> bool:
    if value is None:
        return None in types
    if isinstance(value, bool):
        return bool in types
    return any(isinstance(value, (int, float) if t is float else t) for t in types)


def read_jsonl(path: Path, shape: Shape | None = None) -> list[dict]:
    """All complete records (JSON objects) of a JSON-lines file; a torn last line, any
    line that is not an object, or (with ``shape``) not of that shape, is left out."""
    out = []
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return out
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and (shape is None or shape_problem(record, shape) is None):
            out.append(record)
    return out


def as_stored(obj: Any) -> Any:
    """``obj`` as :func:`write_json` stores it and ``json.loads`` reads it back (tuples
    become lists, NaN null), so a record just built compares equal to a stored one."""
    return json.loads(dumps_json(obj))


def dumps_json(obj: Any, indent: int | None = None) -> str:
    """``json.dumps`` that writes NaN/±inf as null and NumPy scalars/arrays as numbers."""
    return json.dumps(_finite(obj), indent=indent, default=_jsonable, allow_nan=False)


def _finite(x: Any) -> Any:
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    if hasattr(x, "tolist"):                  # NumPy scalar or array
        return _finite(x.tolist())
    return x


def _jsonable(x: Any) -> Any:
    if hasattr(x, "item"):
        return x.item()
    if hasattr(x, "tolist"):
        return x.tolist()
    if isinstance(x, (set, tuple)):
        return list(x)
    return str(x)


def write_csv(path: Path, rows: list[dict], columns: list[str] | None = None) -> None:
    """Write dict rows as CSV atomically; columns default to the first row's keys."""
    columns = columns or (list(rows[0]) if rows else [])
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, buf.getvalue())


@contextlib.contextmanager
def folder_lock(folder: Path, what: str) -> Iterator[None]:
    """Hold ``folder``'s lock (``flock`` on the folder itself, released by the kernel
    when the process dies) for the block; RunError at once if another process holds
    it, so a refused command changes nothing. ``what`` names the work in the message."""
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


def read_csv(path: Path, optional: bool = False) -> list[dict[str, str]]:
    """The rows of a CSV file; ``optional``: no rows when the file is not there."""
    if optional and not Path(path).is_file():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))
