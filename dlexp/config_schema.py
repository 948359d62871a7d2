"""What a config is: every key with its default, check and meaning, declared once: a
:func:`setting` per dataclass field, and :data:`NAMED` for the keys whose defaults are
the engine's (``ModelSpec``, each optimiser's and schedule's signature).
"""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

from dlexp.config_checks import RUN_NAME, Range
from dlexp.config_space import SearchSpace
from dlexp.data.splits import SUBSETS, VAL_TAKES
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
                                         "search` (its keys: docs/search.md)")


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
