"""From the sub-run folders of a sweep to the CSVs behind its plots and table.

The loss ℓ_t of every update (steps.csv) is smoothed by a trailing, bias-corrected
exponential moving average of span w (``--smooth``; β = 1 − 2/(w + 1)):

    m_0 = 0,   m_t = β m_{t−1} + (1 − β) ℓ_t,   s_t = m_t / (1 − β^t)

s_t never looks ahead (s_1 = ℓ_1) and its weights have mean age (w − 1)/2 updates, as a
plain average of the last w would; s_T is the *final smoothed loss*, a minibatch-loss
figure (not a run's ``final_train_loss``). Over the seeds k of one label, at each t:

    raw = mean_k ℓ_t^k    smooth = mean_k s_t^k    band: min…max or ± std_k s_t^k

into loss.csv (val_accuracy.csv and train_accuracy.csv: the same statistics of each
evaluation), from the runs that completed or were interrupted (a diverged run would swamp
the scale); ``n`` counts the runs a point averages, and a file without rows is not written.
summary.csv has one row per label.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from dlexp.io import read_csv, read_json, write_csv, write_json
from dlexp.train.rundir import read_metrics

LOSS_COLUMNS = ["label", "step", "n", "raw", "smooth", "smooth_std", "smooth_min", "smooth_max"]
VAL_COLUMNS = ["label", "step", "epoch", "n", "mean", "std", "min", "max"]
METRICS = ("final_smoothed_loss", "best_val_acc", "test_acc")
CURVE_STATUSES = ("completed", "interrupted")


def smooth_losses(x: np.ndarray, span: int) -> np.ndarray:
    """s_t of the module docstring for t = 1…T: trailing, bias-corrected EMA; (T,)."""
    x = np.asarray(x, dtype=np.float64)                       # (T,)
    beta = 1.0 - 2.0 / (span + 1.0)
    out = np.empty_like(x)                                    # (T,)
    m, scale = 0.0, 0.0                                       # scale = 1 − β^t
    for t, value in enumerate(x.tolist()):
        m = beta * m + (1.0 - beta) * value
        scale = beta * scale + (1.0 - beta)
        out[t] = m / scale
    return out


def read_step_losses(run_dir: Path) -> np.ndarray:
    """The loss of every update of a run (steps.csv), (T,); empty if there is none."""
    rows = read_csv(Path(run_dir) / "steps.csv", optional=True)
    return np.array([float(r["loss"]) for r in rows], dtype=np.float64)


def loss_curves(runs_by_label: dict[str, list[str]], losses: dict[str, np.ndarray],
                smooth: dict[str, np.ndarray]) -> list[dict]:
    """The rows of loss.csv from each run's ℓ_t and s_t (by run name)."""
    rows = []
    for label, names in runs_by_label.items():
        names = [name for name in names if name in smooth]
        if names:
            raw = _stack([losses[name] for name in names])   # (n, T), NaN past a run's end
            n, stats = _spread(_stack([smooth[name] for name in names]))
            rows += [dict(zip(LOSS_COLUMNS, [label, t + 1, n[t], np.nanmean(raw[:, t]),
                                             *(c[t] for c in stats)]))
                     for t in range(raw.shape[1])]
    return rows


def val_curves(runs_by_label: dict[str, list[Path]], metric: str = "val_acc") -> list[dict]:
    """Mean, std, min and max over seeds of ``metric`` (val_acc, train_acc) per evaluation."""
    rows = []
    for label, dirs in runs_by_label.items():
        per_run = [{r["step"]: (r["epoch"], r[metric]) for r in read_metrics(Path(d))
                    if r.get(metric) is not None} for d in dirs]
        steps = sorted({s for run in per_run for s in run})
        epochs = {s: e for run in per_run for s, (e, _) in run.items()}
        values = np.array([[run[s][1] if s in run else np.nan for s in steps]
                           for run in per_run], dtype=np.float64)       # (runs, evaluations)
        n, stats = _spread(values)
        rows += [dict(zip(VAL_COLUMNS, [label, s, epochs[s], n[t], *(c[t] for c in stats)]))
                 for t, s in enumerate(steps)]
    return rows


def summary_rows(runs: Sequence[dict], final_loss: dict[str, float], label_column: str,
                 keys: Sequence[str]) -> list[dict]:
    """One row per label, in first-seen order; ``final_loss`` maps run name → s_T;
    metrics are means over the label's completed and interrupted runs."""
    rows = []
    for label in dict.fromkeys(r["label"] for r in runs):
        group = [r for r in runs if r["label"] == label]
        done = [{**r, "final_smoothed_loss": final_loss.get(r["run"])}
                for r in group if r["status"] in CURVE_STATUSES]
        counts = sorted(Counter(r["status"] for r in group).items())
        row: dict[str, Any] = {label_column: label, **{k: group[0].get(k) for k in keys},
                               "runs": len(group), "completed": dict(counts).get("completed", 0),
                               "status": counts[0][0] if len(counts) == 1 else
                               ", ".join(f"{s}×{n}" for s, n in counts)}
        for name in METRICS:
            v = np.array([r[name] for r in done if r.get(name) is not None], dtype=np.float64)
            row[name] = float(v.mean()) if v.size else None
            row[f"{name}_std"] = float(v.std()) if v.size > 1 else None
        secs = [r["train_seconds"] for r in done if r.get("train_seconds") is not None]
        row["seconds"] = float(np.mean(secs)) if secs else None
        rows.append(row)
    return rows


