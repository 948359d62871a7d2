"""The search space: a config's ``search:`` section, checked once at load.

    search:
      optimizer.lr:        {distribution: log_uniform, low: 1.0e-6, high: 1.0e-2}
      regularization.l2:   {distribution: log_uniform, low: 1.0e-8, high: 1.0e-4}
      training.batch_size: {distribution: int, low: 32, high: 256}
      model.activation:    {distribution: choice, choices: [relu, tanh]}

Each key is a dotted config key; a trial is the base config with one value per key
applied as an override. With u ~ U(0, 1):

============  ==============================================  ===================
distribution  value                                           bounds
============  ==============================================  ===================
log_uniform   10^(log10 low + u·(log10 high − log10 low))     0 < low < high
uniform       low + u·(high − low)                            low < high
int           a whole number, each of low … high equally      low < high, whole
choice        one of ``choices``, each equally likely         ≥ 1 distinct value
============  ==============================================  ===================

The data split, seed and dtype are fixed for a whole search (every trial must see the
same validation set), so only ``model.``, ``optimizer.``, ``regularization.`` and
``training.`` keys may vary. Whether a value fits the rest of the config (e.g. a
momentum for an optimiser that has one) is checked by :func:`dlexp.config.check_against`;
:func:`dlexp.config.parse_search_space` reads a section with the config's keys.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Collection, Mapping, Sequence

from dlexp.config_checks import check_value, did_you_mean
from dlexp.config_yaml import apply_overrides
from dlexp.errors import ConfigError
from dlexp.optim.optimizers import OPTIMIZERS, hyperparameters, optimizer_keys

SEARCHABLE = ("model", "optimizer", "regularization", "training")


@dataclass(frozen=True)
class Param:
    """One searched key: its distribution and bounds (or choices)."""

    key: str
    distribution: str
    low: float | None = None
    high: float | None = None
    choices: tuple = ()

    def to_dict(self) -> dict:
        """As written in a ``search:`` section."""
        if self.distribution == "choice":
            return {"distribution": self.distribution, "choices": list(self.choices)}
        return {"distribution": self.distribution, "low": self.low, "high": self.high}

    def suggest(self, trial: Any) -> Any:
        """Draw this parameter's value for an Optuna ``trial``."""
        return DISTRIBUTIONS[self.distribution](trial, self)


