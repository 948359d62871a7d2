"""Gradient transformations: the small pieces every optimiser is a chain of.

A :class:`GradientTransformation` is an ``(init, update)`` pair over a dict of arrays:

    state = t.init(params)
    updates, state = t.update(grads, state, params)
    apply_updates(params, updates)          # params[k] += updates[k]

For speed, ``update`` works in place: it overwrites the arrays of ``updates`` (pass
copies if you need the gradients afterwards) and the arrays held in ``state``. ``mask``
arguments name the keys a transform touches (``None`` = all keys).
"""

from __future__ import annotations

import math
from typing import Callable, Mapping, NamedTuple, Union

import numpy as np

Params = Mapping[str, np.ndarray]
Schedule = Callable[[int], float]
ScalarOrSchedule = Union[float, Schedule]


class GradientTransformation(NamedTuple):
    """``init(params) → state``; ``update(updates, state, params) → (updates, state)``.

    ``scale`` is set on a transform that only multiplies by a number, u ← c·u, with c
    depending on the state alone: ``scale(state)`` returns c and advances the state as
    ``update`` would. A caller that can produce c·g itself may call it instead of
    ``update`` — the training loop does: backpropagation is linear in the loss
    gradient, so backpropagating c·∂L/∂z gives c·g without a pass over the gradients.
    """

    init: Callable[[Params], object]
    update: Callable[[dict, object, Params], tuple]
    scale: Callable[[object], float] | None = None


def apply_updates(params: Params, updates: Params) -> None:
    """params[k] += updates[k], in place."""
    for k, u in updates.items():
        params[k] += u


def chain(*transforms: GradientTransformation) -> GradientTransformation:
    """Apply ``transforms`` one after the other."""

    def init(params):
        return tuple(t.init(params) for t in transforms)

    def update(updates, state, params):
        for t, s in zip(transforms, state):
            updates, _ = t.update(updates, s, params)
        return updates, state

    return GradientTransformation(init, update)


def _keys(params: Params, mask: Mapping[str, bool] | None) -> list[str]:
    return [k for k in params if mask is None or mask.get(k, False)]


def _zeros_like(params: Params) -> dict[str, np.ndarray]:
    return {k: np.zeros_like(v) for k, v in params.items()}


def _scratch_for(mask: Mapping[str, bool] | None, coefficient: float
                 ) -> Callable[[Params], dict]:
    """``init`` of a penalty transform: one scratch array per masked key (none when the
    coefficient is 0), so ``update`` allocates nothing; ``update`` accepts ``state=None``."""
    return lambda params: {k: np.empty_like(params[k]) for k in _keys(params, mask)
                           if coefficient}


def _scratch(state: dict | None, key: str) -> np.ndarray | None:
    return state.get(key) if state else None


def add_decayed_weights(weight_decay: float, mask: Mapping[str, bool] | None = None
                        ) -> GradientTransformation:
    """u ← u + λ p: the gradient of ½λ‖p‖² (L2) before the optimiser, or decoupled
    weight decay (AdamW) when placed after it."""

    def update(updates, state, params):
        if weight_decay:
            for k in _keys(updates, mask):
                updates[k] += np.multiply(params[k], weight_decay, out=_scratch(state, k))
        return updates, state

    return GradientTransformation(_scratch_for(mask, weight_decay), update)


def add_l1_subgradient(l1: float, mask: Mapping[str, bool] | None = None
                       ) -> GradientTransformation:
    """u ← u + λ sign(p): a subgradient of λ‖p‖₁ (L1)."""

    def update(updates, state, params):
        if l1:
            for k in _keys(updates, mask):
                step = np.sign(params[k], out=_scratch(state, k))
                step *= l1
                updates[k] += step
        return updates, state

    return GradientTransformation(_scratch_for(mask, l1), update)


def trace(momentum: float, nesterov: bool = False) -> GradientTransformation:
    """Momentum buffer b ← μ b + u (b₀ = 0); u ← b, or u ← u + μ b with Nesterov.

    This is PyTorch's form (dampening 0): with a constant learning rate it is the
    book's v ← μ v − η g, p ← p + v, since v = −η b.
    """

    def update(updates, state, params):
        for k, u in updates.items():
            b = state[k]
            b *= momentum
            b += u
            if nesterov:
                u += momentum * b
            else:
                u[...] = b
        return updates, state

    return GradientTransformation(_zeros_like, update)


