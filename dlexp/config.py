"""Experiment configs: YAML → frozen dataclasses, every name and range checked once.

    cfg = load_config("configs/baseline.yaml", overrides=["optimizer.lr=0.01"])

Any problem raises :class:`~dlexp.errors.ConfigError` with one line naming the file, the
key and the allowed values (the closest valid key is suggested for a typo). Everything
downstream may trust a :class:`Config`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Mapping

from dlexp.config_checks import check_consistency, check_value, did_you_mean, short
from dlexp.config_schema import (NAMED, Config, DataConfig, EarlyStoppingConfig,  # noqa: F401
                                 OptimizerConfig, RegularizationConfig, ScheduleConfig,
                                 TrainingConfig, schedule_settings, setting_of)
from dlexp.config_space import SearchSpace, apply_params, parse_space, used_params
from dlexp.config_yaml import apply_overrides, read_yaml_mapping
from dlexp.errors import ConfigError
from dlexp.optim.optimizers import OPTIMIZERS, hyperparameters
from dlexp.optim.schedules import SCHEDULES


def load_config(path: str | Path | None = None, overrides: list[str] | tuple = ()) -> Config:
    """Read ``path`` (None: all defaults), apply ``key.sub=value`` overrides, validate.

    An error names what caused it: the file when the file alone is invalid, else the
    file together with the ``--set`` overrides.
    """
    where = str(path) if path is not None else "defaults"
    raw = read_yaml_mapping(path) if path is not None else {}
    try:
        return config_from_dict(apply_overrides(raw, overrides), where)
    except ConfigError as err:
        if not overrides:
            raise
        try:
            config_from_dict(raw, where)
        except ConfigError:
            raise err from None
        sets = " ".join(f"--set {item!r}" for item in overrides)
        config_from_dict(apply_overrides(raw, overrides), f"{where} with {sets}")
        raise


def config_from_dict(raw: Mapping, where: str = "config") -> Config:
    """Validate a plain mapping (as read from YAML) into a :class:`Config`."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected a mapping at the top, got {type(raw).__name__}")
    raw = dict(raw)
    opt_raw = raw.pop("optimizer", None)
    search_raw = raw.pop("search", None)
    cfg = _build(Config, raw, where, "")
    optimizer = _build_optimizer(opt_raw, where)
    search = None
    if search_raw is not None:
        search = parse_search_space(search_raw, where)
    cfg = dataclasses.replace(cfg, optimizer=optimizer, search=search)
    check_consistency(cfg, where)
    if search is not None:                  # every searched bound fits the rest, now
        check_against(search, config_to_dict(cfg), where)
    if cfg.data.val_size >= 1:          # a count, even if written 5e3
        cfg = dataclasses.replace(cfg, data=dataclasses.replace(
            cfg.data, val_size=int(cfg.data.val_size)))
    return cfg


def config_to_dict(cfg: Config) -> dict:
    """The resolved config as plain data; ``config_from_dict`` reads it back unchanged."""
    out = dataclasses.asdict(cfg)
    opt = out["optimizer"]
    out["optimizer"] = {"name": opt["name"], "lr": opt["lr"], **dict(opt["hyper"]),
                        "schedule": {"name": opt["schedule"]["name"],
                                     **dict(opt["schedule"]["settings"])}}
    out["model"]["hidden"] = list(cfg.model.hidden)
    if cfg.search is None:
        out.pop("search")
    else:
        out["search"] = cfg.search.to_dict()
    return out


def config_keys() -> set[str]:
    """Every dotted leaf key a config file may set (the settings of every optimiser and
    every schedule), ``search`` itself excepted."""
    keys = {key for key in _leaf_keys(Config, "") if not key.startswith(("optimizer", "search"))}
    keys |= {f"optimizer.{k}" for n in OPTIMIZERS for k in ("name", *hyperparameters(n))}
    keys |= {f"optimizer.schedule.{k}" for n in SCHEDULES for k in ("name", *schedule_settings(n))}
    return keys


