"""``dlexp reproduce``: every experiment of chapter 6 into one folder, then one report.

    <runs>/reproduce[-quick]-<time>/
        reproduce.json        mode (full or quick), the experiments and their commands
        <experiment>/         one sub-folder each (EXPERIMENTS); done.json once finished
        verdicts.json         per claim (claims.CLAIMS): verdict, numbers, reason, the
                              command that reruns it, its figures and seconds
        report.html, report.md   (written by :mod:`dlexp.plots.page` from these files)

Experiments run one after another with all the workers they can use, with the book's
options (``full``) or smaller budgets (``quick``). With ``book``, each preset that has the
book's script settings (:data:`book.BOOK`) runs again that way, into ``<experiment>-book/``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Sequence

from dlexp import book
from dlexp.errors import ConfigError
from dlexp.experiments import batchnorm, inits, optimizers, overfit, search_methods
from dlexp.experiments.activations import run_activations
from dlexp.experiments.claims import CLAIMS
from dlexp.experiments.paths import run_paths
from dlexp.experiments.report import load_base
from dlexp.experiments.step_sizes import run_adam_bias, run_step_fade
from dlexp.experiments.sweep import CompareOptions, Sweep, run_sweep
from dlexp.experiments.variants import seeds_for
from dlexp.fmt import say
from dlexp.io import read_json, write_json
from dlexp.train.rundir import new_run_dir, run_meta
from dlexp.train.signals import requested

NAME = "reproduce"
Options = dict[str, Any]
Draw = Callable[[str, Path], None]          # (experiment name, its folder): its figures


@dataclass(frozen=True)
class Experiment:
    name: str                                   # sub-folder and command name
    full: Options
    quick: Options
    run: Callable[[Path, Options, int | None, bool], None]   # (folder, options, jobs, resume)
    figures: tuple[str, ...]                    # PNGs, relative to the folder
    book: bool = False                          # run with the book's script settings

    @property
    def folder(self) -> str:
        return f"{self.name}-book" if self.book else self.name

    def options(self, quick: bool) -> Options:
        """The options it runs with; ``--book`` puts the book's overrides in ``set``."""
        opts = self.quick if quick else self.full
        return {**opts, "book": True, "set": book.with_book(
            self.name, opts.get("set", []), True)} if self.book else opts

    def command(self, quick: bool) -> str:
        """The command line that reruns it with the options used."""
        parts = [f"dlexp {self.name}" + (" --book" if self.book else "")]
        for key, value in (self.quick if quick else self.full).items():   # --set as given
            for v in value if isinstance(value, list) else [value]:
                parts.append(f"--{key.replace('_', '-')} {v}".strip())   # "": a flag
        return " ".join(parts)


def _sweep(config: str, plan: Callable[..., Sweep], *own: str):
    """A run function for the comparison preset ``plan`` on ``configs/<config>.yaml``
    (``own``: the options it is given): resumes its folder when it was started, prints no
    line per run, raises KeyboardInterrupt when stopped."""
    def run(folder: Path, opts: Options, jobs: int | None, resume: bool) -> None:
        length = CompareOptions(iterations=opts.get("iterations"), epochs=opts.get("epochs"))
        base = load_base(None, config, opts.get("set", []), length)
        sweep = plan(base, seeds_for(base, opts.get("seeds", 1)),
                     **{k: opts[k] for k in own if k in opts})
        started = resume and (folder / "compare.json").is_file()
        result = run_sweep(base, sweep, CompareOptions(
            jobs=jobs, quiet=True, out_dir=folder, resume=folder if started else None))
        if result.status == "interrupted" or result.signalled:
            raise KeyboardInterrupt
    return run


def _search_methods(folder: Path, opts: Options, jobs: int | None, resume: bool) -> None:
    base = load_base(None, search_methods.CONFIG, opts.get("set", []), CompareOptions())
    search_methods.run_search_methods(base, opts["side"], opts["searches"], jobs, into=folder)


CMP = ("plots/loss.png", "plots/val_accuracy.png")
TRAIN_VAL = ("plots/train_val_accuracy.png",)
# quick runs of the 300-image setup score 2,000 held-out images per epoch, not 10,000
QUICK_VAL = ["data.train_size=2300", "data.val_size=2000"]
QUICK_OVERFIT = {"seeds": 1, "epochs": 100, "set": QUICK_VAL}
EXPERIMENTS: tuple[Experiment, ...] = (
    Experiment("optimizer-paths", {}, {},
               lambda d, o, j, r: run_paths(into=d),
               ("plots/optimizer-paths.png",)),
    Experiment("compare-optimizers", {"seeds": 3}, {"seeds": 2, "iterations": 500},
               _sweep("compare-optimizers", optimizers.plan, "book"), CMP),
    Experiment("step-fade", {"iterations": 5000, "steps": 300},
               {"iterations": 1000, "steps": 300},
               lambda d, o, j, r: run_step_fade(d, o["iterations"], o["steps"],
                                                sets=o.get("set", [])),
               ("plots/step_fade.png",)),
    Experiment("adam-bias", {"iterations": 300, "steps": 30, "seeds": 3},
               {"iterations": 200, "steps": 30, "seeds": 2},
               lambda d, o, j, r: run_adam_bias(d, o["iterations"], o["steps"], o["seeds"],
                                                o.get("set", [])),
               ("plots/adam_bias.png",)),
    Experiment("lr-decay", {"seeds": 3},
               {"seeds": 1, "iterations": 600, "set": ["data.train_size=15000"]},
               _sweep("compare-optimizers", optimizers.decay_plan),
               ("plots/schedules.png", "plots/loss.png")),
    Experiment("activations", {"grid": ""}, {"grid": ""},
               lambda d, o, j, r: run_activations("sigmoid", "normal", grid=True, into=d),
               ("plots/activations.png",)),
    Experiment("compare-inits", {"seeds": 3}, {"seeds": 1, "iterations": 500},
               _sweep("compare-inits", inits.plan), CMP),
    Experiment("batchnorm", {"seeds": 3}, {"seeds": 1, "scales": 6, "epochs": 10},
               _sweep("batchnorm", batchnorm.plan, "scales"),
               ("plots/batchnorm_grid.png", "plots/batchnorm_summary.png")),
    Experiment("batchnorm-overfit", {"seeds": 3}, QUICK_OVERFIT,
               _sweep("overfit", overfit.bn_overfit_plan), TRAIN_VAL),
    Experiment("overfit-weight-decay", {"seeds": 3}, QUICK_OVERFIT,
               _sweep("overfit", overfit.decay_plan), TRAIN_VAL),
    Experiment("overfit-dropout", {"seeds": 3}, QUICK_OVERFIT,
               _sweep("overfit", overfit.dropout_plan), TRAIN_VAL),
    Experiment("ensemble", {}, {"members": 3, "epochs": 100, "set": QUICK_VAL},
               _sweep("overfit", overfit.ensemble_plan, "members"),
               ("plots/ensemble.png",)),
    Experiment("search-methods", {"side": 10, "searches": 5},
               {"side": 4, "searches": 5, "set": ["training.epochs=20"]},
               _search_methods, ("plots/search_methods.png",)),
)


