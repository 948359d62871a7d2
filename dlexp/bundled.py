"""The configs that come with dlexp, found by name wherever the user stands.

The YAML files live in the project's top-level ``configs/`` folder; an install ships
them inside the package as ``dlexp/configs/`` (``pyproject.toml`` maps that package
folder to ``configs/``). :func:`folder` is whichever of the two exists: the checkout's
``configs/`` beside ``dlexp/`` (a checkout or an editable install), else the package's.

    config_path("baseline")        -> <folder>/baseline.yaml
    config_path("my/run.yaml")     -> my/run.yaml       (an existing file as given)
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
    """The bundled config ``name`` (``baseline`` or ``baseline.yaml``); a ConfigError
    listing the names if there is none."""
    stem = name[:-5] if name.endswith(".yaml") else name
    path = folder() / f"{stem}.yaml"
    if not path.is_file():
        raise ConfigError(f"no bundled config {name!r}; choose one of {', '.join(names())} "
                          "(or give the path of a YAML file)")
    return path


def config_path(value: str | Path) -> Path:
    """A config given on the command line: an existing file as it is, else a bundled
    config's name (``baseline``). A path to a missing file named like a bundled config
    (``configs/baseline.yaml`` from another folder) is a ConfigError naming the bundled
    one; any other missing file is returned for the loader to report."""
    path = Path(value)
    if path.exists():
        return path
    stem = path.name[:-5] if path.name.endswith(".yaml") else path.name
    if (folder() / f"{stem}.yaml").is_file():
        if path.name == stem:
            return folder() / f"{stem}.yaml"
        raise ConfigError(f"{value}: no such file here; the bundled config is "
                          f"{folder() / (stem + '.yaml')}: name it (`dlexp train {stem}`) "
                          f"or copy it out to edit (`dlexp configs copy {stem}`)")
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
