"""The ``dlexp`` command line: thin commands that parse options, call one function of
the layers below, draw its figures and print a short summary (:mod:`dlexp.cli.app`)."""

from dlexp.cli.app import app, main  # noqa: F401
from dlexp.cli import commands, presets, chapter  # noqa: F401,E402,I001
