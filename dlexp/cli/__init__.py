"""The ``dlexp`` command line: thin wrappers that parse, load a config and call one function
(the application and its error handling: :mod:`dlexp.cli.app`). A command imports what it
runs when it runs, so ``dlexp --help`` imports neither NumPy nor matplotlib; like
every import, those point down the layers (tests/test_import_layers.py)."""

from dlexp.cli.app import app, fail, handle_errors, main  # noqa: F401
from dlexp.cli import train, experiments, compare, search, presets, configs, chapter  # noqa: F401,E402,I001
