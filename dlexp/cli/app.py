"""The ``dlexp`` application: help that teaches, the options several commands share, and
errors as one line: the project's errors, file-system failures (``DLEXP_DEBUG=1`` shows the
traceback) and the parser's own print one ``error:`` line and exit with the error's code
(2 for usage, config and data); Ctrl-C or SIGTERM exits 130. Commands import what they run
when they run, so ``dlexp --help`` imports neither NumPy nor matplotlib.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
from pathlib import Path
from typing import Callable

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup

from dlexp import __version__
from dlexp.errors import DlexpError

# option → (module, registry): the names an option accepts are the registry's keys.
CHOICES: dict[str, tuple[str, str]] = {
    "--activation": ("dlexp.nn.layers", "ACTIVATIONS"),
    "--init": ("dlexp.nn.init", "INITIALIZERS"),
    "--function": ("dlexp.surfaces", "FUNCTIONS"),
    "--band": ("dlexp.fmt", "BANDS"),
    "--metric": ("dlexp.plots.runs", "METRIC_NAMES"),
    "--sampler": ("dlexp.search.study", "SAMPLERS"),
    "--pruner": ("dlexp.search.study", "PRUNERS"),
}
_PLAIN = {"int": "N", "float": "NUMBER", "str": "TEXT", "Path": "PATH", "bool": "BOOL"}

# The parser's exception classes, found from a public one (Typer vendors Click).
_UsageError, _ClickException = typer.BadParameter.__mro__[1:3]


def choices(option: str) -> list[str]:
    """The names ``option`` accepts (the keys of its registry in :data:`CHOICES`)."""
    module, name = CHOICES[option]
    return list(getattr(importlib.import_module(module), name))


def _placeholder(option) -> str:
    """``N``, ``NUMBER``, ``TEXT``, ``PATH`` or ``NAME`` rather than a Python type."""
    if any(o in CHOICES for o in option.opts):
        return "NAME"
    kind = option.type_descriptor.annotation
    kind = next((a for a in getattr(kind, "__args__", ()) if a is not type(None)), kind)
    return _PLAIN.get(getattr(kind, "__name__", ""), "VALUE")   # Optional[X], List[X]: X


class Command(TyperCommand):
    """A command whose ``-h`` teaches: its whole first line in the command list, plain
    placeholders, the names a registry-backed option accepts, and ``Examples:``."""

    def __init__(self, name: str | None, *, help: str | None = None,
                 short_help: str | None = None, **kwargs) -> None:
        short_help = short_help or (help and " ".join(help.strip().split("\n\n")[0].split()))
        super().__init__(name, help=help, short_help=short_help, **kwargs)
        for p in self.params:
            if isinstance(p, TyperArgument):              # CONFIG, RUN...
                p.metavar = (p.metavar or p.name.upper()) + ("..." if p.nargs != 1 else "")
            elif not p.is_flag and p.metavar is None:
                p.metavar = _placeholder(p)

    def collect_usage_pieces(self, ctx) -> list[str]:
        """``[OPTIONS] CONFIG``, ``[DEST]``: arguments as the user types them."""
        return [self.options_metavar, *(p.metavar if p.required else f"[{p.metavar}]"
                                        for p in self.params if isinstance(p, TyperArgument))]

    def format_options(self, ctx, formatter) -> None:
        """Arguments as ``NAME  help``, then the options as Typer writes them."""
        params = self.get_params(ctx)
        args = [(p.metavar, p.help or "") for p in params if isinstance(p, TyperArgument)]
        opts = [r for p in params if not isinstance(p, TyperArgument)
                if (r := p.get_help_record(ctx))]
        for title, rows in (("Arguments", args), ("Options", opts)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)

    def format_help(self, ctx, formatter) -> None:
        for p in self.params:                   # registries are read only to show help
            listed = [o for o in getattr(p, "opts", ()) if o in CHOICES]
            if listed and "One of:" not in (p.help or ""):
                p.help = f"{p.help or ''} One of: {', '.join(choices(listed[0]))}.".strip()
        super().format_help(ctx, formatter)


def examples(*lines: str) -> str:
    """An epilog of example command lines, printed one per line as typed."""
    return "Examples:\n\n\b\n" + "\n".join(f"  {line}" for line in lines)


class _CtrlC(Exception):
    """Ctrl-C while the options are parsed (typer would exit 130 without a word)."""


class OneLineErrors(TyperGroup):
    """The command group, with the parser's errors printed as one ``error:`` line."""

    def make_context(self, *args, **kwargs):
        try:
            return super().make_context(*args, **kwargs)
        except KeyboardInterrupt:
            raise _CtrlC from None

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise _CtrlC from None

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True,
             **extra):
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except _CtrlC:
            typer.echo("interrupted", err=True)
            sys.exit(130)
        except (typer.Abort, _ClickException) as e:
            if not standalone_mode:
                raise
            if type(e).__name__ == "NoArgsIsHelpError":      # `dlexp` alone: the help
                typer.echo(e.ctx.get_help())
                sys.exit(0)
            if isinstance(e, typer.Abort):                   # end of input at a prompt
                sys.exit(fail("aborted", 1).exit_code)
            sys.exit(fail(e.format_message() + self._hint(e, args), e.exit_code).exit_code)
        if standalone_mode:
            sys.exit(rv if type(rv) is int else 0)          # an exit code, or success
        return rv

    def _hint(self, e: Exception, args) -> str:
        """`` (dlexp CMD --help)`` after a usage error; for an unknown option that is a
        config setting's name (``--epochs``), the ``--set`` that sets it."""
        if not isinstance(e, _UsageError):
            return ""
        where = getattr(getattr(e, "ctx", None), "command_path", None) or "dlexp"
        words = [a for a in (sys.argv[1:] if args is None else args) if not a.startswith("-")]
        if where == "dlexp" and words and words[0] in self.commands:  # failed in a command
            where = f"dlexp {words[0]}"
        command = self.commands.get(where.split()[-1])
        name = str(getattr(e, "option_name", "") or "").lstrip("-").replace("-", "_")
        if (name and type(e).__name__ == "NoSuchOption" and command is not None
                and any("--set" in getattr(p, "opts", ()) for p in command.params)):
            from dlexp.config import config_keys
            keys = sorted((k for k in config_keys() if k.rsplit(".", 1)[-1] == name), key=len)
            if keys:
                return f" (a config setting: --set {keys[0]}=…; {where} --help)"
        return f" ({where} --help)"


