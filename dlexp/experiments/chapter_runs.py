"""Every experiment of chapter 6, as ``dlexp reproduce`` runs it: a name (its sub-folder),
the command and options that rerun it, and a function that runs it into a given folder.

Options are the book's settings (``full``) or smaller budgets (``quick``); the same
dict gives the command line printed in the report, so the command shown is the one run.
A comparison reuses its folder on resume (:func:`~dlexp.experiments.sweep.run_sweep`
keeps the finished sub-runs); a search-methods folder keeps its finished searches.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from dlexp.config import apply_overrides, read_yaml_mapping
from dlexp.experiments import (batchnorm, bn_overfit, book, ensemble, inits, lr_decay,
                               optimizers, overfit, search_methods)
from dlexp.experiments.activations import run_activations
from dlexp.experiments.adam_bias import run_adam_bias
from dlexp.experiments.paths import run_paths, save_paths
from dlexp.experiments.report import load_base
from dlexp.experiments.step_fade import run_step_fade
from dlexp.experiments.sweep import CompareOptions, Sweep, preset_config, run_sweep
from dlexp.experiments.variants import seeds_for

Options = dict[str, Any]


@dataclass(frozen=True)
class Experiment:
    name: str                                   # sub-folder and command name
    full: Options
    quick: Options
    run: Callable[[Path, Options, int | None, bool], None]   # (folder, options, jobs, resume)
    figures: tuple[str, ...]                    # PNGs, relative to the folder

    def command(self, quick: bool) -> str:
        """The command line that reruns it with the options used."""
        opts = self.quick if quick else self.full
        parts = [f"dlexp {self.name}"]
        for key, value in opts.items():
            for v in value if isinstance(value, list) else [value]:
                parts.append(f"--{key.replace('_', '-')} {v}".strip())   # "": a flag
        return " ".join(parts)


def run_plan(base: dict, plan: Sweep, folder: Path, jobs: int | None, resume: bool) -> None:
    """Run a preset's sweep into ``folder`` (resuming it when it was started), with its
    analyses, without a line per run (figures are drawn from the files afterwards, by
    the plots layer)."""
    started = (folder / "compare.json").is_file()
    result = run_sweep(base, plan, CompareOptions(
        jobs=jobs, quiet=True, out_dir=folder, resume=folder if resume and started else None))
    if result.status == "interrupted" or result.signalled:
        raise KeyboardInterrupt


def _compare(preset_config: str, make_plan: Callable[[dict, Options, Any], Sweep]):
    """A run function for a comparison preset on ``configs/<preset_config>.yaml``."""
    def run(folder: Path, opts: Options, jobs: int | None, resume: bool) -> None:
        length = CompareOptions(iterations=opts.get("iterations"), epochs=opts.get("epochs"))
        base = load_base(None, preset_config, opts.get("set", []), length)
        seeds = seeds_for(base, opts.get("seeds", 1))
        run_plan(base, make_plan(base, opts, seeds), folder, jobs, resume)
    return run


def _optimizers(base, opts, seeds):
    return optimizers.plan(optimizers.parse_optimizers(book.OPTIMIZERS), {}, seeds, base)


def _inits(base, opts, seeds):
    return inits.plan(inits.parse_inits(book.INITS), seeds)


def _batchnorm(base, opts, seeds):
    scales = batchnorm.weight_scales(opts.get("scales", book.WEIGHT_SCALES))
    return batchnorm.plan(scales, book.BN_TARGET, seeds)


def _decay(base, opts, seeds):
    l2 = overfit.parse_values(book.L2, "--l2")
    return overfit.plan(overfit.DECAY, overfit.decay_variants(l2, (), seeds))


def _dropout(base, opts, seeds):
    rates = overfit.parse_values(book.DROPOUTS, "--dropout")
    return overfit.plan(overfit.DROPOUT, overfit.dropout_variants(rates, seeds))


def _ensemble(base, opts, seeds):
    members = opts.get("members", book.ENSEMBLE_MEMBERS)
    return ensemble.plan(base, members, book.ENSEMBLE_DROPOUT)


def _lr_decay(base, opts, seeds):
    return lr_decay.plan(base, seeds)


def _bn_overfit(base, opts, seeds):
    return bn_overfit.plan(seeds)


def _paths(folder: Path, opts: Options, jobs: int | None, resume: bool) -> None:
    run_dir = save_paths(run_paths("anisotropic"), folder)
    for name in ("paths.json", "paths.csv", "meta.json"):      # into the folder itself
        (run_dir / name).replace(folder / name)
    run_dir.rmdir()


def _activations(folder: Path, opts: Options, jobs: int | None, resume: bool) -> None:
    run_dir = run_activations("sigmoid", "normal", grid=True, runs_root=folder).dir
    for name in ("activations.json", "histograms.csv", "stats.csv", "meta.json"):
        (run_dir / name).replace(folder / name)
    run_dir.rmdir()


def _step_fade(folder: Path, opts: Options, jobs: int | None, resume: bool) -> None:
    run_step_fade(folder, opts["iterations"], opts["steps"], sets=opts.get("set", []))


def _adam_bias(folder: Path, opts: Options, jobs: int | None, resume: bool) -> None:
    run_adam_bias(folder, opts["iterations"], opts["steps"], opts["seeds"], opts.get("set", []))


def _search_methods(folder: Path, opts: Options, jobs: int | None, resume: bool) -> None:
    base = apply_overrides(read_yaml_mapping(preset_config(search_methods.CONFIG)),
                           opts.get("set", []))
    search_methods.run_search_methods(folder, base, opts["side"], opts["searches"], jobs)


CMP = ("plots/loss.png", "plots/val_accuracy.png")
# quick runs of the 300-image setup score 2,000 held-out images per epoch, not 10,000
QUICK_VAL = ["data.train_size=2300", "data.val_size=2000"]
EXPERIMENTS: tuple[Experiment, ...] = (
    Experiment("optimizer-paths", {}, {}, _paths, ("plots/optimizer-paths.png",)),
    Experiment("compare-optimizers", {"seeds": 3}, {"seeds": 2, "iterations": 500},
               _compare("compare-optimizers", _optimizers), CMP),
    Experiment("step-fade", {"iterations": 5000, "steps": 300},
               {"iterations": 1000, "steps": 300}, _step_fade, ("plots/step_fade.png",)),
    Experiment("adam-bias", {"iterations": 300, "steps": 30, "seeds": 3},
               {"iterations": 200, "steps": 30, "seeds": 2}, _adam_bias,
               ("plots/adam_bias.png",)),
    Experiment("lr-decay", {"seeds": 3},
               {"seeds": 1, "iterations": 600, "set": ["data.train_size=15000"]},
               _compare("compare-optimizers", _lr_decay),
               ("plots/schedules.png", "plots/loss.png")),
    Experiment("activations", {"grid": ""}, {"grid": ""}, _activations,
               ("plots/activations.png",)),
    Experiment("compare-inits", {"seeds": 3}, {"seeds": 1, "iterations": 500},
               _compare("compare-inits", _inits), CMP),
    Experiment("batchnorm", {"seeds": 3}, {"seeds": 1, "scales": 6, "epochs": 10},
               _compare("batchnorm", _batchnorm),
               ("plots/batchnorm_grid.png", "plots/batchnorm_summary.png")),
    Experiment("batchnorm-overfit", {"seeds": 3}, {"seeds": 1, "epochs": 100, "set": QUICK_VAL},
               _compare("overfit", _bn_overfit), ("plots/train_val_accuracy.png",)),
    Experiment("overfit-weight-decay", {"seeds": 3}, {"seeds": 1, "epochs": 100, "set": QUICK_VAL},
               _compare("overfit", _decay), ("plots/train_val_accuracy.png",)),
    Experiment("overfit-dropout", {"seeds": 3}, {"seeds": 1, "epochs": 100, "set": QUICK_VAL},
               _compare("overfit", _dropout), ("plots/train_val_accuracy.png",)),
    Experiment("ensemble", {}, {"members": 3, "epochs": 100, "set": QUICK_VAL},
               _compare("overfit", _ensemble), ("plots/ensemble.png",)),
    Experiment("search-methods", {"side": 10, "searches": 5},
               {"side": 4, "searches": 5, "set": ["training.epochs=20"]},
               _search_methods, ("plots/search_methods.png",)),
)
