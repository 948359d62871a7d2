"""The ``dlexp`` application: its command group, one-line errors and exit codes.

Each command module of :mod:`dlexp.cli` registers itself on :data:`app`. Errors the user can fix
(:class:`~dlexp.errors.DlexpError`) become one line on stderr and the error's exit code
(2 for usage, config and data errors), never a traceback; so do failures of the file
system (``OSError``: disk full, a path under a file…). A command stopped by Ctrl-C or
SIGTERM (:mod:`dlexp.train.signals`) exits with code 130.
Set ``DLEXP_DEBUG=1`` to see the traceback of an OSError instead. Mistakes the parser
catches (an unknown option or command, an option value out of its range or of the wrong
type) are one line too, ``error: … (dlexp COMMAND --help)``, exit 2.
"""

from __future__ import annotations

import functools
import os
import sys
from typing import Callable

import typer
from typer.core import TyperGroup

from dlexp.cli.helptext import HELP_OPTIONS, Command, examples
from dlexp.errors import DlexpError

# The parser's exception classes, found from a public one (Typer may vendor Click).
_UsageError, _ClickException = typer.BadParameter.__mro__[1:3]


class OneLineErrors(TyperGroup):
    """The command group, with the parser's errors printed as one ``error:`` line."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True,
             **extra):
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except typer.Abort:                                  # end of input at a prompt
            if not standalone_mode:
                raise
            sys.exit(fail("aborted", 1).exit_code)
        except _ClickException as e:
            if not standalone_mode:
                raise
            if type(e).__name__ == "NoArgsIsHelpError":      # `dlexp` alone: the help
                typer.echo(e.ctx.get_help())
                sys.exit(0)
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
        name = str(getattr(e, "option_name", "") or "").lstrip("-").replace("-", "_")
        command = self.commands.get(where.split()[-1])
        takes_set = command is not None and any("--set" in getattr(p, "opts", ())
                                                for p in command.params)
        if name and takes_set and type(e).__name__ == "NoSuchOption":
            from dlexp.config import config_keys
            keys = sorted((k for k in config_keys() if k.rsplit(".", 1)[-1] == name), key=len)
            if keys:
                return f" (a config setting: --set {keys[0]}=…; {where} --help)"
        return f" ({where} --help)"


class App(typer.Typer):
    """The ``dlexp`` app: every command it registers is a :class:`~dlexp.cli.helptext.Command`
    (``-h``, whole one-line descriptions, plain placeholders, choices and examples)."""

    def command(self, *args, cls=None, **kwargs):
        return super().command(*args, cls=cls or Command, **kwargs)


app = App(cls=OneLineErrors, add_completion=False, no_args_is_help=True,
          pretty_exceptions_enable=False, rich_markup_mode=None,
          context_settings=HELP_OPTIONS,
          help="Experiments on the techniques of training neural networks (NumPy).",
          epilog=examples("dlexp data --download", "dlexp train baseline",
                          "dlexp compare-optimizers --epochs 1", "dlexp COMMAND -h"))


def _print_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import PackageNotFoundError, version
        try:
            typer.echo(f"dlexp {version('dlexp')}")
        except PackageNotFoundError:                   # run from a source tree
            typer.echo("dlexp (not installed)")
        raise typer.Exit(0)


@app.callback()
def _root(show_version: bool = typer.Option(False, "--version", callback=_print_version,
                                            is_eager=True, help="Print the version and exit.")
          ) -> None:
    """Experiments on the techniques of training neural networks (NumPy)."""


def fail(message: str, code: int = 2) -> "typer.Exit":
    """Print ``error: message`` (on one line) on stderr and return the Exit to raise."""
    typer.echo("error: " + " ".join(str(message).split()), err=True)
    return typer.Exit(code)


def handle_errors(fn: Callable) -> Callable:
    """Turn the project's errors into one line and an exit code; Ctrl-C into exit 130."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from dlexp.train.signals import requested, stoppable
        try:
            with stoppable():               # 1st Ctrl-C/SIGTERM: finish and write; 2nd: exit
                code = _exit_code(fn, *args, **kwargs)
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
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(130) from None

    return wrapper


def _exit_code(fn: Callable, *args, **kwargs) -> int:
    """Run the command; its exit code (0 when it returns normally)."""
    try:
        fn(*args, **kwargs)
    except typer.Exit as e:
        return e.exit_code
    return 0


def main() -> None:
    """Console-script entry point."""
    app()
