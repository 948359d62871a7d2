"""Experiments: short compositions of config → train_run → run folders → CSVs.

:mod:`~dlexp.experiments.compare` (with :mod:`~dlexp.experiments.variants`,
:mod:`~dlexp.experiments.pool`, :mod:`~dlexp.experiments.aggregate`) runs any set of
variants of a base config; presets such as :mod:`~dlexp.experiments.optimizers` are
built on it, and :mod:`~dlexp.experiments.report` runs, plots and prints any of them
(every comparison command). :mod:`~dlexp.experiments.paths` follows optimisers on 2-D
functions and :mod:`~dlexp.experiments.activations` traces activations through layers
(each run, drawn and printed by the command line, :mod:`dlexp.cli`). :mod:`~dlexp.experiments.book` holds the book's
settings the presets default to. :mod:`~dlexp.experiments.folders` tells what kind of
folder dlexp wrote; :mod:`~dlexp.experiments.tables` prints tables.
"""
