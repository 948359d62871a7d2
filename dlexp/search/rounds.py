"""Rounds: the book's "repeat while narrowing the range", automated.

``--trials`` is split evenly over K rounds. After round r each range shrinks to the span
of the best trials *so far* — the top fraction F of the complete trials of rounds 1 … r,
at least two, by validation accuracy — kept inside round r's range:

    log_uniform, uniform, int:  [low, high] ← [max(low, min x), min(high, max x)]
    choice:                     choices ← those of round r's choices the top trials used

Ranking every round, not only round r, keeps the best trial so far in every later range;
ranges never widen, and one the top trials collapse to a point keeps its bounds. Each
round's space is stored on its study, so every worker and a resumed search agree.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import optuna

from dlexp.config import parse_search_space
from dlexp.config_space import Param, SearchSpace
from dlexp.errors import RunError
from dlexp.fmt import rank_key
from dlexp.search.study import round_name, round_studies, trial_row


def quotas(total: int, rounds: int) -> tuple[int, ...]:
    """How many counted trials each round gets: ``total`` split as evenly as possible."""
    return tuple(total // rounds + (1 if r < total % rounds else 0) for r in range(rounds))


def narrow(space: SearchSpace, rows: list[dict], keep: float) -> SearchSpace:
    """``space`` cut to the span of the top ``keep`` fraction of the complete ``rows``
    (every finished trial so far)."""
    complete = [r for r in rows if r["state"] == "complete" and r["val_acc"] is not None]
    if len(complete) < 2:
        return space
    top = sorted(complete, key=rank_key)[:max(2, math.ceil(keep * len(complete)))]
    return SearchSpace(tuple(_narrow_param(p, [r["params"][p.key] for r in top
                                               if p.key in r["params"]])
                             for p in space.params))


def _narrow_param(p: Param, values: list[Any]) -> Param:
    if not values:
        return p
    if p.distribution == "choice":
        kept = tuple(c for c in p.choices if c in values)
        return dataclasses.replace(p, choices=kept) if kept else p
    low, high = max(p.low, min(values)), min(p.high, max(values))
    return dataclasses.replace(p, low=low, high=high) if low < high else p


def open_round(storage: optuna.storages.BaseStorage, name: str, base: dict, keep: float,
               round_: int) -> tuple[optuna.Study, SearchSpace]:
    """Create or join round ``round_``'s study (maximising validation accuracy) and its
    space: a new round r > 1 narrows round r − 1. Joining a study started for another
    config is a RunError."""
    study_name = round_name(name, round_)
    study = optuna.create_study(storage=storage, study_name=study_name, direction="maximize",
                                load_if_exists=True, sampler=optuna.samplers.RandomSampler())
    meta = study.user_attrs.get("dlexp")
    if meta is None:
        if round_ == 1:
            space = parse_search_space(base["search"], "config")
        else:
            done = round_studies(storage, name, round_ - 1)
            if len(done) < round_ - 1 or "dlexp" not in done[-1].user_attrs:
                raise RunError(f"study {name!r}: round {round_ - 1} was never started; "
                               "resume the search from its first round")
            rows = [trial_row(t, r) for r, s in enumerate(done, start=1)
                    for t in s.get_trials(deepcopy=False)]
            last = parse_search_space(done[-1].user_attrs["dlexp"]["space"],
                                      f"study {done[-1].study_name!r}")
            space = narrow(last, [r for r in rows if r["counted"]], keep)
        meta = {"round": round_, "config": base, "space": space.to_dict(), "keep": keep}
        study.set_user_attr("dlexp", meta)
    elif json.dumps(meta.get("config"), sort_keys=True) != json.dumps(base, sort_keys=True):
        raise RunError(f"study {study_name!r} was started with a different config; join it "
                       "with the same config, or choose another --study name")
    return study, parse_search_space(meta["space"], f"study {study_name!r}")
