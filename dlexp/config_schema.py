"""What a config may hold: every key's default, allowed values and meaning, in one place.

The dataclasses below are the config; each field is a :func:`setting` carrying its
default, its check (``("choice", names)``, ``("range", low, high, low_in, high_in)`` or
``("pattern", regex, words)``, see :mod:`dlexp.config_checks`) and its meaning. The keys
whose defaults belong to the engine — the model's (:class:`~dlexp.nn.model.ModelSpec`),
each optimiser's and schedule's (their functions' signatures) — have their check and
meaning in :data:`NAMED`. The loader (:mod:`dlexp.config`), the search space, the
``--set`` hints and docs/configuration.md (:mod:`dlexp.config_reference`) all read these.
"""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass, field
from typing import Any, Mapping

from dlexp.config_checks import RUN_NAME
from dlexp.config_space import SearchSpace
from dlexp.data.splits import SUBSETS, VAL_TAKES
from dlexp.nn.batchnorm import RUNNING_INITS
from dlexp.nn.init import INITIALIZERS
from dlexp.nn.layers import ACTIVATIONS, DROPOUT_MODES
from dlexp.nn.model import ModelSpec
from dlexp.optim.optimizers import OPTIMIZERS
from dlexp.optim.schedules import SCHEDULES

INF = float("inf")
SAMPLINGS = ("without_replacement", "with_replacement")
RECORD_LOSSES = ("before_update", "after_update")
TRIAL_INITS = ("shared", "per_trial")


@dataclass(frozen=True)
class Setting:
    """A key's check (None: its type says enough) and its meaning."""

    meaning: str
    check: tuple | None = None


def at_least(low: float, high: float = INF, low_in: bool = True, high_in: bool = False
             ) -> tuple:
    """A range check: low ≤ x < high by default."""
    return ("range", low, high, low_in, high_in)


def choice(names) -> tuple:
    return ("choice", tuple(names))


def setting(default: Any, meaning: str, check: tuple | None = None) -> Any:
    """A dataclass field with its default, check and meaning."""
    return field(default=default, metadata={"setting": Setting(meaning, check)})


@dataclass(frozen=True)
class DataConfig:
    val_size: float = setting(5000, "validation images: a count, or a fraction (< 1) of the "
                              "training pool; taken from the 60,000 training images, never "
                              "from the test set", at_least(0))
    train_size: int | None = setting(None, "use only this many training images (the book's "
                                     "300 for overfitting); null: all", at_least(1))
    subset: str = setting("first", "which `train_size` images: the `first` ones or a seeded "
                          "`random` sample", choice(SUBSETS))
    stratify: bool = setting(True, "the validation split keeps the class proportions")
    val_take: str = setting("sample", "which pool images validate: a `sample` (stratified "
                            "if `stratify`), or the pool's `last` ones, so the training set "
                            "is the pool's first images in order (the book's "
                            "`x_train[:300]`)", choice(VAL_TAKES))
    split_seed: int | None = setting(None, "seed of the train/validation split alone, so runs "
                                     "with different seeds train on the same images (null: "
                                     "the run's `seed`)", at_least(0))


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
    l2: float = setting(0.0, "λ of the L2 penalty ½λ‖W‖² on weights (gradient λW)",
                        at_least(0))
    l1: float = setting(0.0, "λ of the L1 penalty λ‖W‖₁ on weights", at_least(0))
    decay_all: bool = setting(False, "penalise biases, γ and β too, not only weights")


@dataclass(frozen=True)
class EarlyStoppingConfig:
    patience: int | None = setting(None, "stop after this many evaluations without a gain in "
                                   "validation accuracy (null: never)", at_least(1))
    min_delta: float = setting(0.0, "the gain in validation accuracy that counts", at_least(0))


@dataclass(frozen=True)
class TrainingConfig:
    epochs: int = setting(10, "passes over the training set (each a fresh permutation; the "
                          "last, smaller batch is used)", at_least(1))
    iterations: int | None = setting(None, "stop after this many updates instead of `epochs` "
                                     "(null: use epochs)", at_least(1))
    batch_size: int = setting(100, "images per update; must not exceed the training set",
                              at_least(1))
    eval_every: int | None = setting(None, "evaluate every this many updates (null: at the "
                                     "end of each epoch)", at_least(1))
    train_eval: str = setting("full", "train accuracy on the `full` training set at each "
                              "evaluation, or the `running` accuracy of the batches since the "
                              "last one (cheaper)", choice(("full", "running")))
    sampling: str = setting("without_replacement", "minibatches: each epoch a fresh "
                            "permutation cut in batches (`without_replacement`), or each "
                            "batch drawn anew with replacement (`with_replacement`, the "
                            "book's `np.random.choice`)", choice(SAMPLINGS))
    record_loss: str = setting("before_update", "each minibatch's recorded loss: from the "
                               "training forward pass `before_update`, or recomputed "
                               "`after_update` in inference mode (the book's scripts)",
                               choice(RECORD_LOSSES))
    early_stopping: EarlyStoppingConfig = EarlyStoppingConfig()