def run_all(out: Path, quick: bool, jobs: int | None = None, resume: bool = False,
            experiments: Sequence[Experiment] = EXPERIMENTS, draw: Draw | None = None
            ) -> dict[str, float]:
    """Run every experiment not yet done, then ``draw(name, folder)`` its figures; returns
    each one's seconds (kept ones too)."""
    seconds = {}
    for k, e in enumerate(experiments, 1):
        folder, done = out / e.folder, out / e.folder / "done.json"
        if done.is_file():
            seconds[e.folder] = read_json(done)["seconds"]
            say(f"[{k}/{len(experiments)}] {e.folder}: kept (done earlier)")
            continue
        if requested():                            # Ctrl-C came: start nothing new
            raise KeyboardInterrupt
        say(f"[{k}/{len(experiments)}] {e.folder}: {e.command(quick)}")
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        e.run(folder, e.options(quick), jobs, resume)
        if requested():                            # stopped early: not done
            raise KeyboardInterrupt
        if draw is not None:
            draw(e.name, folder)
        seconds[e.folder] = round(time.perf_counter() - t0, 1)
        write_json(done, {"seconds": seconds[e.folder]})
        say(f"    done in {seconds[e.folder]:.0f} s")
    return seconds


def judge_all(out: Path, quick: bool, seconds: dict[str, float],
              experiments: Sequence[Experiment] = EXPERIMENTS) -> list[dict]:
    """Every claim's verdict from its experiment's files (once per setup it ran in, the
    standard first); written to verdicts.json."""
    rows = []
    for e in experiments:
        c = CLAIMS[e.name]
        try:
            v = c.judge(out / e.folder)
        except (OSError, KeyError, ValueError, TypeError) as err:     # files lack a number
            v = {"verdict": "differs", "measured": "—",
                 "reason": f"the rule could not be applied: {err!r}"}
        rows.append({"section": c.section, "claim": c.sentence, "rule": c.rule,
                     "experiment": e.folder, "setup": "book" if e.book else "standard",
                     **v, "command": e.command(quick),
                     "seconds": seconds.get(e.folder),
                     "figures": [f"{e.folder}/{f}" for f in e.figures]})
    write_json(out / "verdicts.json", rows)
    return rows


def reproduce(runs_root: Path = Path("runs"), quick: bool = False, jobs: int | None = None,
              resume: Path | None = None, experiments: Sequence[Experiment] = EXPERIMENTS,
              draw: Draw | None = None, book_too: bool = False) -> Path:
    """Run (or finish) the chapter, draw its figures and judge its claims; returns the
    folder (the report is written from it: :func:`dlexp.plots.page.write_report`)."""
    if resume is not None:
        if not (Path(resume) / "reproduce.json").is_file():
            raise ConfigError(f"--resume {resume}: not a reproduce folder (no reproduce.json)"
                              "; give the folder a `dlexp reproduce` run printed")
        out = Path(resume)
        info = read_json(out / "reproduce.json")
        quick, book_too = info["mode"] == "quick", info.get("book", False)
        say(f"resuming {out} ({info['mode']} mode{', with --book' if book_too else ''})")
    if book_too:                  # each preset with book settings, then its run in them
        experiments = tuple(t for e in experiments for t in (
            (e, replace(e, book=True)) if e.name in book.BOOK else (e,)))
    if resume is None:
        out = new_run_dir(Path(runs_root), f"{NAME}-quick" if quick else NAME)
        write_json(out / "meta.json", run_meta(time.time()))
        write_json(out / "reproduce.json", {
            "mode": "quick" if quick else "full", "book": book_too,
            "experiments": {e.folder: e.command(quick) for e in experiments}})
        say(f"reproduce folder: {out}")
    try:
        seconds = run_all(out, quick, jobs, resume is not None, experiments, draw)
    except KeyboardInterrupt:           # the CLI prints this line instead of "interrupted"
        raise KeyboardInterrupt(f"interrupted: to finish it, run dlexp reproduce --resume "
                                f"{out}") from None
    judge_all(out, quick, seconds, experiments)
    return out
