"""A rich progress display for :func:`~dlexp.train.loop.fit`: a bar over all updates,
and one line per evaluation with loss, accuracy and speed."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from dlexp.train.loop import Callback, FitState


class RichProgress(Callback):
    """Live progress on stderr; refreshes the bar every ``every`` updates."""

    def __init__(self, title: str = "training", every: int = 25,
                 console: Console | None = None) -> None:
        self.title, self.every = title, every
        self.console = console or Console(stderr=True)
        self.progress: Progress | None = None
        self.task = None

    def on_train_begin(self, state: FitState) -> None:
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(),
            TextColumn("{task.completed}/{task.total} updates"),
            TextColumn("loss {task.fields[loss]:.4f}"), TimeRemainingColumn(),
            console=self.console, transient=True)
        self.task = self.progress.add_task(self.title, total=state.total_steps, loss=float("nan"))
        self.progress.start()

    def on_step_end(self, state: FitState, loss: float) -> None:
        if state.step % self.every == 0:
            self.progress.update(self.task, completed=state.step, loss=loss)

    def on_eval(self, state: FitState, r: dict) -> None:
        val = (f"val {r['val_loss']:.4f}/{r['val_acc']:.4f}"
               if r.get("val_acc") is not None else "no val set")
        self.progress.console.print(
            f"ep {r['epoch']:>3} │ train {r['train_loss']:.4f}/{r['train_acc']:.4f} │ {val} │ "
            f"lr {r['lr']:.2e} │ {r['seconds']:.2f}s", highlight=False)

    def on_train_end(self, state: FitState) -> None:
        if self.progress is not None:
            self.progress.stop()