@dataclass(frozen=True)
class Config:
    name: str = setting("run", "names the run folder `runs/<name>-<date>-<time>`", RUN_NAME)
    seed: int = setting(0, "seeds the split, the initial weights, dropout and the batch order "
                        "(4 streams)", at_least(0))
    dtype: str = setting("float32", "floating type of data, weights and arithmetic",
                         choice(("float32", "float64")))
    data: DataConfig = DataConfig()
    model: ModelSpec = ModelSpec()
    optimizer: OptimizerConfig = OptimizerConfig()
    regularization: RegularizationConfig = RegularizationConfig()
    training: TrainingConfig = TrainingConfig()
    trial_init: str = setting("shared", "`dlexp search`: every trial starts from the run's "
                              "`seed` (`shared`: the same initial weights, dropout masks and "
                              "batch order, so trials differ only in their hyperparameters), "
                              "or from the seed and its trial number (`per_trial`: fresh "
                              "ones, as the book's search)", choice(TRIAL_INITS))
    search: SearchSpace | None = setting(None, "hyperparameter search space, used by `dlexp search` (see "
                          "that section)")


NAMED: dict[str, Setting] = {
    "model.hidden": Setting("units of each hidden layer (`[]`: softmax regression)"),
    "model.activation": Setting("activation after each hidden affine layer (and batch norm)",
                                choice(ACTIVATIONS)),
    "model.initializer": Setting("initial weights (biases start at 0); `he_*` suits ReLU, "
                                 "`xavier_*`/`glorot_*` sigmoid and tanh", choice(INITIALIZERS)),
    "model.init_std": Setting("standard deviation for initializer `normal` (null: 0.01)",
                              at_least(0, INF, False)),
    "model.batchnorm": Setting("batch normalisation between each hidden affine layer and "
                               "activation"),
    "model.bn_momentum": Setting("weight of the newest batch in the running mean/variance",
                                 at_least(0, 1, True, True)),
    "model.bn_eps": Setting("added to the variance before the square root",
                            at_least(0, INF, False)),
    "model.bn_unbiased": Setting("running variance from the unbiased batch variance (× N/(N−1), "
                                 "as PyTorch); false: the biased one, as the book"),
    "model.bn_running_init": Setting("start of the running statistics: `standard` mean 0 / "
                                     "variance 1 (PyTorch), `book` 0 / 0 (the book)",
                                     choice(RUNNING_INITS)),
    "model.dropout": Setting("probability of dropping each hidden unit in training (0: no "
                             "dropout)", at_least(0, 1)),
    "model.dropout_mode": Setting("`inverted`: scale kept units by 1/(1-p) in training; "
                                  "`book`: scale by (1-p) at test time", choice(DROPOUT_MODES)),
    "optimizer.name": Setting("the update rule (see dlexp/optim/optimizers.py for the "
                              "formulas)", choice(OPTIMIZERS)),
    "optimizer.lr": Setting("learning rate η (the start value of the schedule)",
                            at_least(0, INF, False)),
    "optimizer.momentum": Setting("momentum coefficient μ", at_least(0, 1)),
    "optimizer.alpha": Setting("RMSProp decay of the squared-gradient average", at_least(0, 1)),
    "optimizer.beta1": Setting("Adam decay of the gradient average", at_least(0, 1)),
    "optimizer.beta2": Setting("Adam decay of the squared-gradient average", at_least(0, 1)),
    "optimizer.eps": Setting("added to the denominator for stability", at_least(0, INF, False)),
    "optimizer.weight_decay": Setting("AdamW's decoupled decay λ (after the Adam step)",
                                      at_least(0)),
    "optimizer.bias_correction": Setting("divide Adam's moments by 1 − βᵗ (false: the raw "
                                         "m / (√v + ε))"),
    "optimizer.schedule": Setting("learning-rate schedule: a name, or a mapping with `name:` "
                                  "and its settings below", choice(SCHEDULES)),
    "optimizer.schedule.every": Setting("`step`: multiply η by γ every this many epochs",
                                        at_least(1, INF, True, True)),
    "optimizer.schedule.gamma": Setting("`step`/`exponential`: the factor γ",
                                        at_least(0, 1, True, True)),
    "optimizer.schedule.k": Setting("`inverse_time`: η₀ / (1 + k·epoch)",
                                    at_least(0, INF, True, True)),
    "optimizer.schedule.min_lr": Setting("`cosine`: the rate the schedule reaches after the "
                                         "last update (≤ optimizer.lr)",
                                         at_least(0, INF, True, True)),
}


def setting_of(key: str, f: dataclasses.Field | None = None) -> Setting:
    """The check and meaning of a dotted key (``f``: its dataclass field, if it has one)."""
    if f is not None and "setting" in f.metadata:
        return f.metadata["setting"]
    return NAMED.get(key, Setting(""))       # no meaning yet: the reference's test says so


def schedule_settings(name: str) -> dict[str, Any]:
    """Schedule ``name``'s settings and their defaults (its signature after the rate and
    the two step counts)."""
    params = list(inspect.signature(SCHEDULES[name]).parameters.values())[3:]
    return {p.name: p.default for p in params}
