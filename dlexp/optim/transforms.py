"""Gradient transformations: the small pieces every optimiser is a chain of (as in optax).

    state = t.init(params)
    updates, state = t.update(grads, state, params)     # go on with the *returned* state
    apply_updates(params, updates)                      # params[k] += updates[k]

``update`` never writes into ``grads`` or ``params``; states are NamedTuples. For speed a
transform writes its output into an array of its state (``out``, valid until its next
call) and its moments in place. ``mask``: the keys a transform touches (None: all).
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
    """params[k] += updates[k], in place (where the model's parameters live)."""
    for k, u in updates.items():
        params[k] += u


def chain(*transforms: GradientTransformation) -> GradientTransformation:
    """Apply ``transforms`` one after the other, each on the previous one's updates; the
    state is the tuple of their states, each replaced by the one its update returns."""

    def update(updates, state, params):
        new = []
        for t, s in zip(transforms, state):
            updates, s = t.update(updates, s, params)
            new.append(s)
        return updates, tuple(new)

    return GradientTransformation(lambda p: tuple(t.init(p) for t in transforms), update)


def _empty(params: Params) -> dict[str, np.ndarray]:
    return {k: np.empty_like(v) for k, v in params.items()}


def _zeros(params: Params) -> dict[str, np.ndarray]:
    return {k: np.zeros_like(v) for k, v in params.items()}


class OutState(NamedTuple):
    out: dict                    # this transform's updates, rewritten each step


def add_decayed_weights(weight_decay: float, mask: Mapping[str, bool] | None = None,
                        l1: float = 0.0) -> GradientTransformation:
    """u ← g + λ p + λ₁ sign(p) on ``mask``'s keys: the gradients of ½λ‖p‖² (L2) and of
    λ₁‖p‖₁ (L1, a subgradient) before the optimiser; after it (AdamW) decoupled decay."""

    def init(params):
        return OutState({k: np.empty_like(v) for k, v in params.items()
                         if (weight_decay or l1) and (mask is None or mask.get(k, False))})

    def update(grads, state, params):
        updates = dict(grads)
        for k, u in state.out.items():
            np.multiply(params[k], weight_decay, out=u)            # λ p
            if l1:
                u += l1 * np.sign(params[k])                        # λ₁ sign(p)
            u += grads[k]
            updates[k] = u
        return updates, state

    return GradientTransformation(init, update)


class MomentState(NamedTuple):
    moment: dict                 # b (momentum) or h (squared gradients)
    out: dict


def trace(momentum: float, nesterov: bool = False) -> GradientTransformation:
    """b ← μ b + g (b₀ = 0);  u ← b,  or with ``nesterov`` u ← g + μ b.

    PyTorch's form (dampening 0). With v = −η b (η constant) it is the book's Momentum
    (v ← μv − ηg; p ← p + v) and, with ``nesterov``, exactly the book's Nesterov, which
    moves p with the old v, then updates v (p ← p + μ²v − (1+μ)ηg; v ← μv − ηg):
    g + μ b_new = (1 + μ) g + μ² b_old.
    """

    def update(grads, state, params):
        for k, g in grads.items():
            b, u = state.moment[k], state.out[k]
            b *= momentum
            b += g
            if nesterov:
                np.multiply(b, momentum, out=u)
                u += g
            else:
                np.copyto(u, b)
        return dict(state.out), state

    return GradientTransformation(lambda p: MomentState(_zeros(p), _empty(p)), update)


def scale_by_second_moment(decay: float, weight: float, eps: float) -> GradientTransformation:
    """h ← decay · h + weight · g² (h₀ = 0),  u ← g / (√h + ε).

    AdaGrad is decay = weight = 1, RMSProp decay = α, weight = 1 − α."""

    def update(grads, state, params):
        for k, g in grads.items():
            h, u = state.moment[k], state.out[k]
            np.multiply(g, g, out=u)
            if weight != 1.0:
                u *= weight
            if decay != 1.0:
                h *= decay
            h += u
            np.sqrt(h, out=u)
            u += eps
            np.divide(g, u, out=u)
        return dict(state.out), state

    return GradientTransformation(lambda p: MomentState(_zeros(p), _empty(p)), update)


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
    """u ← −η(t) g, t the number of updates made so far (0 for the first)."""
    schedule = learning_rate if callable(learning_rate) else (lambda t: learning_rate)

    def update(grads, state, params):
        c = -schedule(state.count)
        for k, g in grads.items():
            np.multiply(g, c, out=state.out[k])
        return dict(state.out), state._replace(count=state.count + 1)

    return GradientTransformation(lambda p: ScheduleState(0, _empty(p)), update)
