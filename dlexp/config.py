"""Experiment configs: YAML → frozen dataclasses, each key declared once.

    cfg = load_config("configs/baseline.yaml", overrides=["optimizer.lr=0.01"])

Each field is a :func:`setting`: default, check and meaning; the keys whose defaults are
the engine's (:class:`~dlexp.nn.model.ModelSpec`, each optimiser's and schedule's
signature) have meaning and check in :data:`NAMED`. The loader, the search space, `--set`
hints and docs/configuration.md (:mod:`dlexp.config_reference`) all read these.
"""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

from dlexp.config_checks import (RUN_NAME, Range, check_consistency, check_value, did_you_mean,
                                 short)
from dlexp.config_space import SearchSpace, apply_params, parse_space, used_params
from dlexp.config_yaml import apply_overrides, read_yaml_mapping
from dlexp.data.splits import SUBSETS, VAL_TAKES
from dlexp.errors import ConfigError
from dlexp.nn.batchnorm import RUNNING_INITS
from dlexp.nn.init import INITIALIZERS
from dlexp.nn.layers import ACTIVATIONS, DROPOUT_MODES
from dlexp.nn.model import ModelSpec
from dlexp.optim.optimizers import OPTIMIZERS, hyperparameters
from dlexp.optim.schedules import SCHEDULES

NONNEG, POSITIVE = Range(0), Range(0, low_in=False)            # ≥ 0;  > 0
UNIT, CLOSED = Range(0, 1), Range(0, 1, high_in=True)           # [0, 1);  [0, 1]


def setting(default: Any, meaning: str, check: Any = None) -> Any:
    """A dataclass field with its default, check (None: its type says enough) and meaning."""
    return field(default=default, metadata={"meaning": meaning, "check": check})


@dataclass(frozen=True)
class DataConfig:
    val_size: float = setting(5000, "validation images: a count, or a fraction (< 1) of the "
                              "training pool; taken from the 60,000 training images, never "
                              "from the test set", NONNEG)
    train_size: int | None = setting(None, "use only this many training images (the book's "
                                     "300 for overfitting); null: all", Range(1))
    subset: str = setting("first", "which `train_size` images: the `first` ones or a seeded "
                          "`random` sample", SUBSETS)
    stratify: bool = setting(True, "the validation split keeps the class proportions")
    val_take: str = setting("sample", "which pool images validate: a `sample` (stratified "
                            "if `stratify`), or the pool's `last` ones, so the training set "
                            "is the pool's first images in order (the book's "
                            "`x_train[:300]`)", VAL_TAKES)
    split_seed: int | None = setting(None, "seed of the train/validation split alone, so runs "
                                     "with different seeds train on the same images (null: "
                                     "the run's `seed`)", NONNEG)


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
    l2: float = setting(0.0, "λ of the L2 penalty ½λ‖W‖² on weights (gradient λW)", NONNEG)
    l1: float = setting(0.0, "λ of the L1 penalty λ‖W‖₁ on weights", NONNEG)
    decay_all: bool = setting(False, "penalise biases, γ and β too, not only weights")


@dataclass(frozen=True)
class EarlyStoppingConfig:
    patience: int | None = setting(None, "stop after this many evaluations without a gain in "
                                   "validation accuracy (null: never)", Range(1))
    min_delta: float = setting(0.0, "the gain in validation accuracy that counts", NONNEG)


@dataclass(frozen=True)
class TrainingConfig:
    epochs: int = setting(10, "passes over the training set (each a fresh permutation; the "
                          "last, smaller batch is used)", Range(1))
    iterations: int | None = setting(None, "stop after this many updates instead of `epochs` "
                                     "(null: use epochs)", Range(1))
    batch_size: int = setting(100, "images per update; must not exceed the training set",
                              Range(1))
    eval_every: int | None = setting(None, "evaluate every this many updates (null: at the "
                                     "end of each epoch)", Range(1))
    train_eval: str = setting("full", "train accuracy on the `full` training set at each "
                              "evaluation, or the `running` accuracy of the batches since the "
                              "last one (cheaper)", ("full", "running"))
    sampling: str = setting("without_replacement", "minibatches: each epoch a fresh "
                            "permutation cut in batches (`without_replacement`), or each "
                            "batch drawn anew with replacement (`with_replacement`, the "
                            "book's `np.random.choice`)", ("without_replacement",
                                                            "with_replacement"))
    record_loss: str = setting("before_update", "each minibatch's recorded loss: from the "
                               "training forward pass `before_update`, or recomputed "
                               "`after_update` in inference mode (the book's scripts)",
                               ("before_update", "after_update"))
    early_stopping: EarlyStoppingConfig = EarlyStoppingConfig()


@dataclass(frozen=True)
class Config:
    name: str = setting("run", "names the run folder `runs/<name>-<date>-<time>`", RUN_NAME)
    seed: int = setting(0, "seeds the split, the initial weights, dropout and the batch order "
                        "(4 streams)", NONNEG)
    dtype: str = setting("float32", "floating type of data, weights and arithmetic",
                         ("float32", "float64"))
    data: DataConfig = DataConfig()
    model: ModelSpec = ModelSpec()
    optimizer: OptimizerConfig = OptimizerConfig()
    regularization: RegularizationConfig = RegularizationConfig()
    training: TrainingConfig = TrainingConfig()
    trial_init: str = setting("shared", "`dlexp search`: every trial starts from the run's "
                              "`seed` (`shared`: the same initial weights, dropout masks and "
                              "batch order, so trials differ only in their hyperparameters), "
                              "or from the seed and its trial number (`per_trial`: fresh "
                              "ones, as the book's search)", ("shared", "per_trial"))
    search: SearchSpace | None = setting(None, "hyperparameter search space, used by `dlexp "
                                         "search` (see that section)")


