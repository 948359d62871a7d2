"""Experiment configs: YAML → frozen dataclasses, every name and range checked once.

    cfg = load_config("configs/baseline.yaml", overrides=["optimizer.lr=0.01"])

Any problem raises :class:`~dlexp.errors.ConfigError` with one line naming the file, the
key and the allowed values (the closest valid key is suggested for a typo). Everything
downstream may trust a :class:`Config`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from dlexp.config_checks import (FIELD_CHECKS, check_consistency, check_value, did_you_mean,
                                 short)
from dlexp.config_yaml import apply_overrides, read_yaml_mapping
from dlexp.errors import ConfigError
from dlexp.nn.model import ModelSpec
from dlexp.optim.optimizers import HYPER_BOUNDS, OPTIMIZERS, hyperparameters
from dlexp.optim.schedules import SCHEDULE_SETTINGS, SCHEDULES


@dataclass(frozen=True)
class DataConfig:
    val_size: float = 5000            # images (int ≥ 0) or a fraction of the pool in (0, 1)
    train_size: int | None = None     # restrict the training pool (book: 300, 500)
    subset: str = "first"             # how train_size picks: "first" N or "random"
    stratify: bool = True             # validation split keeps class proportions
    split_seed: int | None = None     # seeds the split alone (None: the run's seed)


@dataclass(frozen=True)
class ScheduleConfig:
    name: str = "constant"
    settings: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class OptimizerConfig:
    name: str = "adam"
    lr: float = 0.001
    hyper: Mapping[str, float | bool] = field(default_factory=dict)   # all of the optimiser's
    schedule: ScheduleConfig = ScheduleConfig()


@dataclass(frozen=True)
class RegularizationConfig:
    l2: float = 0.0                   # ½λ‖W‖² added to the loss
    l1: float = 0.0                   # λ‖W‖₁ added to the loss
    decay_all: bool = False           # also penalise biases, γ and β


@dataclass(frozen=True)
class EarlyStoppingConfig:
    patience: int | None = None       # stop after this many evaluations without progress
    min_delta: float = 0.0            # what counts as progress in validation accuracy


@dataclass(frozen=True)
class TrainingConfig:
    epochs: int = 10
    iterations: int | None = None     # stop after this many updates instead
    batch_size: int = 100
    eval_every: int | None = None     # evaluate every N updates (default: every epoch)
    train_eval: str = "full"          # train accuracy on the whole set, or "running"
    early_stopping: EarlyStoppingConfig = EarlyStoppingConfig()


@dataclass(frozen=True)
class Config:
    name: str = "run"
    seed: int = 0
    dtype: str = "float32"
    data: DataConfig = DataConfig()
    model: ModelSpec = ModelSpec()
    optimizer: OptimizerConfig = OptimizerConfig()
    regularization: RegularizationConfig = RegularizationConfig()
    training: TrainingConfig = TrainingConfig()
    search: Any = None                # parsed by dlexp.search.space when present


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
        from dlexp.search.space import parse_search_space
        search = parse_search_space(search_raw, where)
    cfg = dataclasses.replace(cfg, optimizer=optimizer, search=search)
    check_consistency(cfg, where)
    if search is not None:                  # every searched bound fits the rest, now
        from dlexp.search.space import check_against
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
            values[name] = check_value(key, value, f.type, FIELD_CHECKS.get(key), where)
    return cls(**values)


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
                       ("choice", tuple(OPTIMIZERS)), where)
    defaults = hyperparameters(name)
    schedule = _build_schedule(raw.pop("schedule", None), where)
    for key in raw:
        if key not in defaults and any(key in hyperparameters(n) for n in OPTIMIZERS):
            raise ConfigError(f"{where}: optimizer.{key}: not a setting of optimizer {name!r}; "
                              f"its settings are: {', '.join(defaults)}")
    _reject_unknown(raw, list(defaults) + ["name", "schedule"], where, "optimizer.")
    hyper = {}
    for key, default in defaults.items():
        bounds, value = HYPER_BOUNDS[key], raw.get(key, default)
        hyper[key] = (check_value(f"optimizer.{key}", value, bool, None, where) if bounds is None
                      else check_value(f"optimizer.{key}", value, float, ("range", *bounds), where))
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
                       ("choice", tuple(SCHEDULES)), where)
    spec = SCHEDULE_SETTINGS[name]
    _reject_unknown(raw, list(spec) + ["name"], where, "optimizer.schedule.")
    settings = {}
    for key, (default, low, high) in spec.items():
        kind = int if isinstance(default, int) else float
        settings[key] = check_value(f"optimizer.schedule.{key}", raw.get(key, default), kind,
                                    ("range", low, high, True, True), where)
    return ScheduleConfig(name=name, settings=settings)
