"""Variants of a base config: what one sweep runs, and how each config is made.

A :class:`Variant` is ``(label, overrides, seed)``; its config is the base mapping with
its dotted-key overrides set, validated before anything runs. A *raw* base lets unset
keys default per variant (each optimiser its own lr); settings the new optimiser lacks
are dropped, each with a ``note:`` line.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import yaml

from dlexp.config import Config, apply_overrides, config_from_dict, config_to_dict
from dlexp.config_checks import RUN_NAME
from dlexp.errors import ConfigError
from dlexp.fmt import value_text
from dlexp.optim.optimizers import OPTIMIZERS, optimizer_keys


@dataclass(frozen=True)
class Variant:
    """One sub-run: its group ``label``, the dotted-key ``overrides``, and a seed."""

    label: str
    overrides: Mapping[str, Any] = field(default_factory=dict)
    seed: int | None = None                 # None: the base config's seed

    @property
    def run_name(self) -> str:
        """The sub-run folder: ``label``, or ``label-seed<k>`` with an explicit seed."""
        return self.label if self.seed is None else f"{self.label}-seed{self.seed}"


def seeded(specs: Mapping[str, Mapping[str, Any]], seeds: Sequence[int] | None
           ) -> list[Variant]:
    """Each ``{label: overrides}`` once per seed (``seeds`` None or empty: once, with the
    base config's seed)."""
    return [Variant(label, dict(o), seed) for label, o in specs.items()
            for seed in (seeds or [None])]


def grid(vary: Mapping[str, Sequence[Any]], seeds: Sequence[int] | None = None
         ) -> list[Variant]:
    """Every combination of ``vary``'s values (first key slowest) times every seed.

    The label is the value alone for one key (``sgd``; a list ``[50, 50]`` as ``50x50``;
    ``lr=-1`` where the value cannot start a folder name), else ``key=value`` parts joined
    by ``_`` (``init_std=0.01_batchnorm=true``); ``{}`` gives one variant, ``base``.
    """
    if "seed" in vary and seeds:
        raise ConfigError("--vary seed=… with --seeds N: both would set each run's seed; "
                          "use one of the two (--seeds N runs seeds base, base+1, …)")
    for key, values in vary.items():
        if len(values) == 0:
            raise ConfigError(f"--vary {key}: no values; give one or more, e.g. {key}=a,b")
    combos = [dict(zip(vary, c)) for c in itertools.product(*vary.values())]
    return [v for o in combos for v in seeded({default_label(o): o}, seeds)]


def default_label(overrides: Mapping[str, Any]) -> str:
    """A variant's label from its overrides (the rules are in :func:`grid`)."""
    if not overrides:
        return "base"
    short = [k.rsplit(".", 1)[-1] for k in overrides]
    if len(overrides) == 1:
        text = label_text(next(iter(overrides.values())))
        return text if RUN_NAME.fullmatch(text) else f"{short[0]}={text}"
    names = [s if short.count(s) == 1 else k for s, k in zip(short, overrides)]
    return "_".join(f"{n}={label_text(v)}" for n, v in zip(names, overrides.values()))


def label_text(value: Any) -> str:
    """A value as a folder-name part: lists as ``100x100``, other odd characters as ``-``."""
    if isinstance(value, (list, tuple)):
        return "x".join(label_text(v) for v in value) or "empty"
    return "".join(c if c.isascii() and (c.isalnum() or c in "_.,+=@-") else "-"
                   for c in value_text(value)) or "empty"


def parse_vary(items: Sequence[str]) -> dict[str, list[Any]]:
    """``["optimizer.name=sgd,adam", "model.hidden=[50,50],[100]"]`` → ``{key: [values]}``;
    values are YAML."""
    out: dict[str, list[Any]] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key or any(not p for p in key.split(".")):
            raise ConfigError(f"--vary {item!r}: expected KEY=V1,V2,… with a dotted key, "
                              "e.g. --vary optimizer.name=sgd,adam")
        if key in out:
            raise ConfigError(f"--vary {key}: given twice; list all its values in one --vary")
        values = split_list(text, f"--vary {item!r}", example=f"{key}=a,b")
        try:
            out[key] = [yaml.safe_load(p) for p in values]
        except yaml.YAMLError:
            raise ConfigError(f"--vary {item!r}: a value is not valid YAML; quote or fix it"
                              ) from None
    return out


def split_list(text: str, where: str, example: str = "a,b") -> list[str]:
    """``"sgd,[50,50]"`` → ``["sgd", "[50,50]"]``: the items between the commas outside
    brackets, stripped; a ConfigError starting with ``where`` for an empty (its hint:
    ``example``) or a repeated one."""
    items, depth, cur = [], 0, ""
    for c in text:
        depth += (c in "[{") - (c in "]}")
        if c == "," and depth == 0:
            items, cur = items + [cur.strip()], ""
        else:
            cur += c
    items.append(cur.strip())
    if "" in items:
        raise ConfigError(f"{where}: an empty value in the list; give comma-separated "
                          f"values, e.g. {example}")
    twice = [i for i in items if items.count(i) > 1]
    if twice:
        raise ConfigError(f"{where}: {twice[0]} is given twice; remove one")
    return items


def check_vary_keys(base: Mapping, varied: Mapping[str, Sequence[Any]],
                    option: str | None = None) -> None:
    """ConfigError naming the ``--vary`` option (or ``option``, e.g. ``--dropout``) for a
    key or value the config refuses; skipped when the base config is invalid on its own
    (its error is reported next)."""
    try:
        config_from_dict(base, "base config")
    except ConfigError:
        return
    for key, values in varied.items():
        for value in values:
            variant_config(base, Variant("check", {key: value}),
                           f"{option} {value_text(value)}" if option else
                           f"--vary {key}={value_text(value)}")


def variant_config(base: Mapping | Config, variant: Variant, where: str | None = None
                   ) -> Config:
    """The validated config of one variant; errors start with ``where`` (default: the
    variant's name)."""
    raw = dict(config_to_dict(base) if isinstance(base, Config) else base)
    where = where or f"variant {variant.run_name}"
    items = [f"{key}={value_text(value)}" for key, value in variant.overrides.items()]
    try:
        raw = apply_overrides(raw, items)                   # a deep copy: base is untouched
    except ConfigError as e:
        raise ConfigError(f"{where}: {e}") from None
    new_name = variant.overrides.get("optimizer.name")
    if isinstance(new_name, str) and isinstance(raw.get("optimizer"), dict):
        for key in _dropped(raw["optimizer"], new_name, variant.overrides):
            del raw["optimizer"][key]
    raw["name"] = variant.run_name
    if variant.seed is not None:
        raw["seed"] = variant.seed
    return config_from_dict(raw, where)


def _dropped(optimizer: Mapping[str, Any], new_name: str, overrides: Mapping[str, Any]
             ) -> list[str]:
    """The keys of an ``optimizer:`` mapping that optimiser ``new_name`` does not have
    (``beta1`` for SGD), unless the variant sets them itself."""
    if new_name not in OPTIMIZERS:
        return []                           # config_from_dict names the valid choices
    keep = optimizer_keys(new_name)
    keep |= {k.split(".", 1)[1] for k in overrides if k.startswith("optimizer.")}
    return [k for k in optimizer if k not in keep]


def optimizer_notes(base: Mapping, variants: Sequence[Variant],
                    lr_hint: str = "vary it with --vary optimizer.lr=…") -> list[str]:
    """One ``note:`` line per base optimiser setting that variants changing
    ``optimizer.name`` drop, and one when they all share the base's ``optimizer.lr``."""
    opt = base.get("optimizer") if isinstance(base, Mapping) else None
    named = [v for v in variants if isinstance(v.overrides.get("optimizer.name"), str)]
    if not isinstance(opt, Mapping) or not named:
        return []
    notes = []
    shared = list(dict.fromkeys(v.label for v in named if "optimizer.lr" not in v.overrides))
    if "lr" in opt and shared:
        who = "every variant" if len(shared) == len({v.label for v in variants}) else \
            ", ".join(shared)
        notes.append(f"note: optimizer.lr={value_text(opt['lr'])} from the base config "
                     f"applies to {who}; {lr_hint} or remove it to use each optimizer's "
                     "default")
    dropped: dict[str, dict[str, None]] = {}               # key → optimisers, in order
    for v in named:
        name = v.overrides["optimizer.name"]
        for key in _dropped(opt, name, v.overrides):
            dropped.setdefault(key, {})[name] = None
    for key, names in dropped.items():
        notes.append(f"note: optimizer.{key}={value_text(opt[key])} from the base config is "
                     f"not a setting of {', '.join(names)}; dropped for "
                     f"{'its' if len(names) == 1 else 'their'} variants")
    return notes


def seeds_for(base: Mapping | Config, n: int) -> list[int] | None:
    """``n`` consecutive seeds from the base config's (None for one: keep the base seed);
    a bad base fails here, before any run."""
    cfg = base if isinstance(base, Config) else config_from_dict(base, "base config")
    return [cfg.seed + k for k in range(n)] if n > 1 else None
