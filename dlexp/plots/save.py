"""Writing a figure to disk: the format follows the file's extension, and the file is
written atomically (rendered into memory, then :func:`dlexp.io.atomic_write_bytes`), so
a reader never sees half a figure.

    save_figure(fig, Path("runs/x/plots/loss.png"))    # PNG
    save_figure(fig, Path("overlay.pdf"))              # PDF (vector)

:func:`check_figure_path` raises one clear :class:`~dlexp.errors.ConfigError` for an
extension matplotlib is not asked to write here, or a folder in the path that is a file;
call it before the work that makes a figure (``dlexp plot --out``).
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib.pyplot as plt

from dlexp.errors import ConfigError
from dlexp.io import atomic_write_bytes

FORMATS = ("png", "pdf", "svg")          # what save_figure writes, by extension


def figure_format(path: Path) -> str:
    """The format of ``path`` by its extension (``png``, ``pdf``, ``svg``); ConfigError
    naming the supported ones for any other extension (or none)."""
    ext = Path(path).suffix.lower().lstrip(".")
    if ext not in FORMATS:
        what = f"cannot write a figure as .{ext}" if ext else "no extension"
        raise ConfigError(f"{path}: {what}; use a name ending in "
                          f"{', '.join('.' + f for f in FORMATS)}")
    return ext


def check_figure_path(path: Path) -> str:
    """Raise ConfigError if ``path`` cannot take a figure: an unsupported extension, or a
    folder on the way that is a file. Returns the format."""
    path = Path(path)
    fmt = figure_format(path)
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ConfigError(f"{path}: {parent} is a file, not a folder; choose "
                                  "another output path")
            break
    if path.is_dir():
        raise ConfigError(f"{path}: a folder; give a file name ending in "
                          f"{', '.join('.' + f for f in FORMATS)}")
    return fmt


def save_figure(fig: "plt.Figure", path: Path, dpi: int = 110) -> None:
    """Save ``fig`` atomically in the format of ``path``'s extension, and close it."""
    path = Path(path)
    try:
        fmt = check_figure_path(path)
    except ConfigError:
        plt.close(fig)
        raise
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
