"""Type and range checks for config values, and the table of which key gets which.

A check is ``("choice", names)`` or ``("range", low, high, low_inclusive, high_inclusive)``.
Types are the dataclass annotations as written (``"int | None"``, ``"tuple[int, ...]"``…).
"""

from __future__ import annotations

import math
from typing import Any

from dlexp.errors import ConfigError
from dlexp.nn.init import INITIALIZERS
from dlexp.nn.layers import ACTIVATIONS, DROPOUT_MODES

INF = float("inf")


def check_value(key: str, value: Any, type_hint: Any, check: tuple | None, where: str) -> Any:
    """Return ``value`` converted to the annotated type, or raise a one-line ConfigError."""
    hint = type_hint if isinstance(type_hint, str) else getattr(type_hint, "__name__", str(type_hint))
    optional = hint.endswith("| None")
    base = hint.replace("| None", "").strip()
    if value is None:
        if optional:
            return None
        raise ConfigError(f"{where}: {key}: a value is required ({_describe(base, check)})")
    if base == "tuple[int, ...]":
        items = value if isinstance(value, (list, tuple)) else [value]
        return tuple(check_value(f"{key}[{i}]", v, "int", ("range", 1, INF, True, False), where)
                     for i, v in enumerate(items))
    if base == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: {key}: expected true or false, got {value!r}")
        return value
    if base == "str":
        if not isinstance(value, str):
            raise ConfigError(f"{where}: {key}: expected a name, got {value!r}"
                              f"{_choices_hint(check)}")
    elif base in ("int", "float"):
        value = _number(key, value, base, check, where)
    if check is not None:
        _apply(key, value, check, where)
    return value


def _number(key: str, value: Any, base: str, check, where: str):
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ConfigError(f"{where}: {key}: expected {_describe(base, check)}, got {value!r}")
    if isinstance(value, str):          # YAML reads 1e-3 (no dot) as a string
        try:
            value = float(value)
        except ValueError:
            raise ConfigError(f"{where}: {key}: expected {_describe(base, check)}, "
                              f"got {value!r}") from None
    if base == "int":
        if isinstance(value, float) and not value.is_integer():
            raise ConfigError(f"{where}: {key}: expected a whole number, got {value!r}")
        return int(value)
    if math.isnan(float(value)):
        raise ConfigError(f"{where}: {key}: expected a number, got NaN")
    return value if isinstance(value, int) else float(value)   # an int is a fine float


def _apply(key: str, value: Any, check: tuple, where: str) -> None:
    if check[0] == "choice":
        if value not in check[1]:
            raise ConfigError(f"{where}: {key}: unknown name {value!r}; "
                              f"choose one of: {', '.join(check[1])}")
        return
    _, low, high, lo_in, hi_in = check
    ok_low = value >= low if lo_in else value > low
    ok_high = value <= high if hi_in else value < high
    if not (ok_low and ok_high):
        raise ConfigError(f"{where}: {key}: must be {_range_text(check)}, got {value!r}")


def _range_text(check: tuple) -> str:
    _, low, high, lo_in, hi_in = check
    lo = f"{'≥' if lo_in else '>'} {low:g}"
    if high == INF:
        return lo
    return f"{lo} and {'≤' if hi_in else '<'} {high:g}"


def _describe(base: str, check) -> str:
    kind = {"int": "a whole number", "float": "a number", "str": "a name"}.get(base, base)
    if check is not None and check[0] == "range":
        kind += f" {_range_text(check)}"
    return kind + _choices_hint(check)


def _choices_hint(check) -> str:
    if check is not None and check[0] == "choice":
        return f"; choose one of: {', '.join(check[1])}"
    return ""


def _range(low, high=INF, lo_in=True, hi_in=False) -> tuple:
    return ("range", low, high, lo_in, hi_in)


FIELD_CHECKS: dict[str, tuple] = {
    "seed": _range(0),
    "dtype": ("choice", ("float32", "float64")),
    "data.val_size": _range(0),
    "data.train_size": _range(1),
    "data.subset": ("choice", ("first", "random")),
    "model.activation": ("choice", tuple(ACTIVATIONS)),
    "model.initializer": ("choice", tuple(INITIALIZERS)),
    "model.init_std": _range(0, INF, False),
    "model.bn_momentum": _range(0, 1, True, True),
    "model.bn_eps": _range(0, INF, False),
    "model.dropout": _range(0, 1),
    "model.dropout_mode": ("choice", tuple(DROPOUT_MODES)),
    "regularization.l2": _range(0),
    "regularization.l1": _range(0),
    "training.epochs": _range(1),
    "training.iterations": _range(1),
    "training.batch_size": _range(1),
    "training.eval_every": _range(1),
    "training.train_eval": ("choice", ("full", "running")),
    "training.early_stopping.patience": _range(1),
    "training.early_stopping.min_delta": _range(0),
}
