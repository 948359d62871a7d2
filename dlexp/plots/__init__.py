"""Figures, made from what runs wrote to disk (plotting never trains). Importing the package
selects matplotlib's non-interactive Agg backend and the house style below."""

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams.update({"axes.titlesize": "medium", "axes.grid": True, "grid.alpha": 0.3,
                            "legend.fontsize": "small", "figure.titlesize": "medium"})
