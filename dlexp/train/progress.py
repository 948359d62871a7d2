"""Live progress on stderr (terminal or log file): :class:`RichProgress` for one training
run, :class:`RunsTicker` for many. Times are wall times."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable, Sequence

from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.text import Text

from dlexp.train import signals
from dlexp.train.loop import Callback, FitState


def clock(seconds: float | None) -> str:
    """``m:ss`` (or ``h:mm:ss``); ``—`` when unknown."""
    if seconds is None:
        return "—"
    m, s = divmod(int(round(seconds)), 60)
    return f"{m // 60}:{m % 60:02d}:{s:02d}" if m >= 60 else f"{m}:{s:02d}"


def time_left(elapsed: float, done: int, total: int) -> float | None:
    """Wall time left if the rest goes as fast as ``done`` of ``total`` went."""
    return elapsed / done * (total - done) if done else None


class RichProgress(Callback):
    """A bar over the updates (on a terminal, moved every ``every`` updates), and a line
    per evaluation: losses, accuracies, time elapsed and left."""

    def __init__(self, title: str = "training", every: int = 25,
                 console: Console | None = None) -> None:
        self.title, self.every, self.t0 = title, every, time.monotonic()
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(),
            TextColumn("{task.completed}/{task.total} updates"),
            TextColumn("{task.fields[loss]}"), TimeRemainingColumn(),
            console=console or Console(stderr=True), transient=True)

    def on_train_begin(self, state: FitState) -> None:
        self.t0 = time.monotonic()
        self.task = self.progress.add_task(self.title, total=state.total_steps, loss="")
        self.progress.start()

    def on_step_end(self, state: FitState, loss: float) -> None:
        if state.step % self.every == 0:
            self.progress.update(self.task, completed=state.step, loss=f"loss {loss:.4f}")

    def on_eval(self, state: FitState, r: dict) -> None:
        val = (f"val {r['val_loss']:.4f}/{r['val_acc']:.4f}"
               if r.get("val_acc") is not None else "no val set")
        elapsed = time.monotonic() - self.t0
        left = time_left(elapsed, state.step, state.total_steps)
        self.progress.console.print(
            f"ep {r['epoch']:>3} │ train {r['train_loss']:.4f}/{r['train_acc']:.4f} │ {val} │ "
            f"lr {r['lr']:.2e} │ {clock(elapsed)} elapsed, ~{clock(left)} left",
            highlight=False, soft_wrap=True)

    def on_train_end(self, state: FitState) -> None:
        self.progress.stop()


def unfinished_runs(folder: Path) -> list[str]:
    """Sub-runs of ``folder`` that started (config.yaml) and have not ended (summary.json)."""
    try:
        subs = sorted(p for p in Path(folder).iterdir() if p.is_dir())
    except OSError:
        return []
    return [p.name for p in subs
            if (p / "config.yaml").is_file() and not (p / "summary.json").is_file()]


class RunsTicker:
    """``k/n runs done (f failed); running: …; m:ss elapsed, ~m:ss left``, redrawn every
    second on a terminal, else printed every ``every`` seconds. ``running()`` names the
    runs in progress; ``done`` runs ended before this process (not counted in the speed).
    Once a stop is asked for (Ctrl-C; queued runs skip) the estimate gives way to ``stopping``."""

    def __init__(self, total: int, running: Callable[[], Sequence[str]] = lambda: (),
                 done: int = 0, every: float = 30.0, console: Console | None = None) -> None:
        self.total, self.done, self.kept, self.failed = total, done, done, 0
        self.running, self.every = running, every
        self.console = console or Console(stderr=True)
        self.t0 = time.monotonic()
        self._stop = threading.Event()
        self._live = Live(console=self.console, transient=True, refresh_per_second=1,
                          get_renderable=lambda: Text(self.line()))

    def line(self) -> str:
        failed = f" ({self.failed} failed)" if self.failed else ""
        names = ", ".join(self.running())
        running = f"; running: {names}" if names else ""
        return f"{self.done}/{self.total} runs done{failed}{running}; {self.times()}"

    def times(self) -> str:
        """``1:05 elapsed, ~2:10 left`` (``stopping`` once a stop was asked for)."""
        elapsed = time.monotonic() - self.t0
        left = time_left(elapsed, self.done - self.kept, self.total - self.kept)
        rest = "stopping" if signals.requested() else f"~{clock(left)} left"
        return f"{clock(elapsed)} elapsed, {rest}"

    def start(self) -> "RunsTicker":
        self.t0 = time.monotonic()
        if self.console.is_terminal:
            self._live.start()
        else:
            threading.Thread(target=self._tick, daemon=True).start()
        return self

    def _tick(self) -> None:
        while not self._stop.wait(self.every):
            self.console.print(self.line(), highlight=False, soft_wrap=True)

    def finished(self, status: str) -> None:
        self.done += 1
        self.failed += status not in ("completed", "skipped")

    def stop(self) -> None:
        self._stop.set()
        self._live.stop()