def aggregate_compare(out_dir: Path, runs: Sequence[dict], window: int, label_column: str,
                      keys: Sequence[str]) -> list[dict]:
    """Write loss.csv, val_accuracy.csv and summary.csv into ``out_dir``; return the summary."""
    out_dir = Path(out_dir)
    by_label: dict[str, list[str]] = {}
    for r in runs:
        if r["status"] in CURVE_STATUSES:
            by_label.setdefault(r["label"], []).append(r["run"])
    losses = {name: read_step_losses(out_dir / name) for v in by_label.values() for name in v}
    smooth = {name: smooth_losses(x, window) for name, x in losses.items() if x.size}
    dirs = {label: [out_dir / name for name in v] for label, v in by_label.items()}
    for name, rows, columns in (
            ("loss.csv", loss_curves(by_label, losses, smooth), LOSS_COLUMNS),
            ("val_accuracy.csv", val_curves(dirs), VAL_COLUMNS),
            ("train_accuracy.csv", val_curves(dirs, "train_acc"), VAL_COLUMNS)):
        if rows:
            write_table(out_dir / name, rows, columns)
    rows = summary_rows(runs, {name: float(s[-1]) for name, s in smooth.items()},
                        label_column, keys)
    columns = [label_column, *keys, "runs", "completed", "status"]
    columns += [c for m in METRICS for c in (m, f"{m}_std")] + ["seconds"]
    write_table(out_dir / "summary.csv", rows, columns)
    return rows


@dataclass(frozen=True)
class CompareResult:
    """A finished sweep, as its analyses and its report see it."""

    dir: Path
    status: str                             # completed, failed or interrupted
    runs: list[dict]                        # one record per variant, in variant order
    summary: list[dict]                     # one row per label (summary.csv)
    signalled: bool = False                 # Ctrl-C or SIGTERM came (all was written)

    @property
    def failed(self) -> list[dict]:
        return [r for r in self.runs if r["status"] != "completed"]


def label_means(out_dir: Path, runs: Sequence[dict], keys: Sequence[str]) -> dict[str, dict]:
    """{label: {key: mean over its completed runs of summary.json[key]}} (None: no value)."""
    out: dict[str, dict] = {}
    for label in dict.fromkeys(r["label"] for r in runs):
        values = [read_json(Path(out_dir) / r["run"] / "summary.json") for r in runs
                  if r["label"] == label and r["status"] == "completed"]
        v = {k: [s[k] for s in values if s.get(k) is not None] for k in keys}
        out[label] = {k: float(np.mean(v[k])) if v[k] else None for k in keys}
    return out


def extend_summary(result: CompareResult, columns: dict[str, dict],
                   overall: dict | None = None) -> CompareResult:
    """Add per-label ``columns`` ({label: {column: value}}) to summary.csv and ``overall``
    to summary.json; the result with the extended summary."""
    label = next(iter(result.summary[0]))              # the label column comes first
    rows = [{**r, **columns.get(r[label], {})} for r in result.summary]
    write_table(result.dir / "summary.csv", rows, list(dict.fromkeys(c for r in rows for c in r)))
    if overall:
        path = result.dir / "summary.json"
        write_json(path, {**read_json(path), **overall})
    return dataclasses.replace(result, summary=rows)


def write_table(path: Path, rows: Sequence[dict], columns: Sequence[str]) -> None:
    """Atomically write ``rows`` with ``columns``: None (and NaN) empty, floats in full."""
    write_csv(Path(path), [{c: _cell(r.get(c)) for c in columns} for r in rows], list(columns))


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (float, np.floating)):
        return "" if np.isnan(v) else repr(float(v))
    return str(v)


def _spread(values: np.ndarray) -> tuple[list[int], list[np.ndarray]]:
    """Per column of (n, T) ``values`` (NaN: no value): count, then mean, std, min, max."""
    stats = [f(values, axis=0) for f in (np.nanmean, np.nanstd, np.nanmin, np.nanmax)]
    return np.sum(~np.isnan(values), axis=0).tolist(), stats


def _stack(curves: list[np.ndarray]) -> np.ndarray:
    out = np.full((len(curves), max(c.size for c in curves)), np.nan)   # (n, T)
    for i, c in enumerate(curves):
        out[i, :c.size] = c
    return out
