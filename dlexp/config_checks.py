"""Type and range checks for config values (which key gets which: :mod:`dlexp.config_schema`).

A check is ``("choice", names)``, ``("range", low, high, low_inclusive, high_inclusive)``
or ``("pattern", regex, what_matches)`` (a name that must be a safe folder name).
Types are the dataclass annotations as written (``"int | None"``, ``"tuple[int, ...]"``…).
"""

from __future__ import annotations

import difflib
import math
import re
from typing import Any

from dlexp.data.splits import val_count
from dlexp.errors import ConfigError

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
            raise ConfigError(f"{where}: {key}: expected true or false, got {short(value)}")
        return value
    if base == "str":
        if not isinstance(value, str):
            raise ConfigError(f"{where}: {key}: expected a name, got {short(value)}"
                              f"{_choices_hint(check)}")
    elif base in ("int", "float"):
        value = _number(key, value, base, check, where)
    if check is not None:
        _apply(key, value, check, where)
    return value


def _number(key: str, value: Any, base: str, check, where: str):
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ConfigError(f"{where}: {key}: expected {_describe(base, check)}, got {short(value)}")
    if isinstance(value, str):          # YAML reads 1e-3 (no dot) as a string
        try:
            value = float(value)
        except ValueError:
            raise ConfigError(f"{where}: {key}: expected {_describe(base, check)}, "
                              f"got {short(value)}") from None
    if base == "int":
        if isinstance(value, float) and not value.is_integer():
            raise ConfigError(f"{where}: {key}: expected a whole number, got {short(value)}")
        return int(value)
    try:
        number = float(value)
    except OverflowError:
        raise ConfigError(f"{where}: {key}: {short(value)} is too large; "
                          f"expected {_describe(base, check)}") from None
    if math.isnan(number):
        raise ConfigError(f"{where}: {key}: expected a number, got NaN")
    return value if isinstance(value, int) else number   # an int is a fine float


def _apply(key: str, value: Any, check: tuple, where: str) -> None:
    if check[0] == "choice":
        if value not in check[1]:
            raise ConfigError(f"{where}: {key}: unknown name {short(value)}; "
                              f"{did_you_mean(value, check[1])}"
                              f"choose one of: {', '.join(check[1])}")
        return
    if check[0] == "pattern":
        if not re.fullmatch(check[1], value):
            raise ConfigError(f"{where}: {key}: {short(value)} cannot name a run folder; "
                              f"use {check[2]}")
        return
    _, low, high, lo_in, hi_in = check
    ok_low = value >= low if lo_in else value > low
    ok_high = value <= high if hi_in else value < high
    if not (ok_low and ok_high):
        raise ConfigError(f"{where}: {key}: must be {_range_text(check)}, got {short(value)}")


def did_you_mean(word: Any, choices) -> str:
    """``"did you mean 'x'? "`` for the closest of ``choices`` to ``word``, or ``""``."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1)
    return f"did you mean {close[0]!r}? " if close else ""


def short(x: Any, limit: int = 40) -> str:
    """``repr(x)`` cut to ``limit`` characters, for one-line messages."""
    text = repr(x)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _range_text(check: tuple) -> str:
    _, low, high, lo_in, hi_in = check
    lo = f"{'≥' if lo_in else '>'} {low:g}"
    if high == INF:
        return lo
    return f"{lo} and {'≤' if hi_in else '<'} {high:g}"


def describe_check(check: tuple | None) -> str:
    """What a check allows, in words: ``≥ 1``, ``one of: a, b``, ``1 to 80 letters…``."""
    if check is None:
        return ""
    if check[0] == "choice":
        return "one of: " + ", ".join(check[1])
    if check[0] == "pattern":
        return check[2]
    return _range_text(check)


def _describe(base: str, check) -> str:
    kind = {"int": "a whole number", "float": "a number", "str": "a name"}.get(base, base)
    if check is not None and check[0] == "range":
        kind += f" {_range_text(check)}"
    return kind + _choices_hint(check)


def _choices_hint(check) -> str:
    if check is not None and check[0] == "choice":
        return f"; choose one of: {', '.join(check[1])}"
    return ""


def check_consistency(cfg: Any, where: str) -> None:
    """Checks across keys of a built Config (sizes that must fit, settings that pair)."""
    d, t = cfg.data, cfg.training
    if d.val_size >= 1 and not float(d.val_size).is_integer():
        raise ConfigError(f"{where}: data.val_size ({d.val_size}) is a count of images or a "
                          "fraction below 1; use a whole number (5000) or a fraction (0.1)")
    if d.train_size is not None:
        val = val_count(d.val_size, d.train_size)         # as make_splits counts it
        if val >= d.train_size:
            raise ConfigError(f"{where}: data.val_size ({d.val_size}) leaves no training images "
                              f"out of data.train_size ({d.train_size}); make it smaller")
        if t.batch_size > d.train_size - val:
            raise ConfigError(f"{where}: training.batch_size ({t.batch_size}) is larger than the "
                              f"training set ({d.train_size - val} images); lower it")
    if t.early_stopping.patience and not d.val_size:
        raise ConfigError(f"{where}: training.early_stopping watches the validation set, and "
                          "data.val_size is 0; set data.val_size or remove early_stopping")
    if cfg.model.initializer != "normal" and cfg.model.init_std is not None:
        raise ConfigError(f"{where}: model.init_std applies only to initializer 'normal' "
                          f"(got {cfg.model.initializer!r}); remove it or use 'normal'")
    o = cfg.optimizer
    if o.schedule.settings.get("min_lr", 0.0) > o.lr:
        raise ConfigError(f"{where}: optimizer.schedule.min_lr ({o.schedule.settings['min_lr']}) "
                          f"is above optimizer.lr ({o.lr}): the rate would rise; lower it")


RUN_NAME = ("pattern", r"[A-Za-z0-9_][A-Za-z0-9_.,+=@-]{0,79}",
            "1 to 80 letters, digits and _ . , + = @ - (not starting with . or -)")


def check_run_name(name: str, option: str = "--name") -> None:
    """``name`` must be able to start a run folder's name (the config's ``name`` rule)."""
    if not re.fullmatch(RUN_NAME[1], name):
        raise ConfigError(f"{option} {short(name)}: cannot name a run folder; "
                          f"use {RUN_NAME[2]}")
