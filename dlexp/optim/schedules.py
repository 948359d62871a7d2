"""Learning-rate schedules: functions from the update count t (0, 1, …) to η(t).

Each is made by :func:`make_schedule` from the base rate η₀ and its settings, and given
to any optimiser in place of a constant rate. ``steps_per_epoch`` turns epoch-based
settings into update counts; e = ⌊t / steps_per_epoch⌋ is the current epoch.

The schedules: ``constant``, ``step``, ``exponential``, ``inverse_time``, ``cosine``
(each function's docstring gives its η(t)).
"""

from __future__ import annotations

import math

from dlexp.optim.transforms import Schedule


def constant(lr: float, steps_per_epoch: int, total_steps: int) -> Schedule:
    """η(t) = η₀."""
    return lambda t: lr


def step(lr: float, steps_per_epoch: int, total_steps: int, every: int = 10,
         gamma: float = 0.1) -> Schedule:
    """η(t) = η₀ · γ^⌊e / every⌋, e = ⌊t / steps_per_epoch⌋."""
    return lambda t: lr * gamma ** ((t // steps_per_epoch) // every)


def exponential(lr: float, steps_per_epoch: int, total_steps: int, gamma: float = 0.9
                ) -> Schedule:
    """η(t) = η₀ · γᵉ, e = ⌊t / steps_per_epoch⌋."""
    return lambda t: lr * gamma ** (t // steps_per_epoch)


def inverse_time(lr: float, steps_per_epoch: int, total_steps: int, k: float = 0.1
                 ) -> Schedule:
    """η(t) = η₀ / (1 + k e), e = ⌊t / steps_per_epoch⌋."""
    return lambda t: lr / (1.0 + k * (t // steps_per_epoch))


def cosine(lr: float, steps_per_epoch: int, total_steps: int, min_lr: float = 0.0
           ) -> Schedule:
    """η(t) = η_min + (η₀ − η_min)(1 + cos(π t / T)) / 2, T = total_steps (η(T) = η_min)."""
    T = max(total_steps, 1)
    return lambda t: min_lr + (lr - min_lr) * (1.0 + math.cos(math.pi * min(t, T) / T)) / 2.0


def make_schedule(name: str, lr: float, steps_per_epoch: int = 1, total_steps: int = 1,
                  **settings: float) -> Schedule:
    """The schedule registered as ``name``, starting from ``lr``."""
    return SCHEDULES[name](lr, steps_per_epoch, total_steps, **settings)


SCHEDULES = {
    "constant": constant,
    "step": step,
    "exponential": exponential,
    "inverse_time": inverse_time,
    "cosine": cosine,
}
