"""The configs that come with dlexp, found by name wherever the user stands.

They live in the top-level ``configs/``; an install ships them as ``dlexp/configs/``
(pyproject.toml maps that folder), so :func:`folder` is the checkout's when there is one.

    config_path("baseline")      -> <folder>/baseline.yaml
    config_path("my/run.yaml")   -> my/run.yaml       (an existing file as given)
"""

from __future__ import annotations

from pathlib import Path

from dlexp.errors import ConfigError

_PACKAGE = Path(__file__).resolve().parent


def folder() -> Path:
    """Where the bundled configs are: the checkout's ``configs/``, else the package's."""
    checkout = _PACKAGE.parent / "configs"
    return checkout if (checkout / "baseline.yaml").is_file() else _PACKAGE / "configs"


def names() -> list[str]:
    """The bundled configs' names (file stems), sorted."""
    return sorted(p.stem for p in folder().glob("*.yaml"))


def bundled(name: str) -> Path:
    """The bundled config ``name`` (``baseline`` or ``baseline.yaml``), else a ConfigError
    listing the names."""
    path = folder() / f"{name.removesuffix('.yaml')}.yaml"
    if not path.is_file():
        raise ConfigError(f"no bundled config {name!r}; choose one of {', '.join(names())} "
                          "(or give the path of a YAML file)")
    return path


def config_path(value: str | Path) -> Path:
    """A config named on the command line: an existing file as it is, else a bundled
    config's name. A missing path named like a bundled config, or a bare word, is a
    ConfigError; any other missing file is left for the loader to report."""
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
    lines = []
    for line in bundled(name).read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("#").strip())
    text = " ".join(lines) + " "
    cut = min(i for i in (text.find(". "), text.find(" ("), len(text)) if i >= 0)
    return text[:cut].rstrip(".: ")
