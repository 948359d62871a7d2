"""Stopping a run cleanly on Ctrl-C (SIGINT) or ``kill`` (SIGTERM).

While training, :func:`interrupt_on_sigterm` turns SIGTERM into KeyboardInterrupt, so
``kill`` stops a run as cleanly as Ctrl-C: the loop ends, the summary says
``interrupted``, files stay valid. A second SIGTERM behaves as it did before.

While the final files are written, :func:`hold_interrupts` makes the first SIGINT or
SIGTERM wait until the writes are done (then it is raised as KeyboardInterrupt), so a
run folder never lacks its summary; a second signal in that window interrupts at once,
so pressing Ctrl-C twice always ends the process.

Both do nothing outside the main thread (only it receives signals).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def interrupt_on_sigterm() -> Iterator[None]:
    if not _main_thread():
        yield
        return

    def handler(signum, frame):
        signal.signal(signal.SIGTERM, previous)      # a second SIGTERM behaves as before
        raise KeyboardInterrupt

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
