"""``dlexp activations``: activation and gradient distributions under each initialiser."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from dlexp.cli.app import app, handle_errors
from dlexp.cli.helptext import examples
from dlexp.cli.options import runs_dir_option


@app.command(epilog=examples("dlexp activations --grid",
                             "dlexp activations --activation relu --init he_normal",
                             "dlexp activations --init normal --std 0.01"))
@handle_errors
def activations(
    activation: str = typer.Option("sigmoid", help="Activation of the hidden layers."),
    init: str = typer.Option("normal", help="Weight initialiser."),
    std: Optional[float] = typer.Option(None, help="Std for --init normal (default 1, as the book)."),
    grid: bool = typer.Option(False, "--grid", help="All initialisers × this activation."),
    samples: int = typer.Option(1000, min=1, help="Random inputs."),
    units: int = typer.Option(100, min=1, help="Units per layer (and input size)."),
    layers: int = typer.Option(5, min=1, help="Hidden layers."),
    seed: int = typer.Option(0, min=0, help="Seed of the inputs and weights."),
    runs_dir: Path = runs_dir_option("Where the run folder goes."),
) -> None:
    """Activation and gradient histograms per layer (§6.2).

    Random inputs pass through --layers hidden layers of --units units; the figure shows
    each layer's activations and the gradients flowing back, under one initialiser or,
    with --grid, under each."""
    from dlexp.cli.quick import activations_report
    activations_report(activation, init, std, grid=grid, samples=samples, units=units,
                       layers=layers, seed=seed, runs_root=runs_dir)
