"""Help that teaches: -h everywhere, whole one-line descriptions, plain placeholders,
the choices of registry-backed options, and examples that parse."""

from __future__ import annotations

import re
import shlex

import pytest
import typer

from dlexp.cli import app
from dlexp.cli.app import CHOICES, choices


def _commands(group=None, path=()):
    """(path, click command) for every command, sub-commands included."""
    group = group or typer.main.get_command(app)
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield (*path, name), command
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name), command


COMMANDS = sorted(_commands(), key=lambda c: c[0])


@pytest.fixture(autouse=True)
def _width(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")


@pytest.mark.parametrize("path", [(), *(p for p, _ in COMMANDS)], ids=" ".join)
def test_dash_h_shows_help_with_plain_placeholders_and_examples(cli, path):
    res = cli(*path, "-h")
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("Usage:")
    python_type = re.search(r"<\w+( range)?>|\{\w+\}|list\[|\bPath\b|\bint\b", res.stdout)
    assert python_type is None, res.stdout
    assert "Examples:" in res.stdout
    lines = [x.strip() for x in res.stdout.split("Examples:")[1].splitlines() if x.strip()]
    assert lines and all(x.startswith("dlexp ") for x in lines)


@pytest.mark.parametrize("path", [(), *(p for p, _ in COMMANDS)], ids=" ".join)
def test_every_example_parses(cli, path):
    """Each example's options exist: it parses up to its -h (which stops before running)."""
    text = cli(*path, "-h").stdout.split("Examples:")[1]
    for line in (x.strip() for x in text.splitlines() if x.strip()):
        words = shlex.split(line)[1:]
        if "COMMAND" in words:
            continue
        res = cli(*words, "-h")
        assert res.exit_code == 0, (line, res.output)


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=" ".join)
def test_examples_name_folders_as_dlexp_makes_them(cli, path, tmp_path):
    from dlexp.train.rundir import new_run_dir
    made = re.sub(r"\d", r"\\d", new_run_dir(tmp_path, "x").name[1:])     # -20261208-001408
    text = cli(*path, "-h").stdout.split("Examples:")[1]
    for folder in re.findall(r"runs/(\S*\d\S*)", text):        # a folder with a time in it
        assert re.fullmatch(rf"[a-z-]+{made}", folder), folder


def test_the_command_list_shows_each_description_whole(cli):
    text = cli("-h").stdout
    listing = " ".join(text[text.index("Commands:"):text.index("Examples:")].split())
    assert "..." not in listing and "…" not in listing
    for path, command in COMMANDS:
        if len(path) == 1:
            assert command.short_help and " ".join(command.short_help.split()) in listing


@pytest.mark.parametrize("option", sorted(CHOICES))
def test_options_list_their_choices_from_the_registry(cli, option):
    names = choices(option)
    assert names
    having = [p for p, c in COMMANDS if any(option in getattr(q, "opts", ()) for q in c.params)]
    assert having, f"no command has {option}"
    for path in having:
        help_text = " ".join(cli(*path, "-h").stdout.split())
        listed = re.search(rf"{option} NAME .*?One of: ([^.]*)\.", help_text)
        assert listed and listed.group(1).split(", ") == names, (path, help_text)


def test_smooth_is_offered_only_where_a_loss_figure_is_smoothed(cli):
    """batchnorm draws no loss figure (its 32 curves would show nothing), so it has no
    --smooth; every other comparison smooths its loss figure with it."""
    assert "--smooth" not in cli("batchnorm", "-h").stdout
    assert "--band" in cli("batchnorm", "-h").stdout               # its grid has bands
    for command in ("compare", "compare-optimizers", "compare-inits", "overfit-dropout",
                    "overfit-weight-decay", "ensemble"):
        assert "--smooth" in cli(command, "-h").stdout
