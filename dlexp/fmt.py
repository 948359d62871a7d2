"""How a number is shown in a table or a figure label: one rule for every command.

    fmt(None)          → "—"            nothing to show
    fmt(7), fmt("relu") → "7", "relu"    whole numbers and names as they are
    fmt(0.91234)       → "0.9123"       10⁻² ≤ |x| < 10³ or x = 0: ``digits`` decimals
    fmt(3.2e-05)       → "3.200e-05"    otherwise: ``digits`` significant figures

Accuracies, losses and seconds read as fixed decimals; learning rates and weight decays,
which span powers of ten, keep their significant figures instead of rounding to 0.0000.
A table column reads in one notation (:func:`fmt_column`): when one of its numbers needs
the scientific form, every one takes it (``1.000e-02`` above ``1.000e-03``, not
``0.0100``; ``0.000e+00``, not ``0.0000`` beside ``2.000e-01``).
Files (CSV, JSON) keep full precision and never go through this.
"""

from __future__ import annotations

import numbers
from typing import Any, Sequence

import yaml

from dlexp.errors import ConfigError

FIXED_RANGE = (1e-2, 1e3)        # |x| in [low, high): fixed decimals
BANDS = ("minmax", "std")        # a figure's band over seeds: min–max, or mean ± std


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


def fmt_column(values: Sequence[Any], digits: int = 4) -> list[str]:
    """``fmt`` of each value, in one notation for the column (see the module docstring)."""
    texts = [fmt(v, digits) for v in values]
    reals = [isinstance(v, numbers.Real) and not isinstance(v, numbers.Integral)
             for v in values]
    if not any(r and "e" in t for r, t in zip(reals, texts)):
        return texts
    return [f"{float(v):.{max(digits - 1, 0)}e}" if r else t
            for v, r, t in zip(values, reals, texts)]


def value_text(value: Any) -> str:
    """A value as written in YAML (``true``, ``0.01``, ``[100, 100]``)."""
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


def rank_key(row: dict) -> tuple:
    """Sort key of search trial rows, best first: higher val_acc, then earlier round and
    number (the order of every table and figure of a search)."""
    return -row["val_acc"], row["round"], row["number"]


def check_band(band: str) -> None:
    """Raise ConfigError unless ``band`` is one of :data:`BANDS`."""
    if band not in BANDS:
        raise ConfigError(f"--band {band!r}: choose one of {', '.join(BANDS)}")
