"""README and docs/: short enough to read, links and figures that exist, commands that
parse, and the test command CI runs."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
PAGES = {p: p.read_text(encoding="utf-8")
         for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]}


def test_the_readme_is_short_enough_to_read_top_to_bottom():
    assert len(README.splitlines()) <= 300


@pytest.mark.parametrize("page", list(PAGES), ids=lambda p: p.name)
def test_every_linked_file_and_figure_exists(page):
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", PAGES[page]):
        if not target.startswith(("http://", "https://")):
            assert (page.parent / target).exists(), f"{page.name}: {target}"


def test_the_readme_test_command_is_what_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = [line for line in ci.splitlines() if line.strip() and not line.startswith("#")][-1]
    assert command == "python -m pytest -q"
    assert f"&& {command}\n" in README


def _readme_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", README, flags=re.S)
    lines = [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line.startswith("dlexp ")]


@pytest.mark.parametrize("line", _readme_commands())
def test_every_dlexp_command_in_the_readme_parses(cli, line):
    """Its command and options exist: it parses up to -h, which stops before running."""
    res = cli(*shlex.split(line)[1:], "-h")
    assert res.exit_code == 0, (line, res.output)
