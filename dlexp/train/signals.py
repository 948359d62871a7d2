"""Turn SIGTERM into KeyboardInterrupt while training, so ``kill`` stops a run as
cleanly as Ctrl-C: the loop ends, the summary says ``interrupted``, files stay valid."""

from __future__ import annotations

import contextlib
import signal
import threading


@contextlib.contextmanager
def interrupt_on_sigterm():
    if threading.current_thread() is not threading.main_thread():
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
