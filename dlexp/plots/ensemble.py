"""The ``ensemble`` preset's figure, drawn from ensemble.csv and summary.csv.

Left: validation accuracy of the first k networks' averaged softmax outputs against k,
one line per variant (plain members, dropout), each network's own accuracy as dots.
Right: test accuracy — one network (mean over the seeds, the bar; range, the whisker)
and all K averaged, per variant: the test set's only appearance, after everything.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from dlexp.io import read_csv
from dlexp.fmt import fmt
from dlexp.plots.compare import by_label
from dlexp.plots.save import save_figure


def plot_ensemble(out_dir: Path, band: str = "minmax", label_column: str = "variant"
                  ) -> list[Path]:
    """Write ``plots/ensemble.png``; the list of what was written (``band``: unused, there
    is no curve over seeds here)."""
    out_dir = Path(out_dir)
    curves = by_label(read_csv(out_dir / "ensemble.csv", optional=True))
    summary = [r for r in read_csv(out_dir / "summary.csv") if r.get("ensemble_test_acc")]
    if not curves and not summary:
        return []                               # no member completed: nothing to show
    fig, (val_ax, test_ax) = plt.subplots(1, 2, figsize=(11, 4.2),
                                          gridspec_kw={"width_ratios": [3, 2]})
    colors = {label: f"C{i % 10}" for i, label in
              enumerate(dict.fromkeys([*curves, *(r[label_column] for r in summary)]))}
    for label, c in curves.items():
        if np.all(np.isnan(c["val_acc"])):
            continue
        val_ax.plot(c["members"], c["val_acc"], "o-", color=colors[label], ms=4,
                    label=f"{label}: first k averaged")
        val_ax.plot(c["members"], c["member_val_acc"], ".", color=colors[label], ms=7,
                    alpha=0.5, label=f"{label}: network k alone")
    val_ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    val_ax.set_xlabel("networks averaged (k)")
    val_ax.set_ylabel("validation accuracy")
    val_ax.set_title("averaging softmax outputs", fontsize="medium")
    val_ax.grid(alpha=0.3)
    if curves:
        val_ax.legend(fontsize="small")
    x = np.arange(len(summary))
    accs = [float(r[k]) for r in summary for k in ("member_test_min", "ensemble_test_acc")]
    low = 0.0                                  # bars start at zero: lengths compare
    for i, r in enumerate(summary):
        color = colors[r[label_column]]
        mean, lo, hi = (float(r[k]) for k in ("test_acc", "member_test_min",
                                              "member_test_max"))
        test_ax.bar(i - 0.2, mean, 0.38, color=color, alpha=0.45,
                    yerr=[[mean - lo], [hi - mean]], capsize=3)
        test_ax.bar(i + 0.2, float(r["ensemble_test_acc"]), 0.38, color=color)
        for dx, value in ((-0.2, mean), (0.2, float(r["ensemble_test_acc"]))):
            test_ax.text(i + dx, low + 0.005, fmt(value, 3), ha="center", va="bottom",
                         fontsize=8)
    test_ax.set_xticks(x, [f"{r[label_column]}\n1 net | {r['members']} nets" for r in summary],
                       fontsize="small")
    if accs:
        test_ax.set_ylim(low, min(1.0, max(accs) + 0.05))
    test_ax.set_ylabel("test accuracy")
    test_ax.set_title("test set, once: one network (faint) vs averaged", fontsize="medium")
    test_ax.grid(alpha=0.3, axis="y")
    path = out_dir / "plots" / "ensemble.png"
    save_figure(fig, path)
    return [path]
