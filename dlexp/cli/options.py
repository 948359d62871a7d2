"""The options every comparison command shares, defined once.

    @app.command("compare-inits")
    @handle_errors
    @comparison_options(seeds=3)
    def compare_inits(inits: str = …, config: Optional[Path] = CONFIG,
                      set_: List[str] = SET, *, opts: CompareOptions) -> None: …

:func:`comparison_options` appends ``--iterations``, ``--epochs``, ``--seeds``,
``--smooth``, ``--name``, ``-j/--jobs/--workers``, ``--runs-dir``, ``--band``,
``-q/--quiet`` and ``--resume`` to the command's signature (Typer builds the command line
from the signature) and hands their values to the command as one ``opts``, a
:class:`~dlexp.experiments.report.CompareOptions`. ``CONFIG`` and ``SET`` are the
presets' ``--config`` and ``--set``; ``SET_CONFIG`` is the ``--set`` of ``train`` and
``search``.
"""

from __future__ import annotations

import functools
import inspect
from pathlib import Path
from typing import Callable, Optional, Sequence

import typer

CONFIG = typer.Option(None, "--config", help="Base config: a YAML file or a bundled "
                      "config's name (default: the command's own; `dlexp configs`).")
SET = typer.Option([], "--set", metavar="KEY=VALUE", help="Override a base config value, "
                   "e.g. --set training.iterations=500 (repeatable).")      # comparisons
BOOK = typer.Option(False, "--book", help="Run it as the book's script does: its images, "
                    "minibatches drawn with replacement, the loss recorded after each "
                    "update, its length and its classes' settings (docs/book.md); --set "
                    "still overrides.")
SET_CONFIG = typer.Option([], "--set", metavar="KEY=VALUE", help="Override a config value, "
                          "e.g. --set optimizer.lr=0.01 (repeatable).")    # train, search


def _folder(value: str | Path) -> Path:
    """A folder option's value; an empty one (``--runs-dir ""``, e.g. from an unset shell
    variable) is refused rather than taken as the current folder."""
    if isinstance(value, Path):
        return value
    if not value.strip():
        raise typer.BadParameter("an empty path; give a folder, e.g. runs")
    return Path(value)


def runs_dir_option(help: str) -> typer.models.OptionInfo:
    """``--runs-dir`` (default ``runs``), with ``help``."""
    return typer.Option(Path("runs"), "--runs-dir", parser=_folder, metavar="PATH", help=help)


_SHARED: tuple[tuple[str, object, typer.models.OptionInfo], ...] = (
    ("iterations", Optional[int], typer.Option(
        None, "--iterations", min=1,
        help="Updates per run (instead of the config's length).")),
    ("epochs", Optional[int], typer.Option(None, "--epochs", min=1,
                                           help="Epochs per run instead.")),
    ("smooth", int, typer.Option(
        50, "--smooth", min=1, help="Span W of the smoothed loss, in updates: a trailing "
        "exponential average with β = 1 − 2/(W+1), as the mean of the last ~W updates.")),
    ("name", Optional[str], typer.Option(
        None, "--name", help="Name of the comparison folder (default: the command's).")),
    ("jobs", Optional[int], typer.Option(
        None, "--jobs", "-j", "--workers", min=1,
        help="Worker processes (default: all cores); each uses one BLAS thread.")),
    ("runs_dir", Path, runs_dir_option("Where the comparison folder goes.")),
    ("band", str, typer.Option("minmax", "--band",
                               help="The band over seeds in the figures: min–max, or mean ± 1 std.")),
    ("quiet", bool, typer.Option(False, "--quiet", "-q", help="No line per finished run.")),
    ("resume", Optional[Path], typer.Option(
        None, "--resume", metavar="DIR", help="Finish the interrupted comparison in DIR "
        "(give the command and options that started it): runs that completed are kept, "
        "the others run again.")),
)


def _seeds_option(default: int) -> typer.models.OptionInfo:
    return typer.Option(default, "--seeds", min=1,
                        help="Seeds per variant (the base seed, +1, …); "
                        "bands show their spread.")


def _draw(names: Sequence[str], out_dir: Path, band: str, interrupted: bool) -> None:
    from dlexp.plots.compare import draw_figures     # matplotlib: only once training is over
    draw_figures(names, out_dir, band, interrupted)


def comparison_options(seeds: int = 3, exclude: Sequence[str] = ()) -> Callable:
    """Give a command the shared options (``--seeds`` defaulting to ``seeds``), minus
    those in ``exclude``; it receives them as ``opts``."""
    shared = [("seeds", int, _seeds_option(seeds)), *_SHARED]
    params = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option,
                                annotation=kind)
              for name, kind, option in shared if name not in exclude]

    def decorate(fn: Callable) -> Callable:
        own = [p for p in inspect.signature(fn).parameters.values() if p.name != "opts"]

        @functools.wraps(fn)
        def command(**kwargs):
            from dlexp.experiments.sweep import CompareOptions
            from dlexp.fmt import check_band
            values = {p.name: kwargs.pop(p.name) for p in params}
            check_band(values.get("band", "minmax"))
            return fn(**kwargs, opts=CompareOptions(**values, draw=_draw))

        command.__signature__ = inspect.Signature([*own, *params])
        command.__annotations__ = {**{k: v for k, v in fn.__annotations__.items()
                                      if k != "opts"},
                                   **{p.name: p.annotation for p in params}}
        return command

    return decorate
