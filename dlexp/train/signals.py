"""Stopping a run cleanly on Ctrl-C (SIGINT) or ``kill`` (SIGTERM).

While training, the :class:`StopOnSignal` callback turns the first SIGINT or SIGTERM
into a request: the current update finishes, then ``fit`` stops with status
``interrupted`` — the weights are never left half-updated. A second signal raises
KeyboardInterrupt at once. :func:`interrupt_on_sigterm` makes SIGTERM act like Ctrl-C
elsewhere, e.g. in worker processes and evaluations: it raises :class:`Terminated`, a
KeyboardInterrupt that still says which signal it was.

While the final files are written, :func:`hold_interrupts` makes the first SIGINT or
SIGTERM wait until the writes are done (then it is raised as KeyboardInterrupt), so a
run folder never lacks its summary; a second signal in that window interrupts at once,
so pressing Ctrl-C twice always ends the process.

Both do nothing outside the main thread (only it receives signals).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from typing import Iterator

from dlexp.train.loop import Callback, FitState


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised inside :func:`interrupt_on_sigterm` as Ctrl-C raises KeyboardInterrupt."""


def signal_of(exc: KeyboardInterrupt) -> int:
    """The signal behind ``exc``: SIGTERM for :class:`Terminated`, else SIGINT."""
    return signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT


def interrupted_by(signum: int) -> str:
    """The stop reason a run records: ``interrupted by SIGTERM`` (0: by the user)."""
    return f"interrupted by {signal.Signals(signum).name}" if signum else "interrupted by the user"


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def interrupt_on_sigterm() -> Iterator[None]:
    """Inside the block SIGTERM raises KeyboardInterrupt, as Ctrl-C does (main thread)."""
    if not _main_thread():
        yield
        return

    def handler(signum, frame):
        signal.signal(signal.SIGTERM, previous)      # a second SIGTERM behaves as before
        raise Terminated

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def hold_interrupts() -> Iterator[None]:
    """Defer the first SIGINT/SIGTERM to the end of the block; a second one acts at once."""
    if not _main_thread():
        yield
        return
    held: list[int] = []

    def handler(signum, frame):
        held.append(signum)
        if len(held) > 1:
            raise KeyboardInterrupt

    names = [s for s in (signal.SIGINT, signal.SIGTERM)
             if signal.getsignal(s) is not signal.SIG_IGN]     # ignored stays ignored
    previous = {s: signal.signal(s, handler) for s in names}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
    if held:
        raise KeyboardInterrupt


def stop_with_parent(signum: int = signal.SIGTERM) -> None:
    """In a worker process: ask Linux to send ``signum`` when the parent dies (``kill -9``
    of ``dlexp search`` or of a comparison), so no orphan keeps training or writing.
    SIGTERM lets the worker record what it was doing; SIGKILL ends it at once."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signum)           # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:                # the parent was already gone
        os.kill(os.getpid(), signum)


class StopOnSignal(Callback):
    """First SIGINT/SIGTERM: stop after the current update; a second: stop at once."""

    def __init__(self) -> None:
        self.signalled: int | None = None
        self.previous: dict = {}

    def _handler(self, signum, frame) -> None:
        if self.signalled is not None:
            raise KeyboardInterrupt
        self.signalled = signum

    def on_train_begin(self, state: FitState) -> None:
        if _main_thread():
            self.previous = {s: signal.signal(s, self._handler)
                             for s in (signal.SIGINT, signal.SIGTERM)
                             if signal.getsignal(s) is not signal.SIG_IGN}

    def on_step_end(self, state: FitState, loss: float) -> None:
        if self.signalled is not None:
            state.status, state.stop = "interrupted", interrupted_by(self.signalled)

    def on_train_end(self, state: FitState) -> None:
        for s, h in self.previous.items():
            signal.signal(s, h)
        self.previous = {}
