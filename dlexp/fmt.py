"""How a value is shown in a table or a figure label, one rule for every command:
fmt(None) → "—", fmt(7) → "7", fmt(0.91234) → "0.9123", fmt(3.2e-05) → "3.200e-05".
Files keep full precision and never pass here.
"""

from __future__ import annotations

import numbers
from typing import Any, Sequence

import yaml

from dlexp.errors import ConfigError

FIXED_RANGE = (1e-2, 1e3)        # |x| in [low, high): fixed decimals
BANDS = ("minmax", "std")        # a figure's band over seeds: min–max, or mean ± std


def fmt(value: Any, digits: int = 4) -> str:
    """10⁻² ≤ |x| < 10³ (or 0): ``digits`` decimals; else ``digits`` significant figures, so
    learning rates keep theirs."""
    if value is None:
        return "—"
    if isinstance(value, numbers.Integral) or not isinstance(value, numbers.Real):
        return str(value)
    x = float(value)
    if x == 0 or FIXED_RANGE[0] <= abs(x) < FIXED_RANGE[1]:
        return f"{x:.{digits}f}"
    return f"{x:.{max(digits - 1, 0)}e}"


def fmt_column(values: Sequence[Any], digits: int = 4) -> list[str]:
    """``fmt`` of each value; if one real needs the scientific form, every real takes it
    (``1.000e-02`` above ``1.000e-03``, not ``0.0100``)."""
    texts = [fmt(v, digits) for v in values]
    reals = [isinstance(v, numbers.Real) and not isinstance(v, numbers.Integral) for v in values]
    if not any(r and "e" in t for r, t in zip(reals, texts)):
        return texts
    return [f"{float(v):.{max(digits - 1, 0)}e}" if r else t
            for v, r, t in zip(values, reals, texts)]


def value_text(value: Any) -> str:
    """A value as written in YAML (``true``, ``0.01``, ``[100, 100]``)."""
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


def rank_key(row: dict) -> tuple:
    """Sort key of search trial rows, best first: higher val_acc, earlier round, number."""
    return -row["val_acc"], row["round"], row["number"]


def check_band(band: str) -> None:
    if band not in BANDS:
        raise ConfigError(f"--band {band!r}: choose one of {', '.join(BANDS)}")
