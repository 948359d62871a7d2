"""Bundled configs found by name from any folder, listed and copied out; also after a
non-editable install (the configs are package data)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dlexp.bundled import bundled, config_path, folder, names

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = {"baseline", "batchnorm", "compare-inits", "compare-optimizers", "overfit",
            "search"}


def test_every_file_in_configs_is_bundled_by_name():
    assert set(names()) == {p.stem for p in (ROOT / "configs").glob("*.yaml")} >= EXPECTED
    assert bundled("baseline") == bundled("baseline.yaml") == folder() / "baseline.yaml"


def test_a_name_an_existing_file_and_a_missing_one(tmp_path, monkeypatch, cli):
    monkeypatch.chdir(tmp_path)
    assert config_path("baseline") == folder() / "baseline.yaml"
    (tmp_path / "baseline").write_text("name: mine\n")           # a file wins over a name
    assert config_path("baseline") == Path("baseline")
    assert config_path("mine.yaml") == Path("mine.yaml")           # the loader reports it
    line = cli.one_line_error(cli("train", "configs/search.yaml"))
    assert str(folder() / "search.yaml") in line and "dlexp train search" in line
    line = cli.one_line_error(cli("train", "basline"))
    assert "neither a file nor a bundled config" in line and "baseline" in line


def test_train_takes_a_bundled_name_from_another_folder(tmp_path, monkeypatch, cli):
    monkeypatch.chdir(tmp_path)
    res = cli("train", "baseline", "--print-config", "--set", "training.epochs=1")
    assert res.exit_code == 0, res.output
    assert "name: baseline" in res.stdout and "epochs: 1" in res.stdout


def test_search_methods_takes_a_bundled_name_as_its_config(tmp_path, monkeypatch, cli):
    monkeypatch.chdir(tmp_path)                  # baseline is found, and has no search:
    line = cli.one_line_error(cli("search-methods", "--config", "baseline", "--runs-dir", "r"))
    assert "no search: section" in line and not (tmp_path / "r").exists()


def test_configs_lists_shows_and_copies_without_overwriting(tmp_path, monkeypatch, cli):
    monkeypatch.chdir(tmp_path)
    listing = cli("configs")
    assert listing.exit_code == 0 and all(n in listing.stdout for n in EXPECTED)
    assert cli("configs", "show", "search").stdout == bundled("search").read_text()
    res = cli("configs", "copy", "baseline")
    assert res.exit_code == 0 and res.stdout.strip() == "baseline.yaml"
    assert (tmp_path / "baseline.yaml").read_text() == bundled("baseline").read_text()
    assert "already exists" in cli.one_line_error(cli("configs", "copy", "baseline"))
    (tmp_path / "sub").mkdir()
    assert cli("configs", "copy", "overfit", "sub").stdout.strip() == str(Path("sub/overfit.yaml"))
    assert "choose one of" in cli.one_line_error(cli("configs", "copy", "nope"))


def test_a_non_editable_install_ships_the_configs(tmp_path):
    """`pip install .` (no -e) into a folder: the configs come with the package."""
    src = tmp_path / "src"
    for part in ("dlexp", "configs"):
        shutil.copytree(ROOT / part, src / part,
                        ignore=shutil.ignore_patterns("__pycache__"))
    for part in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / part, src / part)
    target = tmp_path / "site"
    res = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                          "--no-build-isolation", "--no-index", "--target", str(target),
                          str(src)], capture_output=True, text=True, timeout=300)
    if res.returncode != 0 and "setuptools" in res.stderr:
        pytest.skip("no setuptools to build with")
    assert res.returncode == 0, res.stderr
    shutil.rmtree(src)                                   # nothing left to find by accident
    packages = {p.parent.relative_to(ROOT) for p in (ROOT / "dlexp").rglob("__init__.py")}
    assert all((target / p / "__init__.py").is_file() for p in packages), \
        "a package is missing from pyproject's [tool.setuptools] packages"
    probe = ("import sys; sys.path.insert(0, sys.argv[1])\n"
             "from dlexp.bundled import bundled, names\n"
             "print(bundled('baseline')); print(','.join(names()))\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    res = subprocess.run([sys.executable, "-I", "-c", probe, str(target)], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    where, listed = res.stdout.split()
    assert Path(where) == target / "dlexp" / "configs" / "baseline.yaml"
    assert set(listed.split(",")) >= EXPECTED
