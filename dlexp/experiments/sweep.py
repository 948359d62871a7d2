"""The sweep: a grid of config variants × seeds, trained in worker processes
(:mod:`~dlexp.experiments.pool`), side by side in one folder.

    <runs_dir>/<name>-<time>/
        meta.json, compare.json   versions; name, base config, variants, options
        runs.jsonl        one line per sub-run as it ends (what --resume keeps)
        runs.csv          label, seed, run, <keys>, status, error, steps, final_train_loss,
                          best_val_acc, final_val_acc, test_acc, train_seconds
        <run>/            a `dlexp train` folder per variant × seed
        loss.csv  val_accuracy.csv  train_accuracy.csv  summary.csv   (aggregate.py)
        summary.json      overall status, runs per status;  plots/  the figures

A sub-run ends ``completed``, ``diverged``, ``failed``, ``interrupted`` or ``skipped``; the
sweep is ``interrupted`` if any was, else ``completed`` when all completed or ended in
``expected``, else ``failed``. ``--resume`` keeps the finished sub-runs and reruns the rest.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence

from dlexp.config import Config, config_to_dict
from dlexp.config_checks import check_run_name
from dlexp.data.mnist import locate_mnist
from dlexp.errors import ConfigError
from dlexp.experiments.aggregate import CompareResult, aggregate_compare, write_table
from dlexp.experiments import pool
from dlexp.experiments.tables import comparison_loss_name, run_line
from dlexp.experiments.variants import Variant, optimizer_notes, variant_config
from dlexp.fmt import say
from dlexp.io import (append_jsonl, as_stored, folder_lock, read_jsonl, read_record,
                      write_json)
from dlexp.train import signals
from dlexp.train.progress import RunsTicker, unfinished_runs
from dlexp.train.rundir import finish_meta, new_run_dir, run_meta

SPEC_SHAPE = {"name": str, "base": dict, "variants": list, "label_column": str,
              "window": int, "keys": list}
# What the user changed, for each field of compare.json that differs on --resume.
SPEC_OPTIONS = {"name": "--name or command", "label_column": "--name or command",
                "base": "base config (--config, --set, --iterations, --epochs)",
                "variants": "set of runs (--vary, --seeds, the command's options)",
                "keys": "set of runs (--vary, --seeds, the command's options)",
                "window": "--smooth"}


@dataclass(frozen=True)
class CompareOptions:
    """How to run a sweep: the options every comparison command takes."""

    iterations: int | None = None         # updates per run …
    epochs: int | None = None             # … or epochs (at most one of the two)
    seeds: int = 1                        # seeds per variant: base seed, +1, …
    smooth: int = 50                      # span of the smoothed loss, in updates
    name: str | None = None               # folder name (None: the sweep's)
    jobs: int | None = None               # worker processes (None: all cores)
    runs_dir: Path = Path("runs")
    band: str = "minmax"                  # minmax or std
    quiet: bool = False                   # no progress line per finished run
    resume: Path | None = None            # an interrupted sweep's folder to finish
    draw: Optional[Callable[[Sequence[str], Path, str, bool], Any]] = None   # figures
    out_dir: Path | None = None           # the folder itself (None: a new one)

    def length_overrides(self) -> list[str]:
        """``--iterations`` / ``--epochs`` as ``--set`` overrides."""
        if self.iterations is not None and self.epochs is not None:
            raise ConfigError("--iterations and --epochs: give one of them, not both")
        if self.epochs is not None:
            return [f"training.epochs={self.epochs}", "training.iterations=null"]
        return [] if self.iterations is None else [f"training.iterations={self.iterations}"]


@dataclass(frozen=True)
class Sweep:
    """What to run and what to make of it."""

    name: str                                         # default folder name
    variants: Sequence[Variant]
    label_column: str = "variant"                     # the summary's first column
    report_keys: Sequence[str] = ()                   # config keys shown per variant
    expected: Sequence[str] = ()                      # statuses that are a result
    analyse: Sequence[Callable[["CompareResult"], "CompareResult"]] = ()
    figures: Sequence[str] = ("comparison", "sub_runs")   # names ``draw`` knows
    columns: Sequence[str] | None = None              # printed (None: defaults; (): none)
    report: Callable[["CompareResult"], None] | None = None   # printed after the table
    lr_hint: str = "vary it with --vary optimizer.lr=…"   # in the shared-lr note


def run_sweep(base: Mapping | Config, sweep: Sweep, opts: CompareOptions) -> CompareResult:
    """Train every variant, write the folder, analyse and draw (module docstring)."""
    names, configs, keys, spec = _check(base, sweep, opts)
    if opts.resume is not None:
        kept_runs(opts.resume, spec, sweep.expected)       # refuses another comparison
    locate_mnist()                     # find or download once, before workers start
    started = time.time()
    out_dir = Path(opts.resume) if opts.resume else (
        opts.out_dir or new_run_dir(Path(opts.runs_dir), opts.name or sweep.name))
    out_dir.mkdir(parents=True, exist_ok=True)
    # One process at a time in the folder (a refused one changes nothing).
    with folder_lock(out_dir, "comparison"), signals.stoppable():
        kept = _start(out_dir, base, sweep, opts, names, spec)
        meta = [{"label": v.label, "seed": c.seed, "run": v.run_name,
                 **{k: _lookup(config_to_dict(c), k) for k in keys}}
                for v, c in zip(sweep.variants, configs)]
        todo = [i for i, n in enumerate(names) if n not in kept]
        live = None if opts.quiet else RunsTicker(   # done/running/failed, wall times
            len(names), lambda: unfinished_runs(out_dir), len(kept)).start()
        loss = comparison_loss_name(configs)           # one label for every run

        def done(j: int, outcome: dict) -> None:
            kept[names[todo[j]]] = record = {**meta[todo[j]], **outcome}
            append_jsonl(out_dir / "runs.jsonl", record)
            if live is not None:                      # counted, then its line and times
                live.finished(record["status"])
                say(f"[{live.done}/{len(names)}] {record['run']}: "
                    f"{run_line(record, loss)} ({live.times()})")

        try:
            pool.execute(pool.run_one, [(configs[i], out_dir / names[i]) for i in todo],
                         opts.jobs, done)
        finally:
            if live is not None:
                live.stop()
        runs = [{**m, **kept[n]} for m, n in zip(meta, names)]
        return _finish(out_dir, sweep, opts, runs, keys, started)


def _check(base: Mapping | Config, sweep: Sweep, opts: CompareOptions
           ) -> tuple[list[str], list[Config], list[str], dict]:
    """The run names, every variant's validated config, the config keys shown (the varied
    ones, ``optimizer.lr`` whenever ``optimizer.name`` varies, report_keys), compare.json."""
    if not sweep.variants:
        raise ConfigError("nothing to compare: no variants")
    check_run_name(opts.name or sweep.name)
    names = [v.run_name for v in sweep.variants]   # checked as config names: safe folders
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"two variants share the run name {dupes[0]!r}; a value is given "
                          "twice: remove the duplicate")
    configs = [variant_config(base, v) for v in sweep.variants]
    varied = [k for v in sweep.variants for k in v.overrides]
    lr = ["optimizer.lr"] if "optimizer.name" in varied else []
    keys = [k for k in dict.fromkeys(varied + lr + list(sweep.report_keys))
            if k not in ("seed", "name")]
    spec = {"name": sweep.name,
            "base": config_to_dict(base) if isinstance(base, Config) else dict(base),
            "variants": [{"label": v.label, "overrides": dict(v.overrides), "seed": v.seed,
                          "run": v.run_name} for v in sweep.variants],
            "label_column": sweep.label_column, "window": opts.smooth, "keys": keys}
    return names, configs, keys, spec


def _start(out_dir: Path, base: Mapping | Config, sweep: Sweep, opts: CompareOptions,
           names: list[str], spec: dict) -> dict[str, dict]:
    """Write a new folder's spec, or clear a resumed one's unfinished runs; print the
    notes and the folder. The runs kept (name → outcome)."""
    kept: dict[str, dict] = {}
    if opts.resume is not None:
        kept = kept_runs(out_dir, spec, sweep.expected)   # as it is now that we hold it
        for name in names:                                # what an unfinished run left
            if name not in kept and (out_dir / name).is_dir():
                shutil.rmtree(out_dir / name)
    else:
        write_json(out_dir / "meta.json", run_meta(time.time()))
        write_json(out_dir / "compare.json", spec)
    for note in optimizer_notes(base, sweep.variants, sweep.lr_hint):
        say(note)
    say(f"resuming {out_dir}: {len(kept)} of {len(names)} runs already finished"
        if opts.resume else f"comparison folder: {out_dir}")
    return kept


def _finish(out_dir: Path, sweep: Sweep, opts: CompareOptions, runs: list[dict],
            keys: list[str], started: float) -> CompareResult:
    """runs.csv, the CSVs, summary.json, then the analyses and figures."""
    write_table(out_dir / "runs.csv", runs,
                ["label", "seed", "run", *keys, "status", "error", *pool.SUMMARY_KEYS])
    summary = aggregate_compare(out_dir, runs, opts.smooth, sweep.label_column, keys)
    statuses = {r["status"] for r in runs}
    status = ("interrupted" if statuses & {"interrupted", "skipped"} else
              "completed" if statuses <= {"completed", *sweep.expected} else "failed")
    write_json(out_dir / "summary.json", {
        "status": status, "runs": len(runs),
        "statuses": dict(Counter(r["status"] for r in runs)),
        "expected": list(sweep.expected), "seconds": round(time.time() - started, 3),
        "not_completed": {r["run"]: r["status"] for r in runs if r["status"] != "completed"}})
    if status != "interrupted":
        finish_meta(out_dir)
    result = CompareResult(out_dir, status, runs, summary)
    interrupted = status == "interrupted"
    for analyse in () if interrupted else sweep.analyse:
        result = analyse(result)
    if opts.draw is not None:
        opts.draw(sweep.figures, out_dir, opts.band, interrupted)
    late = bool(signals.requested()) and not interrupted       # came after training
    return dataclasses.replace(result, signalled=late)


def _lookup(raw: Any, key: str) -> Any:
    for part in key.split("."):
        raw = raw.get(part) if isinstance(raw, Mapping) else None
    return raw


def kept_runs(out_dir: Path, spec: dict, expected: Sequence[str]) -> dict[str, dict]:
    """The finished sub-runs (by name) of the comparison in ``out_dir``: the last line of
    runs.jsonl says ``completed`` or an ``expected`` status, and the folder is there.
    ConfigError if ``out_dir`` is not a comparison or was started with other settings."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise ConfigError(f"--resume {out_dir}: no such folder; the comparison printed its "
                          "folder, and `dlexp runs` lists them")
    if not (out_dir / "compare.json").is_file():
        raise ConfigError(f"--resume {out_dir}: not a comparison folder (no compare.json); "
                          "`dlexp runs` lists them")
    stored = read_record(out_dir / "compare.json", SPEC_SHAPE, "comparison record")
    wanted = as_stored(spec)                               # tuples → lists, as stored
    differ = list(dict.fromkeys(SPEC_OPTIONS[k] for k in wanted
                                if stored.get(k) != wanted[k]))
    if differ:
        raise ConfigError(f"--resume {out_dir}: that comparison was started with another "
                          f"{' and another '.join(differ)}; resume it with the command and "
                          "options that started it, or start a new one")
    last = {r["run"]: r for r in read_jsonl(out_dir / "runs.jsonl",
                                            {"run": str, "status": str})}
    return {name: r for name, r in last.items()
            if r.get("status") in ("completed", *expected) and (out_dir / name).is_dir()}
