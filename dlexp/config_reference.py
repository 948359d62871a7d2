"""The configuration reference, generated from the dataclasses, registries and checks.

Every key a config may hold, with its default, what is allowed and what it means::

    python -m dlexp.config_reference        # prints the Markdown table for the README

Defaults come from :class:`~dlexp.config.Config` (and, for optimiser and schedule
settings, from the factories' signatures and ``SCHEDULE_SETTINGS``); allowed values come
from :data:`~dlexp.config_checks.FIELD_CHECKS` and the registries. Only the meanings are
written here, in :data:`MEANINGS`; a test checks that every key has one.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterator

from dlexp.config import Config, OptimizerConfig
from dlexp.config_checks import FIELD_CHECKS, describe_check
from dlexp.optim.optimizers import HYPER_BOUNDS, OPTIMIZERS, hyperparameters
from dlexp.optim.schedules import SCHEDULE_SETTINGS, SCHEDULES

MEANINGS: dict[str, str] = {
    "name": "names the run folder `runs/<name>-<date>-<time>`",
    "seed": "seeds the split, the initial weights, dropout and the batch order (4 streams)",
    "dtype": "floating type of data, weights and arithmetic",
    "data.val_size": "validation images: a count, or a fraction (< 1) of the training pool; "
                     "taken from the 60,000 training images, never from the test set",
    "data.train_size": "use only this many training images (the book's 300 for overfitting); "
                       "null: all",
    "data.subset": "which `train_size` images: the `first` ones or a seeded `random` sample",
    "data.stratify": "the validation split keeps the class proportions",
    "data.split_seed": "seed of the train/validation split alone, so runs with different "
                       "seeds train on the same images (null: the run's `seed`)",
    "model.hidden": "units of each hidden layer (`[]`: softmax regression)",
    "model.activation": "activation after each hidden affine layer (and batch norm)",
    "model.initializer": "initial weights (biases start at 0); `he_*` suits ReLU, "
                         "`xavier_*`/`glorot_*` sigmoid and tanh",
    "model.init_std": "standard deviation for initializer `normal` (null: 0.01)",
    "model.batchnorm": "batch normalisation between each hidden affine layer and activation",
    "model.bn_momentum": "weight of the newest batch in the running mean/variance",
    "model.bn_eps": "added to the variance before the square root",
    "model.bn_unbiased": "running variance from the unbiased batch variance (× N/(N−1), "
                         "as PyTorch); false: the biased one, as the book",
    "model.bn_running_init": "start of the running statistics: `standard` mean 0 / variance 1 "
                             "(PyTorch), `book` 0 / 0 (the book)",
    "model.dropout": "probability of dropping each hidden unit in training (0: no dropout)",
    "model.dropout_mode": "`inverted`: scale kept units by 1/(1-p) in training; "
                          "`book`: scale by (1-p) at test time",
    "optimizer.name": "the update rule (see dlexp/optim/optimizers.py for the formulas)",
    "optimizer.lr": "learning rate η (the start value of the schedule)",
    "optimizer.momentum": "momentum coefficient μ",
    "optimizer.alpha": "RMSProp decay of the squared-gradient average",
    "optimizer.beta1": "Adam decay of the gradient average",
    "optimizer.beta2": "Adam decay of the squared-gradient average",
    "optimizer.eps": "added to the denominator for stability",
    "optimizer.weight_decay": "AdamW's decoupled decay λ (after the Adam step)",
    "optimizer.bias_correction": "divide Adam's moments by 1 − βᵗ (false: the raw "
                                 "m / (√v + ε))",
    "optimizer.schedule": "learning-rate schedule: a name, or a mapping with `name:` and "
                          "its settings below",
    "optimizer.schedule.every": "`step`: multiply η by γ every this many epochs",
    "optimizer.schedule.gamma": "`step`/`exponential`: the factor γ",
    "optimizer.schedule.k": "`inverse_time`: η₀ / (1 + k·epoch)",
    "optimizer.schedule.min_lr": "`cosine`: the rate the schedule reaches after the last "
                                 "update (≤ optimizer.lr)",
    "regularization.l2": "λ of the L2 penalty ½λ‖W‖² on weights (gradient λW)",
    "regularization.l1": "λ of the L1 penalty λ‖W‖₁ on weights",
    "regularization.decay_all": "penalise biases, γ and β too, not only weights",
    "training.epochs": "passes over the training set (each a fresh permutation; the last, "
                       "smaller batch is used)",
    "training.iterations": "stop after this many updates instead of `epochs` (null: use epochs)",
    "training.batch_size": "images per update; must not exceed the training set",
    "training.eval_every": "evaluate every this many updates (null: at the end of each epoch)",
    "training.train_eval": "train accuracy on the `full` training set at each evaluation, or "
                           "the `running` accuracy of the batches since the last one (cheaper)",
    "training.early_stopping.patience": "stop after this many evaluations without a gain in "
                                        "validation accuracy (null: never)",
    "training.early_stopping.min_delta": "the gain in validation accuracy that counts",
    "search": "hyperparameter search space, used by `dlexp search` (see that section)",
}

Row = tuple[str, str, str, str]          # key, default, allowed, meaning
WHOLE = ("optimizer",)     # sections whose keys depend on a name: see config_keys()


def config_fields() -> Iterator[tuple[str, dataclasses.Field, Any]]:
    """``(dotted key, field, default)`` for each leaf of :class:`Config`, in file order.

    ``optimizer`` comes whole (its settings depend on the optimiser and schedule), and so
    does ``search`` (a mapping).
    """
    yield from _leaves(Config(), "")


def config_keys() -> set[str]:
    """Every dotted leaf key a config file may set (the settings of every optimiser and
    every schedule), ``search`` itself excepted."""
    keys = {key for key, _, _ in config_fields() if key not in (*WHOLE, "search")}
    keys |= {f"optimizer.{k}" for k in ("name", *HYPER_BOUNDS)}
    keys |= {f"optimizer.schedule.{k}"
             for k in ("name", *(k for spec in SCHEDULE_SETTINGS.values() for k in spec))}
    return keys


def reference_rows() -> list[Row]:
    """One row per config key, in the order of the dataclasses."""
    rows: list[Row] = []
    for key, f, default in config_fields():
        if key == "optimizer":
            rows += _optimizer_rows()
        elif key == "search":
            rows.append(("search", "null", "a mapping", MEANINGS["search"]))
        else:
            rows.append(_field_row(key, f, default))
    return rows


def reference_markdown() -> str:
    lines = ["| key | default | allowed | meaning |", "| --- | --- | --- | --- |"]
    lines += [f"| `{k}` | {d} | {a} | {m} |" for k, d, a, m in reference_rows()]
    return "\n".join(lines) + "\n"


def _leaves(obj: Any, prefix: str) -> Iterator[tuple[str, dataclasses.Field, Any]]:
    for f in dataclasses.fields(obj):
        key, value = prefix + f.name, getattr(obj, f.name)
        if dataclasses.is_dataclass(value) and key not in WHOLE:
            yield from _leaves(value, key + ".")
        else:
            yield key, f, value


def _field_row(key: str, f: dataclasses.Field, default: Any) -> Row:
    hint = f.type if isinstance(f.type, str) else f.type.__name__
    allowed = describe_check(FIELD_CHECKS.get(key))
    if key == "data.val_size":
        allowed = "a whole number ≥ 0, or a fraction in (0, 1)"
    elif "tuple[int" in hint:
        allowed = "a list of whole numbers ≥ 1"
    elif hint == "bool":
        allowed = "true, false"
    if hint.endswith("| None"):
        allowed += ", or null"
    return (key, _show(default), allowed, MEANINGS[key])


def _optimizer_rows() -> list[Row]:
    rows: list[Row] = [("optimizer.name", OptimizerConfig.name,
                        describe_check(("choice", tuple(OPTIMIZERS))), MEANINGS["optimizer.name"])]
    keys = list(dict.fromkeys(k for n in OPTIMIZERS for k in hyperparameters(n)))
    for key in keys:
        defaults = {n: hyperparameters(n)[key] for n in OPTIMIZERS if key in hyperparameters(n)}
        bounds = HYPER_BOUNDS[key]
        allowed = "true, false" if bounds is None else describe_check(("range", *bounds))
        rows.append((f"optimizer.{key}", _per_name(defaults), allowed,
                     MEANINGS[f"optimizer.{key}"]))
    rows.append(("optimizer.schedule", "constant", describe_check(("choice", tuple(SCHEDULES))),
                 MEANINGS["optimizer.schedule"]))
    keys = list(dict.fromkeys(k for spec in SCHEDULE_SETTINGS.values() for k in spec))
    for key in keys:
        specs = {n: spec[key] for n, spec in SCHEDULE_SETTINGS.items() if key in spec}
        low, high = next(iter(specs.values()))[1:]
        allowed = describe_check(("range", low, high, True, True))
        rows.append((f"optimizer.schedule.{key}", _per_name({n: s[0] for n, s in specs.items()}),
                     allowed, MEANINGS[f"optimizer.schedule.{key}"]))
    return rows


def _per_name(defaults: dict[str, Any]) -> str:
    """``0.9`` when all agree, else ``1e-08 (adam, adamw), 1e-07 (adam_book)``."""
    groups: dict[str, list[str]] = {}
    for name, value in defaults.items():
        groups.setdefault(_show(value), []).append(name)
    if len(groups) == 1 and len(defaults) == len(OPTIMIZERS):
        return next(iter(groups))
    return ", ".join(f"{v} ({', '.join(names)})" for v, names in groups.items())


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(map(str, value)) + "]"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


if __name__ == "__main__":
    print(reference_markdown(), end="")