def trace_book_nesterov(momentum: float) -> GradientTransformation:
    """The book's Nesterov rule: b ← μ b + u, u ← μ² b + (1 + μ) u.

    With v = −η b this is the book's ``v ← μv − ηg; p ← p + μ²v − (1+μ)ηg``. PyTorch's
    Nesterov is u ← u + μ b: the book weights the momentum term by μ² instead of μ and
    the gradient by 1 + μ instead of 1.
    """

    def update(updates, state, params):
        for k, u in updates.items():
            b = state[k]
            b *= momentum
            b += u
            u *= 1.0 + momentum
            u += (momentum * momentum) * b
        return updates, state

    return GradientTransformation(_zeros_like, update)


def scale_by_rss(eps: float = 1e-10, initial_accumulator: float = 0.0) -> GradientTransformation:
    """AdaGrad: h ← h + u²,  u ← u / (sqrt(h) + ε)."""

    def init(params):
        return {k: np.full_like(v, initial_accumulator) for k, v in params.items()}

    def update(updates, state, params):
        for k, u in updates.items():
            h = state[k]
            h += u * u
            u /= np.sqrt(h) + eps
        return updates, state

    return GradientTransformation(init, update)


def scale_by_rms(alpha: float = 0.99, eps: float = 1e-8) -> GradientTransformation:
    """RMSProp: h ← α h + (1 − α) u²,  u ← u / (sqrt(h) + ε)."""

    def update(updates, state, params):
        for k, u in updates.items():
            h = state[k]
            h *= alpha
            h += (1.0 - alpha) * (u * u)
            u /= np.sqrt(h) + eps
        return updates, state

    return GradientTransformation(_zeros_like, update)


def scale_by_adam(beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                  eps_before_bias_correction: bool = False) -> GradientTransformation:
    """Adam: m ← β₁m + (1−β₁)u,  v ← β₂v + (1−β₂)u²,  t ← t + 1,
    u ← (m / (1−β₁ᵗ)) / (sqrt(v / (1−β₂ᵗ)) + ε)                      (PyTorch, the paper)
    u ← (m / (1−β₁ᵗ)) · sqrt(1−β₂ᵗ) / (sqrt(v) + ε)    if eps_before_bias_correction (the book)

    The book's form equals the standard one with ε replaced by ε / sqrt(1 − β₂ᵗ).

    For speed the state holds the rescaled moments M = m / (1−β₁) and V = v / (1−β₂),
    updated as M ← β₁M + u and V ← β₂V + u² (9 passes per step instead of 12). Both rules
    then read  u ← c · M / (sqrt(V) + ε r)  with
        standard:  r = sqrt((1−β₂ᵗ) / (1−β₂)),   c = (1−β₁) r / (1−β₁ᵗ)
        book:      r = 1 / sqrt(1−β₂),           c = (1−β₁) r sqrt(1−β₂ᵗ) / (1−β₁ᵗ)
    """

    def init(params):
        return {"t": [0], "m": _zeros_like(params), "v": _zeros_like(params),
                "tmp": _zeros_like(params)}

    def update(updates, state, params):
        state["t"][0] += 1
        t = state["t"][0]
        bc1, bc2 = 1.0 - beta1 ** t, 1.0 - beta2 ** t
        if eps_before_bias_correction:
            r = 1.0 / math.sqrt(1.0 - beta2)
            c = (1.0 - beta1) * r * math.sqrt(bc2) / bc1
        else:
            r = math.sqrt(bc2 / (1.0 - beta2))
            c = (1.0 - beta1) * r / bc1
        eps_r = eps * r
        for k, u in updates.items():
            M, V, s = state["m"][k], state["v"][k], state["tmp"][k]
            M *= beta1
            M += u                                   # M = m / (1 − β₁)
            np.multiply(u, u, out=s)
            V *= beta2
            V += s                                   # V = v / (1 − β₂)
            np.sqrt(V, out=s)
            s += eps_r
            np.divide(M, s, out=u)
            u *= c
        return updates, state

    return GradientTransformation(init, update)


def scale_by_learning_rate(learning_rate: ScalarOrSchedule) -> GradientTransformation:
    """u ← −η(t) u, with t the number of updates made so far (0 for the first)."""
    schedule = learning_rate if callable(learning_rate) else (lambda t: learning_rate)

    def scale(state):
        lr = schedule(state[0])
        state[0] += 1
        return -lr

    def update(updates, state, params):
        c = scale(state)
        for u in updates.values():
            u *= c
        return updates, state

    return GradientTransformation(lambda p: [0], update, scale)
