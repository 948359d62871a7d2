"""The project's own errors: each carries one line for the user and an exit code.

The CLI turns any :class:`DlexpError` into that line on stderr and the exit code,
never a traceback. Everything a user can get wrong (configs, data, paths) raises one.
"""

from __future__ import annotations


class DlexpError(Exception):
    """A problem the user can fix; ``str(err)`` names it and says how."""

    exit_code = 1


class ConfigError(DlexpError):
    """A config file, override or command-line option is invalid (exit code 2)."""

    exit_code = 2


class DataError(DlexpError):
    """MNIST files are missing, corrupt or cannot be fetched (exit code 2)."""

    exit_code = 2


class RunError(DlexpError):
    """A run or search directory is not what the command expects (exit code 2)."""

    exit_code = 2
