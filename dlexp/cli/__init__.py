"""The ``dlexp`` command line: thin wrappers that parse, load a config and call one function
(the application and its error handling: :mod:`dlexp.cli.app`)."""

from dlexp.cli.app import app, fail, handle_errors, main  # noqa: F401
from dlexp.cli import train, experiments, compare, search, presets  # noqa: F401,E402,I001
