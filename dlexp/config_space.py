"""The search space: a config's ``search:`` section, checked once at load.

    search:
      optimizer.lr:        {distribution: log_uniform, low: 1.0e-6, high: 1.0e-2}
      model.activation:    {distribution: choice, choices: [relu, tanh]}

A trial is the base config with one drawn value per key. With u ~ U(0, 1):
``log_uniform`` 10^(log10 low + u·(log10 high − log10 low)); ``uniform`` low +
u·(high − low); ``int`` and ``choice``: each value equally likely. The split, seed and
dtype stay fixed for a whole search (:data:`SEARCHABLE`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Collection, Mapping, Sequence

from dlexp.config_checks import check_value, did_you_mean
from dlexp.config_yaml import apply_overrides
from dlexp.errors import ConfigError
from dlexp.optim.optimizers import OPTIMIZERS, hyperparameters, optimizer_keys

SEARCHABLE = ("model", "optimizer", "regularization", "training")
DISTRIBUTIONS = ("log_uniform", "uniform", "int", "choice")


@dataclass(frozen=True)
class Param:
    """One searched key: its distribution and bounds (or choices)."""

    key: str
    distribution: str
    low: float | None = None
    high: float | None = None
    choices: tuple = ()

    def to_dict(self) -> dict:
        if self.distribution == "choice":
            return {"distribution": "choice", "choices": list(self.choices)}
        return {"distribution": self.distribution, "low": self.low, "high": self.high}

    def suggest(self, trial: Any) -> Any:
        """This parameter's value for an Optuna ``trial``."""
        if self.distribution == "choice":
            return trial.suggest_categorical(self.key, list(self.choices))
        if self.distribution == "int":
            return trial.suggest_int(self.key, int(self.low), int(self.high))
        return trial.suggest_float(self.key, self.low, self.high,
                                   log=self.distribution == "log_uniform")


@dataclass(frozen=True)
class SearchSpace:
    """The searched keys, in the order the config lists them."""

    params: tuple[Param, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(p.key for p in self.params)

    def to_dict(self) -> dict:
        """The ``search:`` section."""
        return {p.key: p.to_dict() for p in self.params}

    def suggest(self, trial: Any) -> dict[str, Any]:
        """One value per key, drawn through ``trial`` (an ``optuna.Trial``)."""
        return {p.key: p.suggest(trial) for p in self.params}


def parse_space(raw: Any, where: str, keys: Collection[str]) -> SearchSpace:
    """Validate a ``search:`` mapping whose keys must be among ``keys``."""
    if not isinstance(raw, Mapping) or not raw:
        raise ConfigError(f"{where}: search: expected a mapping of config keys to "
                          "distributions, e.g. optimizer.lr: {distribution: log_uniform, "
                          "low: 1.0e-6, high: 1.0e-2}")
    return SearchSpace(tuple(_parse_param(str(k), v, where, keys) for k, v in raw.items()))


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
    """The plain config ``base`` (``search:`` left out) with a trial's ``params``. A drawn
    ``optimizer.name`` drops the base's settings it lacks and gives its own defaults to
    those at the base optimiser's default (a base ``sgd`` at lr 0.01 gives ``adam`` its
    0.001); changed ones are kept."""
    params = used_params(params)
    raw = {k: v for k, v in base.items() if k != "search"}
    drawn, opt = params.get("optimizer.name"), raw.get("optimizer")
    if drawn in OPTIMIZERS and isinstance(opt, Mapping):
        has = optimizer_keys(drawn)
        old = hyperparameters(opt["name"]) if opt.get("name") in OPTIMIZERS else {}
        raw["optimizer"] = {k: v for k, v in opt.items() if k in has and (
            f"optimizer.{k}" in params or not (k in old and v == old[k]))}
    return apply_overrides(raw, [f"{k}={json.dumps(v)}" for k, v in params.items()])


def refuse_searched_overrides(space: SearchSpace, overrides: Sequence[str]) -> None:
    """``--set KEY=…`` of a searched key would be overwritten by every trial: refuse it."""
    for item in overrides:
        key = item.partition("=")[0].strip()
        if key in space.keys:
            raise ConfigError(f"--set {item!r}: {key} is searched, so every trial sets it; "
                              f"change its range under search: in the config instead")


def _parse_param(key: str, spec: Any, where: str, keys: Collection[str]) -> Param:
    at = f"{where}: search: {key}"
    if key.split(".", 1)[0] not in SEARCHABLE:
        raise ConfigError(f"{at}: only keys under {', '.join(SEARCHABLE)} may be searched; "
                          "the data split, seed and dtype stay fixed for a whole search")
    if key not in keys:
        raise ConfigError(f"{at}: not a config key; {did_you_mean(key, sorted(keys))}"
                          "searchable keys look like "
                          "optimizer.lr, regularization.l2, training.batch_size")
    if not isinstance(spec, Mapping):
        raise ConfigError(f"{at}: expected a mapping like {{distribution: log_uniform, "
                          f"low: 1.0e-6, high: 1.0e-2}}, got {spec!r}")
    name = spec.get("distribution")
    if name not in DISTRIBUTIONS:
        raise ConfigError(f"{at}: distribution {name!r} is unknown; choose one of: "
                          f"{', '.join(DISTRIBUTIONS)}")
    allowed = ("distribution", "choices") if name == "choice" else ("distribution", "low", "high")
    for k in spec:
        if k not in allowed:
            raise ConfigError(f"{at}: unknown setting {k!r}; for distribution "
                              f"{name!r} give: {', '.join(allowed)}")
    if name == "choice":
        choices = spec.get("choices")
        if not isinstance(choices, list) or not choices:
            raise ConfigError(f"{at}: choice needs a non-empty list, e.g. choices: [relu, tanh]")
        if any(isinstance(c, (list, dict)) or c is None for c in choices):
            raise ConfigError(f"{at}: choices must be numbers, names or true/false")
        if len(set(map(repr, choices))) != len(choices):
            raise ConfigError(f"{at}: choices are listed twice; list each value once")
        return Param(key, name, choices=tuple(choices))
    kind = int if name == "int" else float
    low, high = (kind(check_value(f"search: {key}: {end}", spec.get(end), kind.__name__,
                                  None, where)) for end in ("low", "high"))
    if not low < high:
        raise ConfigError(f"{at}: low ({low!r}) must be smaller than high ({high!r})")
    if name == "log_uniform" and low <= 0:
        raise ConfigError(f"{at}: a log_uniform range must be > 0, got low {low!r}; "
                          "use uniform for ranges that include 0")
    return Param(key, name, low=low, high=high)
