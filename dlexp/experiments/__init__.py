"""Experiments: short compositions of config → train_run → run folders → CSVs.

:mod:`~dlexp.experiments.sweep` runs a grid of variants × seeds of a base config (made
by :mod:`~dlexp.experiments.variants`, trained by :mod:`~dlexp.experiments.pool`,
aggregated by :mod:`~dlexp.experiments.aggregate`); :mod:`~dlexp.experiments.report`
prints it. The book's presets (``optimizers``, ``inits``, ``batchnorm``, ``overfit``,
``ensemble``) are sweeps with their analyses; ``paths`` and ``activations`` need no
training; ``folders`` tells what dlexp wrote where; ``tables`` prints.
"""
