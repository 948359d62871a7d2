"""Loss and accuracy curves of one run, and overlays of several runs."""

from __future__ import annotations

from collections import Counter

from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

from dlexp.errors import RunError
from dlexp.plots.labels import METRIC_NAMES, OBJECTIVE, TRAIN_EVAL, metric_parts
from dlexp.fmt import value_text
from dlexp.train.rundir import flat_config, kind_of, read_metrics, sub_runs, train_evals
from dlexp.plots.save import check_figure_path, save_figure


def _x(records: list[dict]) -> tuple[list[float], str]:
    if len({r["epoch"] for r in records}) == len(records):
        return [r["epoch"] for r in records], "epoch"
    return [r["step"] for r in records], "update"


def plot_run(run_dir: Path) -> list[Path]:
    """Write ``plots/loss.png`` and ``plots/accuracy.png`` from ``metrics.jsonl`` (the
    training curve's legend says how it was measured: ``training.train_eval``)."""
    run_dir = Path(run_dir)
    records = read_metrics(run_dir)
    if not records:
        return []
    x, xlabel = _x(records)
    mode = next(iter(train_evals([run_dir])))
    train = f"train ({TRAIN_EVAL.get(mode, mode)})"
    out = []
    for metric, ylabel in (("loss", "loss"), ("acc", "accuracy")):
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(x, [r[f"train_{metric}"] for r in records], "o-", ms=3, label=train)
        val = [r[f"val_{metric}"] for r in records]
        if any(v is not None for v in val):
            ax.plot(x, val, "s--", ms=3, label="validation")
        ax.set_xlabel(xlabel)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))     # epochs, updates
        ax.set_ylabel(ylabel)
        ax.set_title(f"{run_dir.name}: {ylabel}")
        ax.grid(alpha=0.3)
        ax.legend()
        path = run_dir / "plots" / f"{'loss' if metric == 'loss' else 'accuracy'}.png"
        save_figure(fig, path)
        out.append(path)
    return out


def check_run_dirs(run_dirs: list[Path]) -> None:
    """Raise RunError naming the first path that is not one training run's folder."""
    for d in map(Path, run_dirs):
        if not d.is_dir():
            raise RunError(f"{d}: no such run folder; `dlexp runs` lists them")
        if kind_of(d) == "compare":
            example = d / (sub_runs(d) or ["<sub-run>"])[0]
            raise RunError(f"{d}: a comparison folder, not one run; pass its sub-run "
                           f"folders, e.g. {example}")
        if not (d / "metrics.jsonl").is_file():
            raise RunError(f"{d}: not a run folder (no metrics.jsonl); `dlexp runs` lists "
                           "them")


def plot_overlay(run_dirs: list[Path], out: Path, metric: str = "val_acc"
                 ) -> tuple[Path, list[Path]]:
    """One figure with ``metric`` of every run against epochs (or updates, if any run
    evaluates more often than once an epoch); the legend names each run by its folder
    and the config values that differ between the runs; the y label says how the runs
    measured a training metric (:func:`~dlexp.plots.labels.metric_parts`). ``out``'s
    extension picks the format (.png, .pdf, .svg; else ConfigError, before any work).
    Returns the figure's path and the runs left out because they have no evaluation of
    ``metric`` yet."""
    if metric not in METRIC_NAMES:
        raise RunError(f"--metric {metric!r}: choose one of {', '.join(METRIC_NAMES)}")
    check_figure_path(out)
    check_run_dirs(run_dirs)
    read = {Path(d): read_metrics(Path(d)) for d in run_dirs}
    records = {d: [r for r in rs if r.get(metric) is not None] for d, rs in read.items()}
    shown = [d for d, rs in records.items() if rs]
    skipped = [d for d, rs in records.items() if not rs]
    for d in skipped:              # a whole line (not a torn last one) that is no record
        lines = (d / "metrics.jsonl").read_bytes().split(b"\n")[:-1]
        if not read[d] and any(line.strip() for line in lines):
            raise RunError(f"{d / 'metrics.jsonl'}: no readable record (the file is "
                           "damaged); leave this run out")
    if not shown:
        raise RunError(f"none of the runs has an evaluation of {metric} yet; wait for an "
                       "epoch to finish, or pick another --metric")
    by_step = any(_x(rs)[1] == "update" for rs in records.values() if rs)
    labels = legend_labels(shown)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for k, d in enumerate(shown):
        x = [r["step" if by_step else "epoch"] for r in records[d]]
        ax.plot(x, [r[metric] for r in records[d]], marker="os^Dv"[k % 5], ms=3,
                ls=("-", "--", "-.", ":")[k % 4], label=labels[d])
    ax.set_xlabel("update" if by_step else "epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    what, how = metric_parts(metric, shown)
    ax.set_ylabel(f"{what}\n({how})" if how else what)   # what; then how, on a line
    name = "training objective" if what == OBJECTIVE else METRIC_NAMES[metric]
    ax.set_title(f"{name} of {len(shown)} run{'s' * (len(shown) > 1)}",
                 fontsize="medium")
    ax.grid(alpha=0.3)
    if max(len(t) for t in labels.values()) > 40:        # long labels: below, not over
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(0.0, -0.14))
    else:
        ax.legend(fontsize="small")
    save_figure(fig, out)
    return Path(out), skipped


def legend_labels(run_dirs: list[Path], most: int = 3) -> dict[Path, str]:
    """``folder: key=value, …`` with up to ``most`` of the config keys whose values differ
    between runs: for each run, those where its value is rarest among the runs first
    (what sets it apart), ties in config order."""
    flat = {d: flat_config(d) for d in run_dirs}
    keys = list(dict.fromkeys(k for f in flat.values() for k in f))
    differ = [k for k in keys if k != "name"
              and len({value_text(f.get(k)) for f in flat.values()}) > 1]
    seen = {k: Counter(value_text(f.get(k)) for f in flat.values()) for k in differ}
    out = {}
    for d in run_dirs:
        mine = {k: value_text(flat[d].get(k)) for k in differ}
        order = sorted(differ, key=lambda k: seen[k][mine[k]])     # stable: config order
        parts = [f"{k}={mine[k]}" for k in order[:most]]
        parts += ["…"] if len(differ) > most else []
        out[d] = f"{d.name}: {', '.join(parts)}" if parts else d.name
    return out