@dataclass(frozen=True)
class SearchSpace:
    """The searched keys, in the order the config lists them."""

    params: tuple[Param, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        """The dotted config keys searched."""
        return tuple(p.key for p in self.params)

    def to_dict(self) -> dict:
        """The ``search:`` section this space reads from."""
        return {p.key: p.to_dict() for p in self.params}

    def suggest(self, trial: Any) -> dict[str, Any]:
        """One value per key, drawn through ``trial`` (an ``optuna.Trial``)."""
        return {p.key: p.suggest(trial) for p in self.params}


def parse_space(raw: Any, where: str, keys: Collection[str]) -> SearchSpace:
    """Validate a ``search:`` mapping whose keys must be among ``keys``; any problem is a
    one-line ConfigError naming the key."""
    if not isinstance(raw, Mapping) or not raw:
        raise ConfigError(f"{where}: search: expected a mapping of config keys to "
                          "distributions, e.g. optimizer.lr: {distribution: log_uniform, "
                          "low: 1.0e-6, high: 1.0e-2}")
    return SearchSpace(tuple(_parse_param(str(k), v, where, keys) for k, v in raw.items()))


def trial_overrides(params: Mapping[str, Any]) -> list[str]:
    """``key=value`` overrides (values as JSON, a subset of YAML) for ``apply_overrides``."""
    return [f"{key}={json.dumps(value)}" for key, value in params.items()]


def used_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The drawn values a trial uses: a searched optimiser setting that the drawn
    ``optimizer.name`` does not have (``optimizer.momentum`` for ``sgd``) is left out."""
    drawn = params.get("optimizer.name")
    if drawn not in OPTIMIZERS:
        return dict(params)
    has = optimizer_keys(drawn)
    return {k: v for k, v in params.items()
            if not k.startswith("optimizer.") or k.split(".")[1] in has}


def apply_params(base: Mapping, params: Mapping[str, Any]) -> dict:
    """The plain config ``base`` (its ``search:`` left out) with a trial's ``params`` set.

    ``base`` is the resolved config, which spells out every setting of its optimiser.
    When ``optimizer.name`` is drawn those settings follow the drawn optimiser: the ones
    it does not have are dropped (``beta1`` for SGD), and the ones still at the base
    optimiser's default take the drawn one's default (a base ``sgd`` at lr 0.01 gives
    ``adam`` its 0.001); settings changed from the default are kept, searched ones drawn
    — a searched setting the drawn optimiser does not have (``optimizer.momentum`` when
    ``sgd`` is drawn) is left out of that trial.
    """
    params = used_params(params)
    raw = {k: v for k, v in base.items() if k != "search"}
    drawn, opt = params.get("optimizer.name"), raw.get("optimizer")
    if drawn in OPTIMIZERS and isinstance(opt, Mapping):
        has = optimizer_keys(drawn)
        old = hyperparameters(opt["name"]) if opt.get("name") in OPTIMIZERS else {}
        raw["optimizer"] = {k: v for k, v in opt.items() if k in has and (
            f"optimizer.{k}" in params or not (k in old and v == old[k]))}
    return apply_overrides(raw, trial_overrides(params))


def refuse_searched_overrides(space: SearchSpace, overrides: Sequence[str]) -> None:
    """``--set KEY=…`` of a key the search draws would be overwritten by every trial:
    refuse it, pointing at the range to change instead."""
    for item in overrides:
        key = item.partition("=")[0].strip()
        if key in space.keys:
            raise ConfigError(f"--set {item!r}: {key} is searched, so every trial sets it; "
                              f"change its range under search: in the config instead")


# --- internals -------------------------------------------------------------------------
def _parse_param(key: str, spec: Any, where: str, keys: Collection[str]) -> Param:
    at = f"{where}: search: {key}"
    _check_key(key, at, keys)
    if not isinstance(spec, Mapping):
        raise ConfigError(f"{at}: expected a mapping like {{distribution: log_uniform, "
                          f"low: 1.0e-6, high: 1.0e-2}}, got {spec!r}")
    name = spec.get("distribution")
    if name not in DISTRIBUTIONS:
        raise ConfigError(f"{at}: distribution {name!r} is unknown; choose one of: "
                          f"{', '.join(DISTRIBUTIONS)}")
    if name == "choice":
        _only(spec, ("distribution", "choices"), at)
        choices = spec.get("choices")
        if not isinstance(choices, list) or not choices:
            raise ConfigError(f"{at}: choice needs a non-empty list, e.g. choices: [relu, tanh]")
        if any(isinstance(c, (list, dict)) or c is None for c in choices):
            raise ConfigError(f"{at}: choices must be numbers, names or true/false")
        if len(set(map(repr, choices))) != len(choices):
            raise ConfigError(f"{at}: choices are listed twice; list each value once")
        return Param(key, name, choices=tuple(choices))
    _only(spec, ("distribution", "low", "high"), at)
    kind = int if name == "int" else float
    low, high = (kind(check_value(f"search: {key}: {end}", spec.get(end), kind.__name__,
                                  None, where)) for end in ("low", "high"))
    if not low < high:
        raise ConfigError(f"{at}: low ({low!r}) must be smaller than high ({high!r})")
    if name == "log_uniform" and low <= 0:
        raise ConfigError(f"{at}: a log_uniform range must be > 0, got low {low!r}; "
                          "use uniform for ranges that include 0")
    return Param(key, name, low=low, high=high)


def _only(spec: Mapping, allowed: tuple[str, ...], at: str) -> None:
    for k in spec:
        if k not in allowed:
            raise ConfigError(f"{at}: unknown setting {k!r}; for distribution "
                              f"{spec['distribution']!r} give: {', '.join(allowed)}")


def _check_key(key: str, at: str, valid: Collection[str]) -> None:
    section = key.split(".", 1)[0]
    if section not in SEARCHABLE:
        raise ConfigError(f"{at}: only keys under {', '.join(SEARCHABLE)} may be searched; "
                          "the data split, seed and dtype stay fixed for a whole search")
    if key not in valid:
        raise ConfigError(f"{at}: not a config key; {did_you_mean(key, sorted(valid))}"
                          "searchable keys look like "
                          "optimizer.lr, regularization.l2, training.batch_size")


def _log_uniform(trial: Any, p: Param) -> float:
    return trial.suggest_float(p.key, p.low, p.high, log=True)


def _uniform(trial: Any, p: Param) -> float:
    return trial.suggest_float(p.key, p.low, p.high)


def _int(trial: Any, p: Param) -> int:
    return trial.suggest_int(p.key, int(p.low), int(p.high))


def _choice(trial: Any, p: Param) -> Any:
    return trial.suggest_categorical(p.key, list(p.choices))


DISTRIBUTIONS: dict[str, Callable[[Any, Param], Any]] = {
    "log_uniform": _log_uniform,
    "uniform": _uniform,
    "int": _int,
    "choice": _choice,
}
