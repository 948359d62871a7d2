"""``dlexp reproduce`` on tiny data: every experiment runs, every claim gets a verdict
from its files, the report is one valid HTML page with every figure inside, and an
interrupted run resumes without redoing what is done."""

from __future__ import annotations

import dataclasses
import json
import shutil
import signal
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from dlexp.experiments.claims import CLAIMS, grade
from dlexp.experiments.reproduce import EXPERIMENTS, reproduce
from dlexp.plots.chapter import draw_experiment
from dlexp.plots.page import write_report

SMALL = ["data.val_size=40", "training.batch_size=32"]
OVERFIT = ["data.train_size=200", "data.val_size=100", "training.batch_size=25"]
TINY = {
    "optimizer-paths": {},
    "compare-optimizers": {"seeds": 2, "iterations": 15, "set": SMALL},
    "step-fade": {"iterations": 20, "steps": 30, "set": SMALL},
    "adam-bias": {"iterations": 15, "steps": 15, "seeds": 1, "set": SMALL},
    "lr-decay": {"seeds": 1, "iterations": 15, "set": SMALL},
    "activations": {"grid": ""},
    "compare-inits": {"seeds": 1, "iterations": 15, "set": SMALL},
    "batchnorm": {"seeds": 1, "scales": 2, "epochs": 2, "set": ["data.train_size=150"]},
    "batchnorm-overfit": {"seeds": 1, "epochs": 2, "set": OVERFIT},
    "overfit-weight-decay": {"seeds": 1, "epochs": 2, "set": OVERFIT},
    "overfit-dropout": {"seeds": 1, "epochs": 2, "set": OVERFIT},
    "ensemble": {"members": 2, "epochs": 2, "set": OVERFIT},
    "search-methods": {"side": 2, "searches": 2,
                       "set": ["data.train_size=150", "training.epochs=2",
                               "training.batch_size=25"]},
}
TINY_EXPERIMENTS = tuple(dataclasses.replace(e, quick=TINY[e.name]) for e in EXPERIMENTS)


