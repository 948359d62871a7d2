"""Figures, made from what runs wrote to disk. Plotting never trains.

Every module here selects matplotlib's non-interactive Agg backend on import."""

import matplotlib

matplotlib.use("Agg")
