"""How initialisation shapes hidden-layer activations and the gradients flowing back (§6.2).

``samples`` inputs x ~ N(0, 1) go through ``layers`` bias-free layers of ``units`` units,
a_k = h_{k-1} W_k, h_k = act(a_k); then a random dL/dh_L ~ N(0, 1) flows back through the
same layer objects, giving δ_k = dL/da_k (what reaches the weights: dL/dW_k = h_{k-1}ᵀ δ_k).
Per layer: mean and std of h_k and δ_k, the share of outputs *saturated* (sigmoid h < 0.01
or > 0.99, tanh |h| > 0.99) or *zero* (ReLU), and mean |δ_k|. The run folder holds
activations.json (the settings), stats.csv (one row per initialiser and layer),
histograms.csv (init, kind ``outputs``/``grads``, layer, bin, low, high, count) and
meta.json; the figures are drawn from these files.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dlexp.errors import ConfigError
from dlexp.io import write_csv, write_json
from dlexp.nn.init import INITIALIZERS, make_initializer
from dlexp.nn.layers import ACTIVATIONS, Affine
from dlexp.train.rundir import new_run_dir, run_meta

SATURATION = 0.01        # sigmoid within 0.01 of 0 or 1, tanh within 0.01 of ±1
HIST_BINS = 30
KINDS = ("outputs", "grads")               # h_k and δ_k


@dataclass(frozen=True)
class InitChoice:
    """An initialiser by name, with a std for ``normal``; ``label`` names it in plots."""

    name: str
    std: float | None = None

    @property
    def label(self) -> str:
        return f"normal(std={self.std:g})" if self.name == "normal" else self.name


@dataclass(frozen=True)
class LayerTrace:
    """Activations h_k (N, U) and error signals δ_k = dL/da_k (N, U), layer 1 first."""

    activation: str
    init: InitChoice
    outputs: tuple[np.ndarray, ...]
    grads: tuple[np.ndarray, ...]


def trace_layers(activation: str, init: InitChoice, *, samples: int = 1000, units: int = 100,
                 layers: int = 5, seed: int = 0) -> LayerTrace:
    """Forward random inputs through the stack and a random gradient back."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((samples, units))                       # (N, U)
    initializer = make_initializer(init.name, init.std)
    stack = []
    for _ in range(layers):
        W = initializer(rng, units, units, np.float64)
        stack.append((Affine(W, np.zeros(units), np.empty_like(W), np.empty(units)),
                      ACTIVATIONS[activation]()))
    h, outputs = x, []
    for affine, act in stack:
        h = act.forward(affine.forward(h, training=True), training=True)
        outputs.append(h.copy())
    g, grads = rng.standard_normal(h.shape), []                     # dL/dh_L, (N, U)
    for affine, act in reversed(stack):
        grads.append(act.backward(g).copy())                        # δ_k = dL/da_k
        g = affine.backward(grads[-1])
    return LayerTrace(activation, init, tuple(outputs), tuple(reversed(grads)))


def layer_stats(trace: LayerTrace) -> list[dict]:
    """One row per layer: activation and gradient statistics."""
    rows = []
    for k, (h, g) in enumerate(zip(trace.outputs, trace.grads), 1):
        rows.append({
            "activation": trace.activation, "init": trace.init.label, "layer": k,
            "act_mean": float(h.mean()), "act_std": float(h.std()),
            "saturated_or_zero": float(INACTIVE[trace.activation](h).mean()),
            "delta_mean": float(g.mean()), "delta_std": float(g.std()),
            "delta_abs_mean": float(np.abs(g).mean()),
        })
    return rows


def histogram_rows(trace: LayerTrace, bins: int = HIST_BINS) -> list[dict]:
    """One row per bin, layer and kind (module docstring) of one trace."""
    rows = []
    for kind in KINDS:
        limits = HIST_RANGE[trace.activation] if kind == "outputs" else None
        for k, values in enumerate(getattr(trace, kind), 1):
            counts, edges = np.histogram(np.ravel(values), bins=bins, range=limits)
            rows += [{"init": trace.init.label, "kind": kind, "layer": k, "bin": b,
                      "low": float(edges[b]), "high": float(edges[b + 1]),
                      "count": int(counts[b])} for b in range(bins)]
    return rows


MAX_STD = 1e3


def run_activations(activation: str, init: str, std: float | None = None, *, grid: bool = False,
                    samples: int = 1000, units: int = 100, layers: int = 5, seed: int = 0,
                    runs_root: Path = Path("runs"), into: Path | None = None
                    ) -> tuple[Path, list[dict]]:
    """Trace one initialiser (or all of GRID_INITS) and write the files into a new run
    folder (or the folder ``into``); that folder and the rows of stats.csv."""
    if activation not in ACTIVATIONS:
        raise ConfigError(f"--activation {activation!r}: choose one of {', '.join(ACTIVATIONS)}")
    if init not in INITIALIZERS:
        raise ConfigError(f"--init {init!r}: choose one of {', '.join(INITIALIZERS)}")
    if std is not None and init != "normal":
        raise ConfigError("--std applies only to --init normal")
    if std is not None and not 0 < std <= MAX_STD:
        raise ConfigError(f"--std {std}: the standard deviation must be a positive number "
                          f"up to {MAX_STD:g} (beyond it the signals overflow), e.g. --std 0.01")
    if grid and (std is not None or init != "normal"):
        raise ConfigError("--grid draws every initialiser (std 1 and 0.01 included): "
                          "leave out --init and --std, or drop --grid")
    choices = GRID_INITS if grid else (InitChoice(init, 1.0 if std is None and init == "normal"
                                                   else std),)
    traces = [trace_layers(activation, c, samples=samples, units=units, layers=layers, seed=seed)
              for c in choices]
    rows = [row for t in traces for row in layer_stats(t)]
    name = f"activations-{activation}" + ("-grid" if grid else f"-{choices[0].label}")
    started = time.time()
    out = into or new_run_dir(Path(runs_root),
                              name.replace("(", "").replace(")", "").replace("=", ""))
    write_json(out / "meta.json", run_meta(started))
    write_json(out / "activations.json", {
        "activation": activation, "inits": [c.label for c in choices], "samples": samples,
        "units": units, "layers": layers, "seed": seed})
    write_csv(out / "histograms.csv", [r for t in traces for r in histogram_rows(t)])
    write_csv(out / "stats.csv", rows)                # last: marks the folder complete
    return out, rows


# The book's choices plus the standard ones, for --grid.
GRID_INITS: tuple[InitChoice, ...] = (
    InitChoice("normal", 1.0), InitChoice("normal", 0.01), InitChoice("lecun_normal"),
    InitChoice("glorot_normal"), InitChoice("he_normal"), InitChoice("zeros"),
)

# Per activation (the keys of ACTIVATIONS): which outputs count as saturated (σ' < 0.01,
# tanh' < 0.02) or zero (ReLU: no gradient flows back), and the fixed range of the output
# histograms (None: each layer's own min…max).
INACTIVE = {"relu": lambda h: h == 0.0,
            "sigmoid": lambda h: (h < SATURATION) | (h > 1.0 - SATURATION),
            "tanh": lambda h: np.abs(h) > 1.0 - SATURATION}
HIST_RANGE = {"relu": None, "sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}
