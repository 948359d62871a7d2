"""Experiments: short compositions of config → train_run → run folders → CSVs.

:mod:`~dlexp.experiments.compare` (with :mod:`~dlexp.experiments.variants`,
:mod:`~dlexp.experiments.pool`, :mod:`~dlexp.experiments.aggregate`) runs any set of
variants of a base config; presets such as :mod:`~dlexp.experiments.optimizers` are
built on it. :mod:`~dlexp.experiments.paths` follows optimisers on 2-D functions.
"""
