"""2-D functions to minimise, by exact name: where each optimiser's update rule walks.

* ``anisotropic`` (the book's figure): f = x²/20 + y², ∇f = (x/10, 2y), minimum (0, 0),
  from (−7, 2) for 30 updates; 20× steeper in y than in x.
* ``rotated``: the same bowl turned by 45°: f = u²/20 + v², u = (x+y)/√2, v = (y−x)/√2.
* ``rosenbrock``: f = (1 − x)² + 100 (y − x²)², a curved, flat-bottomed valley, min (1, 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping

from dlexp.errors import ConfigError


@dataclass(frozen=True)
class Function2D:
    """A 2-D function to minimise, with the view and learning rates that show it well."""

    formula: str                          # for titles
    value: Callable                       # f(x, y) on arrays of any shape
    grad: Callable                        # (x, y) → (∂f/∂x, ∂f/∂y)
    start: tuple[float, float]
    minimum: tuple[float, float]
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    lrs: Mapping[str, float]              # default η per optimiser
    steps: int = 30                       # default number of updates
    note: str = ""                        # printed under the table of final points


def _bowl(x, y):
    return x * x / 20.0 + y * y


def _bowl_grad(x, y):
    return x / 10.0, 2.0 * y


_C = 1.0 / math.sqrt(2.0)


def _rotated_grad(x, y):
    gu, gv = _bowl_grad(_C * (x + y), _C * (y - x))     # chain rule through the turn
    return _C * (gu - gv), _C * (gu + gv)


def get_function(name: str) -> Function2D:
    if name not in FUNCTIONS:
        raise ConfigError(f"unknown function {name!r}; choose one of: {', '.join(FUNCTIONS)}")
    return FUNCTIONS[name]


# η per optimiser: the book's four (in its order) for the bowl, and readable paths for the rest
_BOWL_LRS = {"sgd": 0.95, "momentum": 0.1, "adagrad": 1.5, "adam": 0.3, "rmsprop": 0.1,
             "nesterov": 0.1}
FUNCTIONS: dict[str, Function2D] = {
    "anisotropic": Function2D(
        "f(x, y) = x²/20 + y²", _bowl, _bowl_grad, start=(-7.0, 2.0), minimum=(0.0, 0.0),
        xlim=(-10.0, 10.0), ylim=(-5.0, 5.0), lrs=_BOWL_LRS),
    "rotated": Function2D(
        "f = u²/20 + v², (u, v) = (x, y) turned by 45°",
        lambda x, y: _bowl(_C * (x + y), _C * (y - x)), _rotated_grad,
        start=(-5.0, -3.0), minimum=(0.0, 0.0), xlim=(-8.0, 8.0), ylim=(-8.0, 8.0),
        lrs=_BOWL_LRS),
    "rosenbrock": Function2D(
        "f(x, y) = (1 − x)² + 100 (y − x²)²",
        lambda x, y: (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2,
        lambda x, y: (-2.0 * (1.0 - x) - 400.0 * x * (y - x * x), 200.0 * (y - x * x)),
        start=(-1.5, 2.0), minimum=(1.0, 1.0), xlim=(-2.0, 2.0), ylim=(-1.0, 3.0), steps=300,
        lrs={"sgd": 0.002, "momentum": 0.001, "adagrad": 1.0, "adam": 0.2, "rmsprop": 0.02,
             "nesterov": 0.001},
        note="along this curved valley the adaptive methods crawl: AdaGrad's steps fade, "
             "and RMSProp's stay small because the steep walls' gradients fill its average "
             "of g²; neither is near (1, 1) after 300 updates, with --steps 3000 both end "
             "within 0.3 of it"),
}
