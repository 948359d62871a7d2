"""How a value is shown in a table or a figure label, one rule for every command:
fmt(None) → "—", fmt(3.0) → "3", fmt(0.91234) → "0.912", fmt(13.454) → "13.5", fmt(0.01) →
"0.01", fmt(3.2e-05) → "3.2e-05". Files keep full precision and never pass here. And
:func:`say`, the one way a command writes a line to stderr.
"""

from __future__ import annotations

import math
import numbers
import sys
from typing import Any

import yaml

from dlexp.errors import ConfigError

SIGNIFICANT = 3                  # figures a number keeps (whole numbers keep all theirs)
FIXED_RANGE = (1e-3, 1e4)        # |x| in [low, high): decimals, else 1.23e-04
BANDS = ("minmax", "std")        # a figure's band over seeds: min–max, or mean ± std


def fmt(value: Any, digits: int | None = None) -> str:
    """3 significant figures (at most ``digits`` decimals, but never none of the figures),
    trailing zeros dropped; outside 10⁻³ ≤ |x| < 10⁴ the form ``1.23e-04``, so a learning
    rate never shows as 0; whole numbers whole."""
    if value is None:
        return "—"
    if isinstance(value, numbers.Integral) or not isinstance(value, numbers.Real):
        return str(value)
    x = float(value)
    if not math.isfinite(x) or x == 0 or (x.is_integer() and abs(x) < 1e6):
        return str(int(x)) if math.isfinite(x) else str(x)
    if FIXED_RANGE[0] <= abs(x) < FIXED_RANGE[1]:
        lead = -math.floor(math.log10(abs(x)))          # decimals to the first figure
        decimals = max(min(SIGNIFICANT - 1 + lead, 99 if digits is None else digits),
                       lead, 0)
        text = f"{x:.{decimals}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    mantissa, exponent = f"{x:.{SIGNIFICANT - 1}e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{exponent}"


def seconds(x: float) -> str:
    """Wall time: one decimal under 1000 s, whole seconds above (``13.5 s``, ``1234 s``)."""
    return f"{x:.1f} s" if x < 1e3 else f"{round(x)} s"


def value_text(value: Any) -> str:
    """A value as written in YAML (``true``, ``0.01``, ``[100, 100]``)."""
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


def rank_key(row: dict) -> tuple:
    """Sort key of search trial rows, best first: higher val_acc, earlier round, number."""
    return -row["val_acc"], row["round"], row["number"]


def check_band(band: str) -> None:
    if band not in BANDS:
        raise ConfigError(f"--band {band!r}: choose one of {', '.join(BANDS)}")


def say(line: str) -> None:
    """One line on stderr, flushed (what to do next, a folder, a warning)."""
    print(line, file=sys.stderr, flush=True)
