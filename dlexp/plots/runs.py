"""Loss and accuracy curves of one run, and overlays of several runs, labelled with how a
training curve was measured (``training.train_eval``); with weight decay the training loss
is the objective, cross-entropy + ½λ₂‖W‖² + λ₁‖W‖₁ (validation loss is cross-entropy alone)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Iterable

import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

from dlexp.errors import RunError
from dlexp.fmt import value_text
from dlexp.plots.base import check_figure_path, save_figure
from dlexp.train.rundir import (flat_config, has_weight_decay, kind_of, read_metrics,
                                sub_runs, train_evals)

METRIC_NAMES = {"train_loss": "training loss", "train_acc": "training accuracy",
                "val_loss": "validation loss", "val_acc": "validation accuracy"}
TRAIN_EVAL = {"full": "whole training set", "running": "mean since the previous evaluation"}
OBJECTIVE = "training objective: loss + weight-decay penalty"


def metric_parts(metric: str, run_dirs: Iterable[Path]) -> tuple[str, str]:
    """(what, how) of ``metric`` over these runs: what was measured (a training loss with
    weight decay is the :data:`OBJECTIVE`) and, for a training metric, where — or that the
    runs differ ("" for validation metrics)."""
    run_dirs = list(run_dirs)
    if not metric.startswith("train_"):
        return METRIC_NAMES[metric], ""
    decay = metric == "train_loss" and has_weight_decay(run_dirs)
    modes = train_evals(run_dirs)
    how = (TRAIN_EVAL.get(min(modes)) if len(modes) == 1 else None
           ) or "whole set or running mean: training.train_eval differs"
    return OBJECTIVE if decay else METRIC_NAMES[metric], how


def minibatch_loss_label(decay: bool) -> str:
    """The y label of per-update minibatch losses (``decay``: any run had weight decay)."""
    return f"{OBJECTIVE if decay else 'training loss'} (minibatch)"


def _x(records: list[dict]) -> tuple[list[float], str]:
    """Epochs, or updates if a run evaluates more often than once an epoch."""
    if len({r["epoch"] for r in records}) == len(records):
        return [r["epoch"] for r in records], "epoch"
    return [r["step"] for r in records], "update"


def plot_run(run_dir: Path) -> list[Path]:
    """Write ``plots/loss.png`` and ``plots/accuracy.png`` from ``metrics.jsonl``."""
    records = read_metrics(run_dir)
    if not records:
        return []
    x, xlabel = _x(records)
    mode = min(train_evals([run_dir]))
    out = []
    for metric, name in (("loss", "loss"), ("acc", "accuracy")):
        fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
        ax.plot(x, [r[f"train_{metric}"] for r in records], "o-", ms=3,
                label=f"train ({TRAIN_EVAL.get(mode, mode)})")
        val = [r[f"val_{metric}"] for r in records]
        if any(v is not None for v in val):
            ax.plot(x, val, "s--", ms=3, label="validation")
        ax.set(xlabel=xlabel, ylabel=name, title=f"{run_dir.name}: {name}")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize="medium")
        out.append(save_figure(fig, run_dir / "plots" / f"{name}.png"))
    return out


def check_run_dirs(run_dirs: list[Path]) -> None:
    """Raise RunError naming the first path that is not one training run's folder."""
    for d in map(Path, run_dirs):
        if not d.is_dir():
            what = "not a" if d.exists() else "no such"
            raise RunError(f"{d}: {what} run folder; `dlexp runs` lists them")
        if kind_of(d) == "compare":
            example = d / (sub_runs(d) or ["<sub-run>"])[0]
            raise RunError(f"{d}: a comparison folder, not one run; pass its sub-run "
                           f"folders, e.g. {example}")
        if not (d / "metrics.jsonl").is_file():
            raise RunError(f"{d}: not a run folder (no metrics.jsonl); `dlexp runs` lists "
                           "them")


def plot_overlay(run_dirs: list[Path], out: Path, metric: str = "val_acc"
                 ) -> tuple[Path, list[Path]]:
    """One figure with ``metric`` of every run, each named by :func:`legend_labels`;
    ``out``'s extension picks the format (checked before any work). Returns the figure's
    path and the runs left out because they have no evaluation of ``metric`` yet."""
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
    by_step = any(_x(records[d])[1] == "update" for d in shown)
    labels = legend_labels(shown)
    fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    for k, d in enumerate(shown):
        ax.plot([r["step" if by_step else "epoch"] for r in records[d]],
                [r[metric] for r in records[d]], marker="os^Dv"[k % 5], ms=3,
                ls=("-", "--", "-.", ":")[k % 4], label=labels[d])
    what, how = metric_parts(metric, shown)
    name = "training objective" if what == OBJECTIVE else METRIC_NAMES[metric]
    ax.set(xlabel="update" if by_step else "epoch", ylabel=f"{what}\n({how})" if how else what,
           title=f"{name} of {len(shown)} run{'s' * (len(shown) > 1)}")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if max(len(t) for t in labels.values()) > 40:        # long labels: below, not over
        fig.legend(loc="outside lower left")
    else:
        ax.legend()
    return save_figure(fig, out), skipped


def legend_labels(run_dirs: list[Path], most: int = 3) -> dict[Path, str]:
    """``folder: key=value, …`` with up to ``most`` of the config keys whose values differ
    between runs: for each run, those where its value is rarest among the runs first
    (what sets it apart), ties in config order."""
    flat = {d: flat_config(d) for d in run_dirs}
    keys = dict.fromkeys(k for f in flat.values() for k in f)
    seen = {k: Counter(value_text(f.get(k)) for f in flat.values()) for k in keys}
    differ = [k for k in keys if k != "name" and len(seen[k]) > 1]
    out = {}
    for d in run_dirs:
        mine = {k: value_text(flat[d].get(k)) for k in differ}
        order = sorted(differ, key=lambda k: seen[k][mine[k]])     # stable: config order
        parts = [f"{k}={mine[k]}" for k in order[:most]] + ["…"] * (len(differ) > most)
        out[d] = f"{d.name}: {', '.join(parts)}" if parts else d.name
    return out
