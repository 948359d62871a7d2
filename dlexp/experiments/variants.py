"""Variants of a base config: what one comparison runs, and how each config is made.

A :class:`Variant` is ``(label, overrides, seed)``. :func:`grid` builds the Cartesian
product of ``{dotted key: [values]}`` × seeds, :func:`parse_vary` reads
``--vary key=v1,v2`` options into that mapping, and :func:`variant_config` turns the base
config plus one variant into a validated :class:`~dlexp.config.Config` (the rules are in
:mod:`dlexp.experiments.compare`).
"""

from __future__ import annotations

import copy
import itertools
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import yaml

from dlexp.config import Config, config_from_dict, config_to_dict
from dlexp.config_checks import RUN_NAME
from dlexp.errors import ConfigError
from dlexp.optim.optimizers import OPTIMIZERS, hyperparameters


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


def grid(vary: Mapping[str, Sequence[Any]], seeds: Sequence[int] | None = None,
         label: Callable[[dict], str] | None = None) -> list[Variant]:
    """Every combination of ``vary``'s values (first key slowest) times every seed.

    The default label is the value alone for one key (``sgd``; a list ``[50, 50]`` as
    ``50x50``; ``lr=-1`` where the value alone cannot start a folder name), else
    ``key=value`` parts joined by ``_`` with the last part of each key
    (``init_std=0.01_batchnorm=true``). ``{}`` gives one variant, ``base``.
    """
    keys = list(vary)
    for key in keys:
        if len(vary[key]) == 0:
            raise ConfigError(f"--vary {key}: no values; give one or more, e.g. {key}=a,b")
    variants = []
    for combo in itertools.product(*(vary[k] for k in keys)):
        overrides = dict(zip(keys, combo))
        name = label(overrides) if label else default_label(overrides)
        for seed in (seeds if seeds else [None]):
            variants.append(Variant(name, overrides, seed))
    return variants


def default_label(overrides: Mapping[str, Any]) -> str:
    if not overrides:
        return "base"
    short = [k.rsplit(".", 1)[-1] for k in overrides]
    if len(overrides) == 1:
        text = _label_text(next(iter(overrides.values())))
        return text if re.fullmatch(RUN_NAME[1], text) else f"{short[0]}={text}"
    names = [s if short.count(s) == 1 else k for s, k in zip(short, overrides)]
    return "_".join(f"{n}={_label_text(v)}" for n, v in zip(names, overrides.values()))


def value_text(value: Any) -> str:
    """A value as written in YAML (``true``, ``0.01``, ``[100, 100]``)."""
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


def _label_text(value: Any) -> str:
    """A value as a folder-name part: lists as ``100x100``, other odd characters as ``-``."""
    if isinstance(value, (list, tuple)):
        return "x".join(_label_text(v) for v in value) or "empty"
    text = value_text(value)
    return "".join(c if c.isascii() and (c.isalnum() or c in "_.,+=@-") else "-"
                   for c in text) or "empty"


def parse_vary(items: Sequence[str]) -> dict[str, list[Any]]:
    """``["optimizer.name=sgd,adam", "model.hidden=[50,50],[100]"]`` → ``{key: [values]}``.

    Values are read as YAML (``0.01`` a number, ``true`` a flag, ``[50, 50]`` a list);
    commas inside brackets do not split.
    """
    out: dict[str, list[Any]] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key or any(not p for p in key.split(".")):
            raise ConfigError(f"--vary {item!r}: expected KEY=V1,V2,… with a dotted key, "
                              "e.g. --vary optimizer.name=sgd,adam")
        if key in out:
            raise ConfigError(f"--vary {key}: given twice; list all its values in one --vary")
        parts = _split_top_level(text)
        if any(not p.strip() for p in parts):
            raise ConfigError(f"--vary {item!r}: an empty value in the list; give "
                              f"comma-separated values, e.g. {key}=a,b")
        try:
            out[key] = [yaml.safe_load(p) for p in parts]
        except yaml.YAMLError:
            raise ConfigError(f"--vary {item!r}: a value is not valid YAML; quote or fix it"
                              ) from None
    return out


def _split_top_level(text: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for c in text:
        depth += (c in "[{") - (c in "]}")
        if c == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += c
    return parts + [cur]


def variant_config(base: Mapping | Config, variant: Variant) -> Config:
    """The validated config of one variant (see the module docstring for the rules)."""
    raw = copy.deepcopy(dict(config_to_dict(base) if isinstance(base, Config) else base))
    where = f"variant {variant.run_name}"
    for key, value in variant.overrides.items():
        _set_dotted(raw, key, value, where)
    new_name = variant.overrides.get("optimizer.name")
    if isinstance(new_name, str) and isinstance(raw.get("optimizer"), dict):
        opt = raw["optimizer"]
        keep = set(hyperparameters(new_name)) if new_name in OPTIMIZERS else set(opt)
        keep |= {"name", "schedule"} | {k.split(".", 1)[1] for k in variant.overrides
                                        if k.startswith("optimizer.")}
        for key in [k for k in opt if k not in keep]:
            del opt[key]
    raw["name"] = variant.run_name
    if variant.seed is not None:
        raw["seed"] = variant.seed
    return config_from_dict(raw, where)


def _set_dotted(raw: dict, key: str, value: Any, where: str) -> None:
    node, parts = raw, key.split(".")
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise ConfigError(f"{where}: {key}: {part!r} is a value, not a section")
        node = child
    node[parts[-1]] = value


def seeds_for(base: Mapping | Config, n: int) -> list[int] | None:
    """``n`` consecutive seeds from the base config's (None for one: keep the base seed).

    Reads ``base`` through the config checks, so a bad base fails here, before any run.
    """
    if n < 1:
        raise ConfigError(f"--seeds {n}: must be at least 1")
    cfg = base if isinstance(base, Config) else config_from_dict(base, "base config")
    return [cfg.seed + k for k in range(n)] if n > 1 else None
