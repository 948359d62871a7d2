"""Weight initialisers, by exact name.

Every initialiser maps ``(rng, fan_in, fan_out, dtype)`` to a weight matrix of shape
``(fan_in, fan_out)``; biases are always zero. All but ``zeros`` and ``normal`` are
settings of one general function, :func:`variance_scaling`:

    std = sqrt(scale / n),   n = fan_in | fan_out | (fan_in + fan_out) / 2
    normal:  W ~ N(0, std²)          uniform:  W ~ U(-sqrt(3)·std, sqrt(3)·std)

name               scale  mode     std                         also known as
=================  =====  =======  ==========================  ======================
``lecun_normal``   1      fan_in   sqrt(1 / fan_in)            the book's "Xavier"
``glorot_normal``  1      fan_avg  sqrt(2 / (fan_in+fan_out))  ``xavier_normal``
``glorot_uniform`` 1      fan_avg  (same std, uniform)         ``xavier_uniform``
``he_normal``      2      fan_in   sqrt(2 / fan_in)            ``kaiming_normal``
``he_uniform``     2      fan_in   (same std, uniform)         ``kaiming_uniform``

The book calls sqrt(1/fan_in) "Xavier"; its standard name is LeCun, and Glorot & Bengio's
Xavier uses the mean of fan-in and fan-out. Both are offered under their standard names.
"""

from __future__ import annotations

from functools import partial
from typing import Callable, Literal

import numpy as np

Initializer = Callable[[np.random.Generator, int, int, np.dtype], np.ndarray]
FanMode = Literal["fan_in", "fan_out", "fan_avg"]
DEFAULT_NORMAL_STD = 0.01


def _fan(mode: FanMode, fan_in: int, fan_out: int) -> float:
    """n of ``std = sqrt(scale / n)``: fan_in, fan_out, or their mean (fan_avg)."""
    return {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]


def variance_scaling(
    scale: float, mode: FanMode, distribution: Literal["normal", "uniform"]
) -> Initializer:
    """Initialiser with variance ``scale / n`` where ``n`` is chosen by ``mode``."""

    def init(rng: np.random.Generator, fan_in: int, fan_out: int, dtype=np.float64) -> np.ndarray:
        std = np.sqrt(scale / _fan(mode, fan_in, fan_out))
        if distribution == "normal":
            w = rng.standard_normal((fan_in, fan_out)) * std
        else:
            limit = np.sqrt(3.0) * std
            w = rng.uniform(-limit, limit, (fan_in, fan_out))
        return w.astype(dtype, copy=False)  # (fan_in, fan_out)

    return init


def normal(std: float = DEFAULT_NORMAL_STD) -> Initializer:
    """W ~ N(0, std²), the same for every layer (the book's std 1 and 0.01)."""

    def init(rng: np.random.Generator, fan_in: int, fan_out: int, dtype=np.float64) -> np.ndarray:
        return (rng.standard_normal((fan_in, fan_out)) * std).astype(dtype, copy=False)

    return init


def zeros() -> Initializer:
    """W = 0: every unit of a layer computes the same thing forever (the symmetry problem)."""

    def init(rng: np.random.Generator, fan_in: int, fan_out: int, dtype=np.float64) -> np.ndarray:
        return np.zeros((fan_in, fan_out), dtype=dtype)

    return init


def make_initializer(name: str, std: float | None = None) -> Initializer:
    """The initialiser registered as ``name``; ``std`` is ``normal``'s (only)."""
    return INITIALIZERS[name]() if std is None else INITIALIZERS[name](std)


INITIALIZERS: dict[str, Callable[..., Initializer]] = {
    "zeros": zeros,
    "normal": normal,
    "lecun_normal": partial(variance_scaling, 1.0, "fan_in", "normal"),
    "lecun_uniform": partial(variance_scaling, 1.0, "fan_in", "uniform"),
    "glorot_normal": partial(variance_scaling, 1.0, "fan_avg", "normal"),
    "glorot_uniform": partial(variance_scaling, 1.0, "fan_avg", "uniform"),
    "xavier_normal": partial(variance_scaling, 1.0, "fan_avg", "normal"),
    "xavier_uniform": partial(variance_scaling, 1.0, "fan_avg", "uniform"),
    "he_normal": partial(variance_scaling, 2.0, "fan_in", "normal"),
    "he_uniform": partial(variance_scaling, 2.0, "fan_in", "uniform"),
    "kaiming_normal": partial(variance_scaling, 2.0, "fan_in", "normal"),
    "kaiming_uniform": partial(variance_scaling, 2.0, "fan_in", "uniform"),
}