def parse_search_space(raw: Any, where: str) -> SearchSpace:
    """A ``search:`` section whose keys are config keys (:func:`~dlexp.config_space.parse_space`)."""
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



# --- internals -------------------------------------------------------------------------
def _build(cls, raw: Any, where: str, prefix: str):
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: {prefix.rstrip('.') or 'top level'}: expected a mapping "
                          f"of keys, got {type(raw).__name__} {short(raw)}; write it as "
                          "indented `key: value` lines (see configs/baseline.yaml)")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    _reject_unknown(raw, fields, where, prefix)
    values = {}
    for name, value in raw.items():
        f = fields[name]
        key = prefix + name
        if dataclasses.is_dataclass(f.default) and not isinstance(f.default, type):
            values[name] = _build(type(f.default), value, where, key + ".")
        else:
            values[name] = check_value(key, value, f.type, setting_of(key, f).check, where)
    return cls(**values)


def _leaf_keys(cls, prefix: str) -> list[str]:
    out = []
    for f in dataclasses.fields(cls):
        if dataclasses.is_dataclass(f.default) and not isinstance(f.default, type):
            out += _leaf_keys(type(f.default), prefix + f.name + ".")
        else:
            out.append(prefix + f.name)
    return out


def _reject_unknown(raw: Mapping, valid, where: str, prefix: str) -> None:
    for key in raw:
        if key not in valid:
            raise ConfigError(f"{where}: unknown key {prefix + str(key)!r}; "
                              f"{did_you_mean(key, valid)}"
                              f"valid keys: {', '.join(valid)}")


def _build_optimizer(raw: Any, where: str) -> OptimizerConfig:
    raw = {} if raw is None else raw
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: optimizer: expected a mapping, got {type(raw).__name__} "
                          f"{short(raw)}; write e.g. `optimizer: {{name: adam, lr: 0.001}}`")
    raw = dict(raw)
    name = check_value("optimizer.name", raw.pop("name", OptimizerConfig.name), str,
                       NAMED["optimizer.name"].check, where)
    defaults = hyperparameters(name)
    schedule = _build_schedule(raw.pop("schedule", None), where)
    for key in raw:
        if key not in defaults and any(key in hyperparameters(n) for n in OPTIMIZERS):
            raise ConfigError(f"{where}: optimizer.{key}: not a setting of optimizer {name!r}; "
                              f"its settings are: {', '.join(defaults)}")
    _reject_unknown(raw, list(defaults) + ["name", "schedule"], where, "optimizer.")
    hyper = {}
    for key, default in defaults.items():
        value = raw.get(key, default)
        kind = bool if isinstance(default, bool) else float
        hyper[key] = check_value(f"optimizer.{key}", value, kind,
                                 NAMED[f"optimizer.{key}"].check, where)
    lr = hyper.pop("lr")
    return OptimizerConfig(name=name, lr=lr, hyper=hyper, schedule=schedule)


def _build_schedule(raw: Any, where: str) -> ScheduleConfig:
    if raw is None:
        return ScheduleConfig()
    if isinstance(raw, str):
        raw = {"name": raw}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: optimizer.schedule: expected a name or a mapping, "
                          f"got {type(raw).__name__} {short(raw)}; write e.g. "
                          "`schedule: cosine` or `schedule: {name: step, every: 10}`")
    raw = dict(raw)
    name = check_value("optimizer.schedule.name", raw.pop("name", "constant"), str,
                       NAMED["optimizer.schedule"].check, where)
    spec = schedule_settings(name)
    _reject_unknown(raw, list(spec) + ["name"], where, "optimizer.schedule.")
    settings = {}
    for key, default in spec.items():
        kind = int if isinstance(default, int) else float
        settings[key] = check_value(f"optimizer.schedule.{key}", raw.get(key, default), kind,
                                    NAMED[f"optimizer.schedule.{key}"].check, where)
    return ScheduleConfig(name=name, settings=settings)
