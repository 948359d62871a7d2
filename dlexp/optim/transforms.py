"""Gradient transformations: the small pieces every optimiser is a chain of (as in optax).

A :class:`GradientTransformation` is a pair of pure-looking functions over dicts of arrays:

    state = t.init(params)
    updates, state = t.update(grads, state, params)     # use the *returned* state
    apply_updates(params, updates)                      # params[k] += updates[k]

``update`` never writes into ``grads`` or ``params``. Each state is a NamedTuple; a step
count in it is a new int each step. For speed, a transform writes its output into an
array it keeps in its state (``out``) and updates its moment arrays in place, so the
``updates`` it returns are valid until its next call. ``mask`` arguments name the keys a
transform touches (``None`` = all keys); the others pass through unchanged.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping, NamedTuple, Union

import numpy as np

Params = Mapping[str, np.ndarray]
Schedule = Callable[[int], float]
ScalarOrSchedule = Union[float, Schedule]


class GradientTransformation(NamedTuple):
    """``init(params) → state``;  ``update(grads, state, params) → (updates, new_state)``."""

    init: Callable[[Params], Any]
    update: Callable[[Params, Any, Params], tuple[dict, Any]]


def apply_updates(params: Params, updates: Params) -> None:
    """params[k] += updates[k], in place (the model's parameters are views into its
    flat array, so they are updated where they live)."""
    for k, u in updates.items():
        params[k] += u


class ChainState(NamedTuple):
    inner: tuple                 # one state per transform


def chain(*transforms: GradientTransformation) -> GradientTransformation:
    """Apply ``transforms`` one after the other, each on the previous one's updates."""

    def init(params):
        return ChainState(tuple(t.init(params) for t in transforms))

    def update(updates, state, params):
        new = []
        for t, s in zip(transforms, state.inner):
            updates, s = t.update(updates, s, params)
            new.append(s)
        return updates, ChainState(tuple(new))

    return GradientTransformation(init, update)


def _empty(params: Params) -> dict[str, np.ndarray]:
    return {k: np.empty_like(v) for k, v in params.items()}


def _zeros(params: Params) -> dict[str, np.ndarray]:
    return {k: np.zeros_like(v) for k, v in params.items()}


class OutState(NamedTuple):
    out: dict                    # this transform's updates, rewritten each step


def _penalty(fn: Callable[[np.ndarray, np.ndarray, np.ndarray], None], coefficient: float,
             mask: Mapping[str, bool] | None) -> GradientTransformation:
    """u ← g + term(p) on ``mask``'s keys (none when the coefficient is 0);
    ``fn(p, g, out)`` writes g + term(p) into out."""

    def init(params):
        return OutState({k: np.empty_like(v) for k, v in params.items()
                         if coefficient and (mask is None or mask.get(k, False))})

    def update(grads, state, params):
        updates = dict(grads)
        for k, out in state.out.items():
            fn(params[k], grads[k], out)
            updates[k] = out
        return updates, state

    return GradientTransformation(init, update)


def add_decayed_weights(weight_decay: float, mask: Mapping[str, bool] | None = None
                        ) -> GradientTransformation:
    """u ← g + λ p: the gradient of ½λ‖p‖² (L2) before the optimiser, or decoupled
    weight decay (AdamW) when placed after it."""

    def add(p, g, out):
        np.multiply(p, weight_decay, out=out)
        out += g

    return _penalty(add, weight_decay, mask)


def add_l1_subgradient(l1: float, mask: Mapping[str, bool] | None = None
                       ) -> GradientTransformation:
    """u ← g + λ sign(p): a subgradient of λ‖p‖₁ (L1)."""

    def add(p, g, out):
        np.sign(p, out=out)
        out *= l1
        out += g

    return _penalty(add, l1, mask)


class TraceState(NamedTuple):
    trace: dict                  # b, the momentum buffer
    out: dict