class Page(HTMLParser):
    """Collects the images and the verdict badges of a report page."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.badges: list[str] = []
        self.open: list[str] = []
        self._badge = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.images.append(a.get("src", ""))
        elif tag == "span" and a.get("class") == "v":
            self._badge = True
        elif tag not in ("meta", "br"):
            self.open.append(tag)

    def handle_endtag(self, tag):
        if tag == "span" and self._badge:
            self._badge = False
            return
        assert self.open and self.open[-1] == tag, (tag, self.open[-3:])
        self.open.pop()

    def handle_data(self, data):
        if self._badge:
            self.badges.append(data)


@pytest.fixture(scope="module")
def tiny_report(tmp_path_factory) -> Path:
    """One quick reproduce run on tiny data (shared by the tests of this module)."""
    from tests.conftest import write_tiny_mnist
    root = tmp_path_factory.mktemp("reproduce")
    mp = pytest.MonkeyPatch()
    mp.setenv("DLEXP_DATA_DIR", str(write_tiny_mnist(root / "tiny_mnist")))
    try:
        out = reproduce(root / "runs", quick=True, jobs=1, experiments=TINY_EXPERIMENTS,
                        draw=draw_experiment)
        write_report(out)
        yield out
    finally:
        mp.undo()


def test_the_report_is_valid_html_with_every_figure_and_a_verdict_per_claim(tiny_report):
    page = Page()
    page.feed((tiny_report / "report.html").read_text())
    page.close()
    assert page.open[:1] == ["html"] or page.open == []      # every tag closed in order
    rows = json.loads((tiny_report / "verdicts.json").read_text())
    assert [r["claim"] for r in rows] == [c.sentence for c in CLAIMS.values()]
    assert all(r["verdict"] in ("holds", "partly", "differs") for r in rows)
    assert all(r["reason"] for r in rows if r["verdict"] != "holds")
    assert not any("could not be applied" in r["reason"] for r in rows), rows
    figures = [f for r in rows for f in r["figures"]]
    assert len(figures) >= len(CLAIMS)
    assert all((tiny_report / f).is_file() for f in figures)
    assert len(page.images) == len(figures)
    for src, f in zip(page.images, figures):
        import base64
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]) == (tiny_report / f).read_bytes()
    # a badge per claim in the table and one in its section
    assert page.badges == [r["verdict"] for r in rows] * 2
    md = (tiny_report / "report.md").read_text()
    assert all(r["claim"] in md and r["command"] in md for r in rows)
    assert "QUICK" in md


def test_verdict_rule_grades_by_the_checks_that_pass():
    assert grade([(True, "a"), (True, "b")], "m")["verdict"] == "holds"
    v = grade([(True, "a"), (False, "b")], "m")
    assert (v["verdict"], v["reason"]) == ("partly", "not so: b")
    assert grade([(False, "a"), (False, "b")], "m")["verdict"] == "differs"


@pytest.mark.parametrize("stop_in", ["step-fade", "overfit-dropout"])
def test_ctrl_c_then_resume_runs_only_what_is_missing(tiny_data_env, tmp_path, stop_in):
    """Ctrl-C during an experiment stops it (a comparison, or the step-fade loop) and
    starts nothing new; --resume keeps what finished and runs the rest."""
    from dlexp.train.signals import stoppable
    calls: list[str] = []

    def counted(e, stop_at: str | None):
        def run(folder, opts, jobs, resume):
            calls.append(e.name)
            if e.name == stop_at:
                signal.raise_signal(signal.SIGINT)        # as a Ctrl-C at its start
            e.run(folder, opts, jobs, resume)
        return dataclasses.replace(e, run=run)

    names = ("optimizer-paths", "step-fade", "overfit-dropout", "adam-bias")
    few = [e for e in TINY_EXPERIMENTS if e.name in names]
    with stoppable(), pytest.raises(KeyboardInterrupt) as ended:
        reproduce(tmp_path / "runs", quick=True, jobs=1,
                  experiments=[counted(e, stop_in) for e in few], draw=draw_experiment)
    (out,) = (tmp_path / "runs").iterdir()
    assert str(ended.value) == f"interrupted: to finish it, run dlexp reproduce --resume {out}"
    stopped = [e.name for e in few].index(stop_in)
    assert calls == [e.name for e in few][:stopped + 1]          # nothing after it started
    assert not (out / stop_in / "done.json").exists()
    assert not (out / "verdicts.json").exists()
    calls.clear()
    reproduce(resume=out, jobs=1, experiments=[counted(e, None) for e in few],
              draw=draw_experiment)
    assert calls == [e.name for e in few][stopped:]
    rows = json.loads((out / "verdicts.json").read_text())
    assert len(rows) == len(few)
    assert all(r["verdict"] in ("holds", "partly", "differs") for r in rows)
    assert not any("could not be applied" in r["reason"] for r in rows), rows


CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium"
                                        if Path("/usr/bin/chromium").exists() else None)


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")
def test_headless_chromium_renders_the_report(tiny_report, tmp_path):
    import matplotlib.image
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'p'}",
                    f"--screenshot={shot}", "--window-size=1200,1600",
                    (tiny_report / "report.html").as_uri()],
                   check=True, capture_output=True, timeout=120)
    pixels = matplotlib.image.imread(shot)[..., :3]                # (H, W, 3)
    assert pixels.shape[:2] == (1600, 1200)
    assert pixels.std() > 0.05                                     # text and figures, not blank
    assert (pixels.min(axis=2) > 0.95).mean() > 0.3                # a white page behind them
    assert np.any(pixels.max(axis=2) < 0.3)                        # dark text on it


def test_book_runs_each_preset_again_in_the_book_setup_and_reports_both(tiny_data_env,
                                                                        tmp_path):
    """--book: a preset with the book's script settings runs a second time in them (its
    own folder, the book's overrides in every resolved config) and each of its claims
    gets a verdict per setup, standard first; a resumed folder keeps --book."""
    import yaml
    names = ("optimizer-paths", "compare-optimizers", "overfit-dropout")
    few = [e for e in TINY_EXPERIMENTS if e.name in names]
    out = reproduce(tmp_path / "runs", quick=True, jobs=1, experiments=few,
                    draw=draw_experiment, book_too=True)
    assert not (out / "optimizer-paths-book").exists()       # no book settings: once
    resolved = {}
    for name in ("compare-optimizers", "overfit-dropout"):
        for setup in (name, f"{name}-book"):
            assert (out / setup / "done.json").is_file()
            configs = sorted((out / setup).rglob("config.yaml"))
            assert configs
            resolved[setup] = [yaml.safe_load(p.read_text()) for p in configs]
    for cfg in resolved["overfit-dropout-book"]:
        assert cfg["training"]["sampling"] == "with_replacement"
        assert cfg["training"]["record_loss"] == "after_update"
        assert cfg["model"]["dropout_mode"] == "book"
    for cfg in resolved["overfit-dropout"]:
        assert cfg["model"]["dropout_mode"] == "inverted"
    opt_names = {c["optimizer"]["name"] for c in resolved["compare-optimizers-book"]}
    assert "adam_book" in opt_names and "adam" not in opt_names
    rows = json.loads((out / "verdicts.json").read_text())
    expected = [(CLAIMS[name].sentence, s) for name in names
                for s in (("standard",) if name == "optimizer-paths" else ("standard", "book"))]
    assert [(r["claim"], r["setup"]) for r in rows] == expected
    assert all(("--book" in r["command"]) == (r["setup"] == "book") for r in rows)
    assert not any("could not be applied" in r["reason"] for r in rows), rows
    write_report(out)
    import html
    assert "the book's script setup (--book)" in html.unescape(
        (out / "report.html").read_text())
    reproduce(resume=out, jobs=1, experiments=few, draw=draw_experiment)
    assert len(json.loads((out / "verdicts.json").read_text())) == len(expected)
