"""The project's errors: one line for the user and an exit code; the CLI prints the line
(never a traceback). Everything a user can get wrong (configs, data, paths) raises one."""

from __future__ import annotations

import errno


class DlexpError(Exception):
    """A problem the user can fix; ``str(err)`` names it and says how."""

    exit_code = 1


class ConfigError(DlexpError):
    """A config file, override or command-line option is invalid."""

    exit_code = 2


class DataError(DlexpError):
    """MNIST files are missing, corrupt or cannot be fetched."""

    exit_code = 2


class RunError(DlexpError):
    """A run or search folder is not what the command expects."""

    exit_code = 2


class WriteError(DlexpError):
    """A file could not be written (disk full, no permission); names the file (exit 1)."""

    def __init__(self, path, err: OSError) -> None:
        self.path, self.errno = path, err.errno
        fix = ("free some space, then resume" if err.errno == errno.ENOSPC else
               "check the folder and its permissions")
        super().__init__(f"{path}: cannot write ({err.strerror or err}); {fix}")