def trace(momentum: float, nesterov: bool = False) -> GradientTransformation:
    """b ← μ b + g (b₀ = 0);  u ← b,  or with ``nesterov`` u ← g + μ b.

    PyTorch's form (dampening 0). With v = −η b (η constant) it is the book's Momentum
    (v ← μv − ηg; p ← p + v) and, with ``nesterov``, exactly the book's Nesterov, which
    moves p with the old v, then updates v (p ← p + μ²v − (1+μ)ηg; v ← μv − ηg):
    g + μ b_new = (1 + μ) g + μ² b_old.
    """

    def update(grads, state, params):
        updates = {}
        for k, g in grads.items():
            b, u = state.trace[k], state.out[k]
            b *= momentum
            b += g
            if nesterov:
                np.multiply(b, momentum, out=u)
                u += g
            else:
                np.copyto(u, b)
            updates[k] = u
        return updates, state

    return GradientTransformation(lambda p: TraceState(_zeros(p), _empty(p)), update)


class SumState(NamedTuple):
    h: dict                      # accumulated squared gradients
    out: dict


def scale_by_rss(eps: float = 1e-10, initial_accumulator: float = 0.0) -> GradientTransformation:
    """AdaGrad: h ← h + g²,  u ← g / (√h + ε)."""

    def init(params):
        return SumState({k: np.full_like(v, initial_accumulator) for k, v in params.items()},
                        _empty(params))

    def update(grads, state, params):
        for k, g in grads.items():
            h, u = state.h[k], state.out[k]
            np.multiply(g, g, out=u)
            h += u
            np.sqrt(h, out=u)
            u += eps
            np.divide(g, u, out=u)
        return dict(state.out), state

    return GradientTransformation(init, update)


def scale_by_rms(alpha: float = 0.99, eps: float = 1e-8) -> GradientTransformation:
    """RMSProp: h ← α h + (1 − α) g²,  u ← g / (√h + ε)."""

    def update(grads, state, params):
        for k, g in grads.items():
            h, u = state.h[k], state.out[k]
            np.multiply(g, g, out=u)
            u *= 1.0 - alpha
            h *= alpha
            h += u
            np.sqrt(h, out=u)
            u += eps
            np.divide(g, u, out=u)
        return dict(state.out), state

    return GradientTransformation(lambda p: SumState(_zeros(p), _empty(p)), update)


class AdamState(NamedTuple):
    count: int                   # t, updates made so far
    m: dict                      # first moment
    v: dict                      # second moment
    out: dict


def scale_by_adam(beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                  eps_before_bias_correction: bool = False, bias_correction: bool = True
                  ) -> GradientTransformation:
    """Adam: m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,  t ← t + 1, then

        u ← m̂ / (√v̂ + ε),  m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ)      (PyTorch, the paper)
        u ← √(1−β₂ᵗ)/(1−β₁ᵗ) · m / (√v + ε)    eps_before_bias_correction (the book)
        u ← m / (√v + ε)                        bias_correction=False (raw moments)

    All three are u = c · m / (√v + ε r): c = √(1−β₂ᵗ)/(1−β₁ᵗ) and r = √(1−β₂ᵗ) (the
    paper), r = 1 (the book); c = r = 1 without bias correction.
    """

    def update(grads, state, params):
        t = state.count + 1
        c = r = 1.0
        if bias_correction:
            c = math.sqrt(1.0 - beta2 ** t) / (1.0 - beta1 ** t)
            r = 1.0 if eps_before_bias_correction else math.sqrt(1.0 - beta2 ** t)
        for k, g in grads.items():
            m, v, u = state.m[k], state.v[k], state.out[k]
            m *= beta1
            m += np.multiply(g, 1.0 - beta1, out=u)
            np.multiply(g, g, out=u)
            u *= 1.0 - beta2
            v *= beta2
            v += u
            np.sqrt(v, out=u)
            u += eps * r
            np.divide(m, u, out=u)
            u *= c
        return dict(state.out), state._replace(count=t)

    return GradientTransformation(lambda p: AdamState(0, _zeros(p), _zeros(p), _empty(p)),
                                  update)


class ScheduleState(NamedTuple):
    count: int                   # t, updates made so far
    out: dict


def scale_by_learning_rate(learning_rate: ScalarOrSchedule) -> GradientTransformation:
    """u ← −η(t) g, with t the number of updates made so far (0 for the first)."""
    schedule = learning_rate if callable(learning_rate) else (lambda t: learning_rate)

    def update(grads, state, params):
        c = -schedule(state.count)
        for k, g in grads.items():
            np.multiply(g, c, out=state.out[k])
        return dict(state.out), state._replace(count=state.count + 1)

    return GradientTransformation(lambda p: ScheduleState(0, _empty(p)), update)