NAMED: dict[str, tuple[str, Any]] = {       # key → (meaning, check), defaults in the engine
    "model.hidden": ("units of each hidden layer (`[]`: softmax regression)", None),
    "model.activation": ("activation after each hidden affine layer (and batch norm)",
                         tuple(ACTIVATIONS)),
    "model.initializer": ("initial weights (biases start at 0); `he_*` suits ReLU, "
                          "`xavier_*`/`glorot_*` sigmoid and tanh", tuple(INITIALIZERS)),
    "model.init_std": ("standard deviation for initializer `normal` (null: 0.01)", POSITIVE),
    "model.batchnorm": ("batch normalisation between each hidden affine layer and "
                        "activation", None),
    "model.bn_momentum": ("weight of the newest batch in the running mean/variance", CLOSED),
    "model.bn_eps": ("added to the variance before the square root", POSITIVE),
    "model.bn_unbiased": ("running variance from the unbiased batch variance (× N/(N−1), "
                          "as PyTorch); false: the biased one, as the book", None),
    "model.bn_running_init": ("start of the running statistics: `standard` mean 0 / "
                              "variance 1 (PyTorch), `book` 0 / 0 (the book)",
                              tuple(RUNNING_INITS)),
    "model.dropout": ("probability of dropping each hidden unit in training (0: no "
                      "dropout)", UNIT),
    "model.dropout_mode": ("`inverted`: scale kept units by 1/(1-p) in training; "
                           "`book`: scale by (1-p) at test time", tuple(DROPOUT_MODES)),
    "optimizer.name": ("the update rule (see dlexp/optim/optimizers.py for the formulas)",
                       tuple(OPTIMIZERS)),
    "optimizer.lr": ("learning rate η (the start value of the schedule)", POSITIVE),
    "optimizer.momentum": ("momentum coefficient μ", UNIT),
    "optimizer.alpha": ("RMSProp decay of the squared-gradient average", UNIT),
    "optimizer.beta1": ("Adam decay of the gradient average", UNIT),
    "optimizer.beta2": ("Adam decay of the squared-gradient average", UNIT),
    "optimizer.eps": ("added to the denominator for stability", POSITIVE),
    "optimizer.weight_decay": ("AdamW's decoupled decay λ (after the Adam step)", NONNEG),
    "optimizer.bias_correction": ("divide Adam's moments by 1 − βᵗ (false: the raw "
                                  "m / (√v + ε))", None),
    "optimizer.schedule": ("learning-rate schedule: a name, or a mapping with `name:` and "
                           "its settings below", tuple(SCHEDULES)),
    "optimizer.schedule.every": ("`step`: multiply η by γ every this many epochs",
                                 Range(1, high_in=True)),
    "optimizer.schedule.gamma": ("`step`/`exponential`: the factor γ", CLOSED),
    "optimizer.schedule.k": ("`inverse_time`: η₀ / (1 + k·epoch)", Range(0, high_in=True)),
    "optimizer.schedule.min_lr": ("`cosine`: the rate the schedule reaches after the last "
                                  "update (≤ optimizer.lr)", Range(0, high_in=True)),
}


def setting_of(key: str, f: dataclasses.Field | None = None) -> tuple[str, Any]:
    """The meaning and check of a dotted key (``f``: its dataclass field, if it has one)."""
    if f is not None and "meaning" in f.metadata:
        return f.metadata["meaning"], f.metadata["check"]
    return NAMED.get(key, ("", None))       # no meaning yet: the reference's test says so


def schedule_settings(name: str) -> dict[str, Any]:
    """Schedule ``name``'s settings and defaults (its signature after rate and step counts)."""
    params = list(inspect.signature(SCHEDULES[name]).parameters.values())[3:]
    return {p.name: p.default for p in params}


def config_fields(cls: type = Config, prefix: str = "") -> Iterator[tuple[str, dataclasses.Field]]:
    """``(dotted key, field)`` of every leaf, in order; ``optimizer`` is one leaf."""
    for f in dataclasses.fields(cls):
        if dataclasses.is_dataclass(f.default) and f.name != "optimizer":
            yield from config_fields(type(f.default), prefix + f.name + ".")
        else:
            yield prefix + f.name, f


def config_keys() -> set[str]:
    """Every dotted leaf key a config may set (each optimiser's and schedule's), ``search``
    itself excepted."""
    keys = {key for key, _ in config_fields() if key not in ("optimizer", "search")}
    keys |= {f"optimizer.{k}" for n in OPTIMIZERS for k in ("name", *hyperparameters(n))}
    keys |= {f"optimizer.schedule.{k}" for n in SCHEDULES for k in ("name", *schedule_settings(n))}
    return keys


def load_config(path: str | Path | None = None, overrides: list[str] | tuple = ()) -> Config:
    """Read ``path`` (None: all defaults), apply ``key.sub=value`` overrides, validate. An
    error names the file alone when the file alone is invalid, else also the overrides."""
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
    del out["search"]
    if cfg.search is not None:
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
                   "it as indented `key: value` lines (see configs/baseline.yaml)")
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
    name = check_value("optimizer.schedule.name", raw.pop("name", "constant"), "str",
                       NAMED["optimizer.schedule"][1], where)
    settings = _settings(raw, schedule_settings(name), "optimizer.schedule.", where, "name")
    return ScheduleConfig(name, settings)
