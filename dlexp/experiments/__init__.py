"""Experiments: short compositions of config → train_run → run folders → CSVs.

:mod:`~dlexp.experiments.sweep` runs a grid of variants × seeds; the book's presets are
sweeps with their analyses; ``paths`` and ``activations`` need no training.
"""
