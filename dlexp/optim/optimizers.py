"""Named optimisers, each a chain of transforms from :mod:`dlexp.optim.transforms`.

Each function's docstring gives its rule (g gradient, η learning rate, t step; the
README tabulates them). Conventions follow ``torch.optim`` so that results transfer; the
book's Momentum and Nesterov are ``momentum`` and ``nesterov``, its Adam (ε before the
bias correction) is ``adam_book``.

L2 and L1 weight decay (``build_optimizer(l2=…, l1=…)``) add λp and λ·sign(p) to the
gradient *before* the optimiser's own transform; AdamW's decay sits *after* it. That
placement is the only difference between Adam with L2 and AdamW.
"""

from __future__ import annotations

import inspect
from typing import Mapping

from dlexp.optim.transforms import (
    GradientTransformation, ScalarOrSchedule, add_decayed_weights, chain,
    scale_by_adam, scale_by_learning_rate, scale_by_second_moment, trace)


def sgd(lr: ScalarOrSchedule = 0.01) -> GradientTransformation:
    """p ← p − η g."""
    return scale_by_learning_rate(lr)


def momentum(lr: ScalarOrSchedule = 0.01, momentum: float = 0.9) -> GradientTransformation:
    """b ← μ b + g;  p ← p − η b."""
    return chain(trace(momentum), scale_by_learning_rate(lr))


def nesterov(lr: ScalarOrSchedule = 0.01, momentum: float = 0.9) -> GradientTransformation:
    """b ← μ b + g;  p ← p − η (g + μ b): PyTorch's ``nesterov=True`` and the book's
    Nesterov (p ← p + μ²v − (1+μ)ηg, then v ← μv − ηg; see :func:`trace`)."""
    return chain(trace(momentum, nesterov=True), scale_by_learning_rate(lr))


def adagrad(lr: ScalarOrSchedule = 0.01, eps: float = 1e-10) -> GradientTransformation:
    """h ← h + g²;  p ← p − η g / (√h + ε)."""
    return chain(scale_by_second_moment(1.0, 1.0, eps), scale_by_learning_rate(lr))


def rmsprop(lr: ScalarOrSchedule = 0.01, alpha: float = 0.99, eps: float = 1e-8
            ) -> GradientTransformation:
    """h ← α h + (1 − α) g²;  p ← p − η g / (√h + ε)."""
    return chain(scale_by_second_moment(alpha, 1.0 - alpha, eps), scale_by_learning_rate(lr))


def adam(lr: ScalarOrSchedule = 0.001, beta1: float = 0.9, beta2: float = 0.999,
         eps: float = 1e-8, bias_correction: bool = True) -> GradientTransformation:
    """m, v moving averages of g, g²;  p ← p − η m̂ / (√v̂ + ε), m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ);
    without ``bias_correction`` p ← p − η m / (√v + ε)."""
    return chain(scale_by_adam(beta1, beta2, eps, bias_correction=bias_correction),
                 scale_by_learning_rate(lr))


def adam_book(lr: ScalarOrSchedule = 0.001, beta1: float = 0.9, beta2: float = 0.999,
              eps: float = 1e-7) -> GradientTransformation:
    """The book's Adam: p ← p − η √(1−β₂ᵗ)/(1−β₁ᵗ) · m / (√v + ε) (ε before bias correction)."""
    return chain(scale_by_adam(beta1, beta2, eps, eps_before_bias_correction=True),
                 scale_by_learning_rate(lr))


def adamw(lr: ScalarOrSchedule = 0.001, beta1: float = 0.9, beta2: float = 0.999,
          eps: float = 1e-8, weight_decay: float = 0.01,
          mask: Mapping[str, bool] | None = None) -> GradientTransformation:
    """Adam with decoupled decay: p ← p − η (m̂ / (√v̂ + ε) + λ p), λ on ``mask``'s keys."""
    return chain(scale_by_adam(beta1, beta2, eps), add_decayed_weights(weight_decay, mask),
                 scale_by_learning_rate(lr))


def hyperparameters(name: str) -> dict[str, object]:
    """The optimiser's hyperparameters and their defaults (``lr`` included, ``mask`` not);
    a bool default marks an on/off setting."""
    sig = inspect.signature(OPTIMIZERS[name])
    return {k: p.default for k, p in sig.parameters.items() if k != "mask"}


def optimizer_keys(name: str) -> set[str]:
    """The keys an ``optimizer:`` mapping for ``name`` may hold."""
    return {*hyperparameters(name), "name", "schedule"}


def build_optimizer(name: str, lr: ScalarOrSchedule, *, l2: float = 0.0, l1: float = 0.0,
                    mask: Mapping[str, bool] | None = None, **hyper: float
                    ) -> GradientTransformation:
    """The optimiser ``name`` with L2/L1 penalties' gradients added in front of it;
    ``mask`` selects the keys weight decay applies to (all keys when None)."""
    factory = OPTIMIZERS[name]
    if "mask" in inspect.signature(factory).parameters:
        hyper = {**hyper, "mask": mask}
    core = factory(lr, **hyper)
    if not (l2 or l1):
        return core
    return chain(add_decayed_weights(l2, mask, l1), core)


OPTIMIZERS = {
    "sgd": sgd,
    "momentum": momentum,
    "nesterov": nesterov,
    "adagrad": adagrad,
    "rmsprop": rmsprop,
    "adam": adam,
    "adam_book": adam_book,
    "adamw": adamw,
}
