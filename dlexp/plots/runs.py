"""Loss and accuracy curves of one run, and overlays of several runs."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from dlexp.io import atomic_write_bytes, read_jsonl


def save_figure(fig, path: Path, dpi: int = 110) -> None:
    """Save ``fig`` as PNG atomically and close it."""
    import io
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())


def _x(records: list[dict]) -> tuple[list[float], str]:
    if len({r["epoch"] for r in records}) == len(records):
        return [r["epoch"] for r in records], "epoch"
    return [r["step"] for r in records], "update"


def plot_run(run_dir: Path) -> list[Path]:
    """Write ``plots/loss.png`` and ``plots/accuracy.png`` from ``metrics.jsonl``."""
    run_dir = Path(run_dir)
    records = read_jsonl(run_dir / "metrics.jsonl")
    if not records:
        return []
    x, xlabel = _x(records)
    out = []
    for metric, ylabel in (("loss", "loss"), ("acc", "accuracy")):
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(x, [r[f"train_{metric}"] for r in records], "o-", ms=3, label="train")
        val = [r[f"val_{metric}"] for r in records]
        if any(v is not None for v in val):
            ax.plot(x, val, "s--", ms=3, label="validation")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(f"{run_dir.name}: {ylabel}")
        ax.grid(alpha=0.3)
        ax.legend()
        path = run_dir / "plots" / f"{'loss' if metric == 'loss' else 'accuracy'}.png"
        save_figure(fig, path)
        out.append(path)
    return out


def plot_overlay(run_dirs: list[Path], out: Path, metric: str = "val_acc") -> Path:
    """One figure with ``metric`` of every run in ``run_dirs`` against epochs/updates."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    xlabel = "epoch"
    for d in run_dirs:
        records = [r for r in read_jsonl(Path(d) / "metrics.jsonl") if r.get(metric) is not None]
        if records:
            x, xlabel = _x(records)
            ax.plot(x, [r[metric] for r in records], "o-", ms=3, label=Path(d).name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(metric)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    save_figure(fig, out)
    return Path(out)
