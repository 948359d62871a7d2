"""How a number is shown in a table or a figure label: one rule for every command.

    fmt(None)          → "—"            nothing to show
    fmt(7), fmt("relu") → "7", "relu"    whole numbers and names as they are
    fmt(0.91234)       → "0.9123"       10⁻² ≤ |x| < 10³ or x = 0: ``digits`` decimals
    fmt(3.2e-05)       → "3.200e-05"    otherwise: ``digits`` significant figures

Accuracies, losses and seconds read as fixed decimals; learning rates and weight decays,
which span powers of ten, keep their significant figures instead of rounding to 0.0000.
Files (CSV, JSON) keep full precision and never go through this.
"""

from __future__ import annotations

import numbers
from typing import Any

FIXED_RANGE = (1e-2, 1e3)        # |x| in [low, high): fixed decimals


def fmt(value: Any, digits: int = 4) -> str:
    """``value`` as table text (see the module docstring); ``digits`` ≥ 1."""
    if value is None:
        return "—"
    if isinstance(value, numbers.Integral) or not isinstance(value, numbers.Real):
        return str(value)
    x = float(value)
    low, high = FIXED_RANGE
    if x == 0 or low <= abs(x) < high:
        return f"{x:.{digits}f}"
    return f"{x:.{max(digits - 1, 0)}e}"
