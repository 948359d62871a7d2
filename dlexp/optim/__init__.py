"""Optimisers as ``(init, update)`` pairs over dicts of arrays, and learning-rate schedules."""

from dlexp.optim.optimizers import OPTIMIZERS, build_optimizer, hyperparameters
from dlexp.optim.schedules import SCHEDULES, make_schedule
from dlexp.optim.transforms import GradientTransformation, apply_updates, chain

__all__ = ["OPTIMIZERS", "SCHEDULES", "GradientTransformation", "apply_updates",
           "build_optimizer", "chain", "hyperparameters", "make_schedule"]
