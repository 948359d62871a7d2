"""Config checks, each failing with a one-line ConfigError: a value's type (the annotation
as written, ``"int | None"``) and bound (a :class:`Range`, a tuple of names or the
:data:`RUN_NAME` pattern), and the keys that must agree (:func:`check_consistency`)."""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from typing import Any

from dlexp.data.splits import val_count
from dlexp.errors import ConfigError

INF = float("inf")
RUN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.,+=@-]{0,79}")
RUN_NAME_RULE = "1 to 80 letters, digits and _ . , + = @ - (not starting with . or -)"
KINDS = {"int": "a whole number", "float": "a number", "str": "a name"}


@dataclass(frozen=True)
class Range:
    """low ≤ x < high by default; ``low_in``/``high_in`` say whether an end is allowed."""

    low: float
    high: float = INF
    low_in: bool = True
    high_in: bool = False

    def __contains__(self, x: float) -> bool:
        above = x >= self.low if self.low_in else x > self.low
        return above and (x <= self.high if self.high_in else x < self.high)

    def __str__(self) -> str:
        text = f"{'≥' if self.low_in else '>'} {self.low:g}"
        if self.high < INF:
            text += f" and {'≤' if self.high_in else '<'} {self.high:g}"
        return text


def check_value(key: str, value: Any, hint: str, check: Any, where: str) -> Any:
    """``value`` converted to the annotated type ``hint`` and checked, or a ConfigError."""
    at, base = f"{where}: {key}", hint.removesuffix(" | None")
    if value is None:
        if base != hint:
            return None
        raise ConfigError(f"{at}: a value is required ({_expected(base, check)}{_choices(check)})")
    if base == "tuple[int, ...]":
        items = value if isinstance(value, (list, tuple)) else [value]
        return tuple(check_value(f"{key}[{i}]", v, "int", Range(1), where)
                     for i, v in enumerate(items))
    if base == "bool" and not isinstance(value, bool):
        raise ConfigError(f"{at}: expected true or false, got {short(value)}")
    if base == "str" and not isinstance(value, str):
        raise ConfigError(f"{at}: expected a name, got {short(value)}{_choices(check)}")
    if base in ("int", "float"):
        value = _number(at, value, base, check)
    if isinstance(check, Range) and value not in check:
        raise ConfigError(f"{at}: must be {check}, got {short(value)}")
    if isinstance(check, tuple) and value not in check:
        raise ConfigError(f"{at}: unknown name {short(value)}; {did_you_mean(value, check)}"
                          f"choose one of: {', '.join(check)}")
    if isinstance(check, re.Pattern) and not check.fullmatch(value):
        raise ConfigError(f"{at}: {short(value)} cannot name a run folder; use {RUN_NAME_RULE}")
    return value


def _number(at: str, value: Any, base: str, check: Any) -> int | float:
    expected = f"{at}: expected {_expected(base, check)}, got {short(value)}"
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ConfigError(expected)
    try:
        number = float(value)               # YAML reads 1e-3 (no dot) as a string
    except (ValueError, OverflowError):
        raise ConfigError(expected) from None
    if math.isnan(number):
        raise ConfigError(f"{at}: expected a number, got NaN")
    if base == "int" and not number.is_integer():
        raise ConfigError(f"{at}: expected a whole number, got {short(value)}")
    if isinstance(value, int):              # an int is a fine float
        return value
    return int(number) if base == "int" else number


def _expected(base: str, check: Any) -> str:
    return KINDS.get(base, base) + (f" {check}" if isinstance(check, Range) else "")


def _choices(check: Any) -> str:
    return f"; choose one of: {', '.join(check)}" if isinstance(check, tuple) else ""


def describe(check: Any) -> str:
    """What a check allows, in words."""
    if isinstance(check, tuple):
        return "one of: " + ", ".join(check)
    return RUN_NAME_RULE if isinstance(check, re.Pattern) else str(check or "")


def did_you_mean(word: Any, choices) -> str:
    """``"did you mean 'x'? "`` for the closest of ``choices``, or ``""``."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1)
    return f"did you mean {close[0]!r}? " if close else ""


def short(x: Any, limit: int = 40) -> str:
    """``repr(x)`` cut to ``limit`` characters."""
    text = repr(x)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def check_run_name(name: str, option: str = "--name") -> None:
    """``name`` must be able to start a run folder's name."""
    if not RUN_NAME.fullmatch(name):
        raise ConfigError(f"{option} {short(name)}: cannot name a run folder; use {RUN_NAME_RULE}")


def check_consistency(cfg: Any, where: str) -> None:
    """Checks across the keys of a built Config."""
    d, t, o = cfg.data, cfg.training, cfg.optimizer
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
    if o.schedule.settings.get("min_lr", 0.0) > o.lr:
        raise ConfigError(f"{where}: optimizer.schedule.min_lr ({o.schedule.settings['min_lr']}) "
                          f"is above optimizer.lr ({o.lr}): the rate would rise; lower it")
