"""``dlexp activations``: activation and gradient distributions under each initialiser."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from dlexp.cli.app import app, handle_errors
from dlexp.cli.options import runs_dir_option


@app.command()
@handle_errors
def activations(
    activation: str = typer.Option("sigmoid", help="sigmoid, tanh or relu."),
    init: str = typer.Option("normal", help="Initialiser name (see README, 'Names')."),
    std: Optional[float] = typer.Option(None, help="Std for --init normal (default 1, as the book)."),
    grid: bool = typer.Option(False, "--grid", help="All initialisers × this activation."),
    samples: int = typer.Option(1000, min=1, help="Random inputs."),
    units: int = typer.Option(100, min=1, help="Units per layer (and input size)."),
    layers: int = typer.Option(5, min=1, help="Hidden layers."),
    seed: int = typer.Option(0, min=0),
    runs_dir: Path = runs_dir_option("Where the run folder goes."),
) -> None:
    """Histograms of hidden activations and of the gradients flowing back (book §6.2)."""
    from dlexp.cli.quick import activations_report
    activations_report(activation, init, std, grid=grid, samples=samples, units=units,
                       layers=layers, seed=seed, runs_root=runs_dir)
