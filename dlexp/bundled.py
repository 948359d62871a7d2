"""The configs that come with dlexp, found by name wherever the user stands: the
checkout's ``configs/``, or ``dlexp/configs/`` in an install (pyproject.toml maps it).
"""

from __future__ import annotations

from itertools import takewhile
from pathlib import Path

from dlexp.errors import ConfigError

_PACKAGE = Path(__file__).resolve().parent


def folder() -> Path:
    checkout = _PACKAGE.parent / "configs"
    return checkout if (checkout / "baseline.yaml").is_file() else _PACKAGE / "configs"


def names() -> list[str]:
    return sorted(p.stem for p in folder().glob("*.yaml"))


def bundled(name: str) -> Path:
    """The bundled config ``name`` (``baseline`` or ``baseline.yaml``)."""
    path = folder() / f"{name.removesuffix('.yaml')}.yaml"
    if not path.is_file():
        raise ConfigError(f"no bundled config {name!r}; choose one of {', '.join(names())} "
                          "(or give the path of a YAML file)")
    return path


def config_path(value: str | Path) -> Path:
    """A config named on the command line: an existing file, else a bundled config's name;
    any other missing file but a bare word is left for the loader to report."""
    path = Path(value)
    if path.exists():
        return path
    stem = path.name.removesuffix(".yaml")
    found = folder() / f"{stem}.yaml"
    if found.is_file():
        if path.name == stem:
            return found
        raise ConfigError(f"{value}: no such file here; the bundled config is {found}: name it "
                          f"(`dlexp train {stem}`) or copy it out to edit "
                          f"(`dlexp configs copy {stem}`)")
    if not path.suffix and len(path.parts) == 1:
        raise ConfigError(f"{value}: neither a file nor a bundled config; give a YAML file "
                          f"or one of {', '.join(names())} (`dlexp configs` lists them)")
    return path


def describe(name: str) -> str:
    """The config's leading comment up to its first full stop or parenthesis."""
    lines = bundled(name).read_text(encoding="utf-8").splitlines()
    comment = takewhile(lambda line: line.startswith("#"), lines)
    text = " ".join(line.lstrip("#").strip() for line in comment) + " "
    cut = min(i for i in (text.find(". "), text.find(" ("), len(text)) if i >= 0)
    return text[:cut].rstrip(".: ")
