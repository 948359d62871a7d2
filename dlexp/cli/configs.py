"""``dlexp configs``: the bundled configs, listed, shown, or copied out to edit."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from dlexp.cli.app import App, app, fail, handle_errors
from dlexp.cli.helptext import HELP_OPTIONS, examples

configs_app = App(context_settings=HELP_OPTIONS, rich_markup_mode=None,
                  epilog=examples("dlexp configs", "dlexp configs show baseline",
                                  "dlexp configs copy baseline my.yaml",
                                  "dlexp train my.yaml"))


@configs_app.callback(invoke_without_command=True)
def configs(ctx: typer.Context) -> None:
    """List the bundled configs; show one, or copy it out to edit.

    Any command that takes a config takes a bundled config's name as well as a path
    (`dlexp train baseline`)."""
    if ctx.invoked_subcommand is None:
        from rich.console import Console
        from dlexp.bundled import describe, folder, names
        from dlexp.experiments.tables import new_table, print_titled
        table = new_table(["name", "what it is"])
        for name in names():
            table.add_row(name, describe(name))
        print_titled(f"bundled configs in {folder()}", table, Console())


app.add_typer(configs_app, name="configs", short_help=configs.__doc__.splitlines()[0])


@configs_app.command(epilog=examples("dlexp configs show search"))
@handle_errors
def show(name: str = typer.Argument(..., help="A bundled config's name.")) -> None:
    """Print a bundled config."""
    from dlexp.bundled import bundled
    typer.echo(bundled(name).read_text(encoding="utf-8"), nl=False)


@configs_app.command(epilog=examples("dlexp configs copy baseline",
                                     "dlexp configs copy search my-search.yaml"))
@handle_errors
def copy(
    name: str = typer.Argument(..., help="A bundled config's name."),
    dest: Optional[Path] = typer.Argument(None, help="File or folder to write (default: "
                                          "NAME.yaml here)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing file."),
) -> None:
    """Copy a bundled config out, to edit and run: `dlexp train NAME.yaml`."""
    from dlexp.bundled import bundled
    from dlexp.io import atomic_write_text
    source = bundled(name)
    target = dest if dest is not None else Path(source.name)
    if target.is_dir():
        target = target / source.name
    if target.exists() and not force:
        raise fail(f"{target}: already exists; give another DEST or --force")
    atomic_write_text(target, source.read_text(encoding="utf-8"))
    typer.echo(str(target))
