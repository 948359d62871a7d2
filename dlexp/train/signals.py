"""One way to stop, for every command: Ctrl-C (SIGINT) and ``kill`` (SIGTERM).

Inside :func:`stoppable` (around every CLI command, :func:`~dlexp.train.runner.train_run`,
comparisons and searches):

* the **first** SIGINT or SIGTERM is only recorded: :func:`requested` returns its number.
  Training checks it after every update (:class:`StopOnRequest`) and ends with status
  ``interrupted by SIGINT`` (or SIGTERM); comparisons and searches start nothing new;
  every file is then written as usual.
* a **second** signal ends the process at once, exit code 130, after removing the
  temporary file of any write in progress (:func:`dlexp.io.discard_pending`): every
  file is whole or absent, never half-written.

The handler never raises, so no KeyboardInterrupt can land in an import, a ``finally``
or a half-done write. Worker processes share the record with their parent through a
``multiprocessing.Value`` (:func:`install` with ``shared``): a stop requested in any of
them stops all, and each process counts only the signals it received itself.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from typing import Iterator

from dlexp.io import discard_pending
from dlexp.train.loop import Callback, FitState

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Record:
    """A process-local stand-in for a shared ``multiprocessing.Value('i')``."""

    value = 0


_record = _Record()
_received = 0                         # signals this process received itself
_previous: dict | None = None         # the handlers to restore (None: not installed)


def requested() -> int:
    """The signal that asked to stop (SIGINT or SIGTERM), 0 if none has."""
    return _record.value


def interrupted_by(signum: int) -> str:
    """The stop reason a run records: ``interrupted by SIGTERM`` (0: by the user)."""
    return f"interrupted by {signal.Signals(signum).name}" if signum else "interrupted by the user"


def _handler(signum: int, frame) -> None:
    global _received
    _received += 1
    if _received > 1:
        discard_pending()
        os._exit(130)
    if not _record.value:
        _record.value = signum


def install(shared=None) -> None:
    """Handle SIGINT/SIGTERM as the module says, for good (worker processes); ``shared``:
    a ``multiprocessing.Value('i')`` the record lives in. Signals set to be ignored
    (``nohup``) stay ignored."""
    global _previous, _record, _received
    if shared is not None:
        _record = shared
    _received = 0
    _previous = {s: signal.signal(s, _handler) for s in SIGNALS
                 if signal.getsignal(s) is not signal.SIG_IGN}


@contextlib.contextmanager
def stoppable() -> Iterator[None]:
    """Within the block, signals stop work as the module says (main thread; nested
    blocks share the outer one). Leaving the outermost block forgets the request."""
    global _previous, _record, _received
    if _previous is not None or threading.current_thread() is not threading.main_thread():
        yield
        return
    install()
    try:
        yield
    finally:
        for s, h in (_previous or {}).items():
            signal.signal(s, h)
        _previous, _record, _received = None, _Record(), 0


@contextlib.contextmanager
def sharing(shared) -> Iterator[None]:
    """Keep this process's record in ``shared`` (a ``multiprocessing.Value('i')`` its
    workers also hold) for the duration of the block."""
    global _record
    before = _record
    shared.value = before.value
    _record = shared
    try:
        yield
    finally:
        before.value = shared.value
        _record = before


class StopOnRequest(Callback):
    """Stop training after the current update once a stop is requested (before the first
    update if it already was); the run's status is ``interrupted``."""

    def on_train_begin(self, state: FitState) -> None:
        self.on_step_end(state, 0.0)

    def on_step_end(self, state: FitState, loss: float) -> None:
        if requested() and state.status == "running":
            state.status, state.stop = "interrupted", interrupted_by(requested())


def stop_with_parent(signum: int = signal.SIGTERM) -> None:
    """In a worker process: ask Linux to send ``signum`` when the parent dies (``kill -9``
    of ``dlexp search`` or of a comparison), so no orphan keeps training or writing."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signum)           # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:                # the parent was already gone
        os.kill(os.getpid(), signum)
