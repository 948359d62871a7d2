"""One way to stop, for every command: Ctrl-C (SIGINT) and ``kill`` (SIGTERM).

Inside :func:`stoppable` the first signal is only recorded (:func:`requested`): training
stops after the current update (:class:`StopOnRequest`), comparisons and searches start
nothing new, and every file is written as usual. A second signal ends the process at once
(exit 130) after removing the temporary file of any write in progress. Worker processes
share the record through a ``multiprocessing.Value``: a stop requested in one stops all.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from types import SimpleNamespace
from typing import Iterator

from dlexp.io import discard_pending
from dlexp.train.loop import Callback, FitState

SIGNALS = (signal.SIGINT, signal.SIGTERM)
_record = SimpleNamespace(value=0)    # or a shared multiprocessing.Value('i')
_received = 0                         # signals this process received itself
_previous: dict | None = None         # the handlers to restore (None: not installed)


def requested() -> int:
    """The signal that asked to stop (SIGINT or SIGTERM), 0 if none has."""
    return _record.value


def _handler(signum: int, frame) -> None:
    global _received
    _received += 1
    if _received > 1:
        discard_pending()
        os._exit(130)
    if not _record.value:
        _record.value = signum


def install(shared=None) -> None:
    """Handle SIGINT/SIGTERM as the module says, for good (worker processes), recording in
    ``shared`` if given; signals set to be ignored (``nohup``) stay ignored."""
    global _previous, _record, _received
    if shared is not None:
        _record = shared
    _received = 0
    _previous = {s: signal.signal(s, _handler) for s in SIGNALS
                 if signal.getsignal(s) is not signal.SIG_IGN}


@contextlib.contextmanager
def stoppable() -> Iterator[None]:
    """Signals stop work as the module says within the block (main thread; nested blocks
    share the outer one); leaving the outermost block forgets the request."""
    global _previous, _record, _received
    if _previous is not None or threading.current_thread() is not threading.main_thread():
        yield
        return
    install()
    try:
        yield
    finally:
        for s, h in _previous.items():
            signal.signal(s, h)
        _previous, _record, _received = None, SimpleNamespace(value=0), 0


@contextlib.contextmanager
def sharing(shared) -> Iterator[None]:
    """Record in ``shared`` (a ``multiprocessing.Value('i')`` the workers hold) within."""
    global _record
    before, shared.value = _record, _record.value
    _record = shared
    try:
        yield
    finally:
        before.value, _record = shared.value, before


class StopOnRequest(Callback):
    """Stop training (status ``interrupted``) after the update during which a stop is
    requested, or before the first."""

    def on_train_begin(self, state: FitState) -> None:
        self.on_step_end(state, 0.0)

    def on_step_end(self, state: FitState, loss: float) -> None:
        if requested() and state.status == "running":
            state.status = "interrupted"
            state.stop = f"interrupted by {signal.Signals(requested()).name}"


def stop_with_parent(signum: int = signal.SIGTERM) -> None:
    """In a worker: have Linux send ``signum`` when the parent dies (``kill -9``), so no
    orphan keeps training or writing."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signum)           # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:                # the parent was already gone
        os.kill(os.getpid(), signum)
