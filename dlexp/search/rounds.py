"""Rounds of a search: the book's "repeat while narrowing the range", automated.

The budget of ``--trials`` is split evenly over K rounds (the first rounds take the
remainder). After round r, each range shrinks to the span of the best trials *so far*
— the top fraction F of the complete trials of rounds 1 … r together, at least two,
ranked by validation accuracy — kept inside round r's range:

    log_uniform, uniform, int:  [low, high] ← [max(low, min x), min(high, max x)]
                                              over the top trials' values x
    choice:                     choices ← those of round r's choices the top trials used

Ranking every finished trial, not only round r's, keeps the best trial so far inside
every later range: it is among the top trials, and (by induction) inside round r's
range, so inside both bounds. The ranges never widen. A range the top trials collapse
to one value, or fewer than two complete trials so far, keeps its previous bounds.
Each round's space is stored on its study, so every worker on every machine searches
the same ranges, and a resumed search too.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import optuna

from dlexp.config import parse_search_space
from dlexp.config_space import Param, SearchSpace, used_params
from dlexp.errors import RunError
from dlexp.fmt import rank_key
from dlexp.search.study import finished_rows, open_study, round_studies, round_study_name


def quotas(total: int, rounds: int) -> tuple[int, ...]:
    """How many counted trials each round gets: ``total`` split as evenly as possible."""
    return tuple(total // rounds + (1 if r < total % rounds else 0) for r in range(rounds))


def narrow(space: SearchSpace, rows: list[dict], keep: float) -> SearchSpace:
    """``space`` cut to the span of the top ``keep`` fraction of the complete ``rows`` —
    every finished trial so far (see the module docstring)."""
    complete = [r for r in rows if r["state"] == "complete" and r["val_acc"] is not None]
    if len(complete) < 2:
        return space
    n_top = max(2, math.ceil(keep * len(complete)))
    top = sorted(complete, key=rank_key)[:n_top]
    used = [used_params(r["params"]) for r in top]      # momentum only where it counted
    return SearchSpace(tuple(_narrow_param(p, [u[p.key] for u in used if p.key in u])
                             for p in space.params))


def _narrow_param(p: Param, values: list[Any]) -> Param:
    if not values:
        return p
    if p.distribution == "choice":
        kept = tuple(c for c in p.choices if c in values)
        return dataclasses.replace(p, choices=kept) if kept else p
    low, high = max(p.low, min(values)), min(p.high, max(values))
    if not low < high:
        return p
    return dataclasses.replace(p, low=low, high=high)


def open_round(storage: optuna.storages.BaseStorage, name: str, base: dict, keep: float,
               round_: int, sampler: optuna.samplers.BaseSampler | None = None,
               pruner: optuna.pruners.BasePruner | None = None
               ) -> tuple[optuna.Study, SearchSpace]:
    """Create or join round ``round_``'s study; its search space (stored on the study).

    A new round r > 1 narrows round r − 1, which must have finished. Joining a study
    that was started for another config is a RunError.
    """
    study_name = round_study_name(name, round_)
    study = open_study(storage, study_name, sampler, pruner)
    meta = study.user_attrs.get("dlexp")
    if meta is None:
        space = _new_space(storage, name, base, keep, round_)
        meta = {"round": round_, "config": base, "space": space.to_dict(), "keep": keep}
        study.set_user_attr("dlexp", meta)
    elif _canonical(meta.get("config")) != _canonical(base):
        raise RunError(f"study {study_name!r} was started with a different config; join it "
                       "with the same config, or choose another --study name")
    return study, parse_search_space(meta["space"], f"study {study_name!r}")


def stored_space(study: optuna.Study) -> SearchSpace | None:
    """The search space stored on a round's study (None if it was never set)."""
    meta = study.user_attrs.get("dlexp")
    return parse_search_space(meta["space"], study.study_name) if meta else None


def _new_space(storage: optuna.storages.BaseStorage, name: str, base: dict, keep: float,
               round_: int) -> SearchSpace:
    if round_ == 1:
        return parse_search_space(base["search"], "config")
    done = round_studies(storage, name, round_ - 1)
    space = stored_space(done[-1]) if len(done) == round_ - 1 else None
    if space is None:
        raise RunError(f"study {name!r}: round {round_ - 1} was never started; "
                       "resume the search from its first round")
    return narrow(space, finished_rows(done), keep)


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True)
