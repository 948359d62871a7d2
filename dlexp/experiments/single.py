"""``dlexp train`` end to end, for the thin CLI to call: one run as the config says
(:func:`~dlexp.train.runner.train_run`, with a progress display unless quiet), its two
figures drawn from the run folder's files once training is over, the summary table,
and the exit code (0 completed, 1 diverged, 130 interrupted)."""

from __future__ import annotations

from pathlib import Path

from dlexp.config import Config


def train_and_report(cfg: Config, runs_root: Path = Path("runs"), quiet: bool = False) -> int:
    """Train ``cfg`` into a new folder under ``runs_root``, plot, print; the exit code."""
    from dlexp.experiments.tables import print_run_summary
    from dlexp.train.runner import EXIT_CODES, train_run
    callbacks = ()
    if not quiet:
        from dlexp.train.progress import RichProgress
        callbacks = (RichProgress(cfg.name),)
    result = train_run(cfg, runs_root=runs_root, callbacks=callbacks, progress=not quiet)
    from dlexp.plots.runs import plot_run      # after training: the data is freed by now
    plot_run(result.dir)
    print_run_summary(result.dir, result.summary)
    return EXIT_CODES[result.summary["status"]]
