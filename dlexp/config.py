"""Experiment configs: YAML → the frozen dataclasses of :mod:`dlexp.config_schema`.

    cfg = load_config("configs/baseline.yaml", overrides=["optimizer.lr=0.01"])
"""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path
from typing import Any, Mapping

from dlexp.config_checks import check_consistency, check_value, did_you_mean, short
from dlexp.config_schema import (NAMED, Config, OptimizerConfig, ScheduleConfig, config_keys,
                                 schedule_settings, setting_of)
from dlexp.config_space import SearchSpace, apply_params, parse_space, used_params
from dlexp.config_yaml import apply_overrides, read_yaml_mapping
from dlexp.errors import ConfigError
from dlexp.optim.optimizers import OPTIMIZERS, hyperparameters


def load_config(path: str | Path | None = None, overrides: list[str] | tuple = ()) -> Config:
    """Read ``path`` (None: all defaults), apply ``key.sub=value`` overrides, validate. An
    error names the file alone when the file alone is invalid, else also the overrides."""
    where = label = str(path) if path is not None else "defaults"
    raw = read_yaml_mapping(path) if path is not None else {}
    if overrides:
        with contextlib.suppress(ConfigError):
            config_from_dict(raw, where)
            label += " with " + " ".join(f"--set {item!r}" for item in overrides)
    return config_from_dict(apply_overrides(raw, overrides), label)


def config_from_dict(raw: Mapping, where: str = "config") -> Config:
    """Validate a plain mapping (as read from YAML) into a :class:`Config`."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected a mapping at the top, got {type(raw).__name__}")
    raw = dict(raw)
    opt_raw, search_raw = raw.pop("optimizer", None), raw.pop("search", None)
    cfg = dataclasses.replace(_build(Config, raw, where, ""),
                              optimizer=_build_optimizer(opt_raw, where),
                              search=None if search_raw is None else
                              parse_search_space(search_raw, where))
    check_consistency(cfg, where)
    if cfg.search is not None:              # every searched bound fits the rest, now
        check_against(cfg.search, config_to_dict(cfg), where)
    if cfg.data.val_size >= 1:              # a count, even if written 5e3
        cfg = dataclasses.replace(cfg, data=dataclasses.replace(
            cfg.data, val_size=int(cfg.data.val_size)))
    return cfg


def config_to_dict(cfg: Config) -> dict:
    """The resolved config as plain data; ``config_from_dict`` reads it back unchanged."""
    out = dataclasses.asdict(cfg)
    opt = cfg.optimizer
    out["optimizer"] = {"name": opt.name, "lr": opt.lr, **opt.hyper, "schedule": {
        "name": opt.schedule.name, **opt.schedule.settings}}
    out["model"]["hidden"] = list(cfg.model.hidden)
    if out.pop("search") is not None:
        out["search"] = cfg.search.to_dict()
    return out


def parse_search_space(raw: Any, where: str) -> SearchSpace:
    """A ``search:`` section whose keys are config keys."""
    return parse_space(raw, where, config_keys())


def check_against(space: SearchSpace, base: Mapping, where: str) -> None:
    """Apply each bound (or choice) to the plain config ``base``; raise if one does not fit."""
    names = next((p.choices for p in space.params
                  if p.key == "optimizer.name" and p.distribution == "choice"), None)
    for p in space.params:
        setting = p.key.startswith("optimizer.") and p.key != "optimizer.name"
        combos = [{"optimizer.name": n} for n in names] if names and setting else [{}]
        if names and setting and not any(p.key in used_params({**c, p.key: 0}) for c in combos):
            raise ConfigError(f"{where}: search: {p.key}: none of the searched optimizers "
                              f"({', '.join(names)}) has this setting; remove it")
        for value in (p.choices if p.distribution == "choice" else (p.low, p.high)):
            label = f"{where}: search: {p.key}={value!r} does not fit the config"
            for combo in combos:                  # with each optimiser that may be drawn
                config_from_dict(apply_params(base, {**combo, p.key: value}), label)


# --- building the dataclasses ---------------------------------------------------------------
def _mapping(raw: Any, where: str, key: str, what: str, example: str) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: {key}: expected {what}, got {type(raw).__name__} "
                          f"{short(raw)}; write {example}")
    return dict(raw)


def _reject_unknown(raw: Mapping, valid, where: str, prefix: str) -> None:
    for key in raw:
        if key not in valid:
            raise ConfigError(f"{where}: unknown key {prefix + str(key)!r}; "
                              f"{did_you_mean(key, valid)}valid keys: {', '.join(valid)}")


def _build(cls: type, raw: Any, where: str, prefix: str) -> Any:
    raw = _mapping(raw, where, prefix.rstrip(".") or "top level", "a mapping of keys",
                   "it as indented `key: value` lines (`dlexp configs show baseline`)")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    _reject_unknown(raw, fields, where, prefix)
    values = {}
    for name, value in raw.items():
        f, key = fields[name], prefix + name
        if dataclasses.is_dataclass(f.default):
            values[name] = _build(type(f.default), value, where, key + ".")
        else:
            values[name] = check_value(key, value, f.type, setting_of(key, f)[1], where)
    return cls(**values)


def _settings(raw: dict, defaults: Mapping, prefix: str, where: str, *also: str) -> dict:
    """Each of ``defaults``' settings from ``raw`` (else its default), checked."""
    _reject_unknown(raw, [*defaults, *also], where, prefix)
    return {k: check_value(prefix + k, raw.get(k, d), type(d).__name__,
                           setting_of(prefix + k)[1], where) for k, d in defaults.items()}


def _build_optimizer(raw: Any, where: str) -> OptimizerConfig:
    raw = _mapping(raw, where, "optimizer", "a mapping",
                   "e.g. `optimizer: {name: adam, lr: 0.001}`")
    name = check_value("optimizer.name", raw.pop("name", OptimizerConfig.name), "str",
                       NAMED["optimizer.name"][1], where)
    schedule = _build_schedule(raw.pop("schedule", None), where)
    defaults = hyperparameters(name)
    for key in raw:
        if key not in defaults and any(key in hyperparameters(n) for n in OPTIMIZERS):
            raise ConfigError(f"{where}: optimizer.{key}: not a setting of optimizer {name!r}; "
                              f"its settings are: {', '.join(defaults)}")
    hyper = _settings(raw, defaults, "optimizer.", where, "name", "schedule")
    return OptimizerConfig(name=name, lr=hyper.pop("lr"), hyper=hyper, schedule=schedule)


def _build_schedule(raw: Any, where: str) -> ScheduleConfig:
    raw = _mapping({"name": raw} if isinstance(raw, str) else raw, where, "optimizer.schedule",
                   "a name or a mapping",
                   "e.g. `schedule: cosine` or `schedule: {name: step, every: 10}`")
    name = check_value("optimizer.schedule.name", raw.pop("name", ScheduleConfig.name), "str",
                       NAMED["optimizer.schedule"][1], where)
    settings = _settings(raw, schedule_settings(name), "optimizer.schedule.", where, "name")
    return ScheduleConfig(name, settings)
