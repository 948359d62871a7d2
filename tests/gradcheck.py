"""Central finite differences, shared by the gradient tests."""

from __future__ import annotations

import numpy as np

H = 1e-6


def numerical_grad_at(f, x: np.ndarray, indices) -> np.ndarray:
    """Central differences (f(x+h) − f(x−h)) / 2h of the scalar ``f()`` wrt the entries
    of ``x`` at ``indices`` (changed in place and restored), in that order."""
    out = []
    for idx in indices:
        old = x[idx]
        x[idx] = old + H
        fp = f()
        x[idx] = old - H
        fm = f()
        x[idx] = old
        out.append((fp - fm) / (2 * H))
    return np.array(out)


def numerical_grad(f, x: np.ndarray) -> np.ndarray:
    """Central differences of the scalar ``f()`` wrt every entry of ``x``, shaped as ``x``."""
    return numerical_grad_at(f, x, np.ndindex(x.shape)).reshape(x.shape)


def assert_grad_close(analytic: np.ndarray, numeric: np.ndarray, rtol: float = 1e-6,
                      atol: float = 1e-8) -> None:
    analytic, numeric = np.asarray(analytic), np.asarray(numeric)
    assert analytic.shape == numeric.shape
    assert np.all(np.isfinite(analytic))
    denom = max(np.linalg.norm(analytic) + np.linalg.norm(numeric), 1e-12)
    rel = np.linalg.norm(analytic - numeric) / denom
    assert rel < 1e-7, f"relative error {rel:.3e}"
    np.testing.assert_allclose(analytic, numeric, rtol=rtol, atol=atol)