class App(typer.Typer):
    """``app.command(name, *examples)`` registers a :class:`Command` whose errors are
    handled by :func:`handle_errors`, with its example lines."""

    def command(self, name: str, *example_lines: str, **kwargs) -> Callable:
        register = super().command(name, cls=Command, epilog=examples(*example_lines),
                                   **kwargs)
        return lambda fn: register(handle_errors(fn))


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``error: message`` (on one line) on stderr and return the Exit to raise."""
    typer.echo("error: " + " ".join(str(message).split()), err=True)
    return typer.Exit(code)


def handle_errors(fn: Callable) -> Callable:
    """Run the command: the project's errors become one line and an exit code; the first
    Ctrl-C or SIGTERM lets it finish and write its files, then exits 130."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            from dlexp.train.signals import requested, stoppable     # a Ctrl-C may come now
            with stoppable():               # 1st Ctrl-C/SIGTERM: finish and write; 2nd: exit
                try:
                    fn(*args, **kwargs)
                    code = 0
                except typer.Exit as e:
                    code = e.exit_code
                if code == 0 and requested():
                    typer.echo("interrupted", err=True)
                    code = 130
            raise typer.Exit(code)
        except DlexpError as e:
            raise fail(str(e), e.exit_code) from None
        except OSError as e:
            if os.environ.get("DLEXP_DEBUG"):
                raise
            where = f"{e.filename}: " if e.filename else ""
            raise fail(f"{where}{e.strerror or e}; check the path, its permissions and "
                       "the free disk space", 2) from None
        except KeyboardInterrupt as e:      # its text, if any, says how to resume
            typer.echo(str(e) or "interrupted", err=True)
            raise typer.Exit(130) from None

    return wrapper


app = App(cls=OneLineErrors, add_completion=False, no_args_is_help=True,
          pretty_exceptions_enable=False, rich_markup_mode=None,
          context_settings={"help_option_names": ["-h", "--help"]},
          epilog=examples("dlexp data --download", "dlexp train baseline",
                          "dlexp compare-optimizers --epochs 1", "dlexp COMMAND -h"))


def _print_version(asked: bool) -> None:
    if asked:
        typer.echo(f"dlexp {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(show_version: bool = typer.Option(False, "--version", callback=_print_version,
                                            is_eager=True, help="Print the version and exit.")
          ) -> None:
    """Experiments on the techniques of training neural networks (NumPy)."""


main = app                              # the console script's entry point


# --- options several commands share ---------------------------------------------------

def _folder(value: str | Path) -> Path:
    """A folder option's value; an empty one (``--runs-dir ""``, e.g. from an unset shell
    variable) is refused rather than taken as the current folder."""
    if isinstance(value, Path):
        return value
    if not value.strip():
        raise typer.BadParameter("an empty path; give a folder, e.g. runs")
    return Path(value)


RUNS_DIR = typer.Option(Path("runs"), "--runs-dir", parser=_folder, metavar="PATH",
                        help="The folder of run folders.")
CONFIG = typer.Option(None, "--config", help="Base config: a YAML file or a bundled "
                      "config's name (default: the command's own; `dlexp configs`).")
SET = typer.Option([], "--set", metavar="KEY=VALUE", help="Override a config value, "
                   "e.g. --set optimizer.lr=0.01 (repeatable).")
BOOK = typer.Option(False, "--book", help="Run it as the book's script does "
                    "(docs/book.md); --set still overrides.")
JOBS = typer.Option(None, "--jobs", "-j", "--workers", min=1,
                    help="Worker processes (default: all cores); each uses one BLAS thread.")
QUIET = typer.Option(False, "--quiet", "-q", help="No progress display.")
