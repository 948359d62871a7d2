"""The random sampler of a search (``--sampler random``, the book's): each value is drawn
by our own ``np.random.Generator`` seeded from (seed, round, draw index, key), so

    draw(seed, round, index, key) is the same in any process, on any machine, in any order

— N workers draw what one worker would, and a resumed search (whose trials carry on
numbering) repeats none. The draw index of a trial is its number less the re-runs
numbered before it (trials enqueued with the parameters of a trial cut short, which
draw nothing): a search stopped and resumed draws the same parameters as one that ran
straight through. It is built on Optuna's public ``BaseSampler`` interface only
(independent sampling: each key on its own). With u ~ U[0, 1) from that Generator:

    float                 low + u·(high − low)
    float, log            exp(ln low + u·(ln high − ln low))
    float / int, step s   low + s·k,   k uniform on 0 … ⌊(high − low)/s⌋
    int, log              round(exp(ln(low − ½) + u·(ln(high + ½) − ln(low − ½))))
    categorical           choices[k],  k uniform on 0 … n − 1

(every value then clipped to [low, high] against rounding).
"""

from __future__ import annotations

import math
import zlib
from typing import Any

import numpy as np
import optuna
from optuna.distributions import (BaseDistribution, CategoricalDistribution,
                                  FloatDistribution, IntDistribution)
from optuna.trial import FrozenTrial


RERUN_OF = "failed_trial"   # system attribute of Optuna's retry: the trial cut short


def seed_sequence(*words: int | str) -> np.random.SeedSequence:
    """A SeedSequence mixed from integers and strings (hostnames, keys; CRC-32 of each)."""
    return np.random.SeedSequence([w if isinstance(w, int) else zlib.crc32(w.encode())
                                   for w in words])


class TrialSeededRandomSampler(optuna.samplers.BaseSampler):
    """Uniform draws that depend only on (seed, round, trial number, key); see the module."""

    def __init__(self, seed: int, round_: int) -> None:
        self.seed, self.round = seed, round_
        self._index: dict[int, int] = {}           # trial number → draw index

    def infer_relative_search_space(self, study: optuna.Study, trial: FrozenTrial
                                    ) -> dict[str, BaseDistribution]:
        """Nothing is sampled jointly."""
        return {}

    def sample_relative(self, study: optuna.Study, trial: FrozenTrial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        """Nothing is sampled jointly."""
        return {}

    def sample_independent(self, study: optuna.Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        """The value of ``param_name`` for ``trial``: a pure function of the four words."""
        index = self._index.get(trial.number)
        if index is None:                          # once per trial, not per key
            index = self._index[trial.number] = draw_index(study, trial)
        rng = np.random.default_rng(seed_sequence(self.seed, self.round, index, param_name))
        return draw(rng, param_distribution)


def draw_index(study: optuna.Study, trial: FrozenTrial) -> int:
    """``trial``'s number less the re-runs of trials cut short numbered before it (see
    :mod:`dlexp.search.recovery`)."""
    reruns = sum(t.number < trial.number and RERUN_OF in t.system_attrs
                 for t in study.get_trials(deepcopy=False))
    return trial.number - reruns


def draw(rng: np.random.Generator, d: BaseDistribution) -> Any:
    """One value of distribution ``d`` (formulas in the module docstring)."""
    if isinstance(d, CategoricalDistribution):
        return d.choices[int(rng.integers(len(d.choices)))]
    if not isinstance(d, (FloatDistribution, IntDistribution)):
        raise TypeError(f"{type(d).__name__}: not a distribution this sampler draws from")
    whole = isinstance(d, IntDistribution)
    if d.step is not None and not (whole and d.log):
        k = int(rng.integers(int(math.floor((d.high - d.low) / d.step + 1e-9)) + 1))
        value = d.low + d.step * k
    elif d.log:
        pad = 0.5 if whole else 0.0                 # each whole number gets its share
        lo, hi = math.log(d.low - pad), math.log(d.high + pad)
        value = math.exp(lo + rng.random() * (hi - lo))
    else:
        value = d.low + rng.random() * (d.high - d.low)
    value = min(max(value, d.low), d.high)
    return int(round(value)) if whole else float(value)
