"""Comparisons: one base config, several variants of it, every variant trained by
:func:`~dlexp.train.runner.train_run`, side by side in one parent run folder.

Every comparison in dlexp — ``dlexp compare``, ``compare-optimizers``, and the presets
built on it (initialisers, batch norm × weight scale, regularisation) — is this module
with a base config and a list of :class:`Variant`:

    from dlexp.experiments.compare import run_compare       # grid: experiments.variants
    from dlexp.config import read_yaml_mapping
    base = read_yaml_mapping("configs/compare-optimizers.yaml")   # raw: unset keys default
    variants = grid({"optimizer.name": ["sgd", "adam"]}, seeds=[0, 1, 2])
    result = run_compare(base, variants, runs_root=Path("runs"), name="my-compare", jobs=2)
    result.status, result.failed, result.summary       # and the files below

A :class:`Variant` is ``(label, overrides, seed)``: ``overrides`` maps dotted config keys
to values (``{"model.init_std": 0.01, "model.batchnorm": True}``), runs with the same
``label`` are seeds of one variant (one curve, one summary row), and ``seed`` replaces
the base seed (None keeps it). Variants may be made by hand with any labels;
:func:`~dlexp.experiments.variants.grid` makes the Cartesian product of
``{key: [values]}`` × seeds, and :func:`~dlexp.experiments.variants.parse_vary` reads
``--vary key=v1,v2`` options into that mapping.

A variant's config is the base mapping with its overrides set, read by
:func:`~dlexp.config.config_from_dict`, so everything is validated — all of them before
anything runs (a bad key or value is a ``ConfigError``, exit 2). Pass the base as the
*raw* mapping to let unset keys take their defaults per variant: with no
``optimizer.lr`` every optimiser gets its own default rate (0.01; Adam 0.001). When a
variant changes ``optimizer.name``, base optimiser settings that the new optimiser does
not have (``beta1`` for SGD, …) are dropped; the ones it has are kept.

Layout (sub-runs are ordinary ``dlexp train`` run folders)::

    <runs_root>/<name>-<time>/
        meta.json, compare.json   command/versions; name, base config, variants, options
        runs.jsonl        one line per sub-run as it finishes (crash-safe progress)
        runs.csv          one row per sub-run: label, seed, run, <keys>, status, error,
                          steps, final_train_loss, best_val_acc, final_val_acc, test_acc,
                          train_seconds
        <label>[-seed<k>]/   config.yaml metrics.jsonl steps.csv summary.json model.npz
        loss.csv  val_accuracy.csv  summary.csv   (see :mod:`dlexp.experiments.aggregate`)
        summary.json      overall status and the runs that did not complete
        plots/            written by :func:`dlexp.plots.compare.plot_compare`

``<keys>`` are the varied keys plus ``report_keys``, with each run's *resolved* value
(e.g. ``optimizer.lr`` as the optimiser's default filled it in); summary.csv carries them
too, so a preset can plot a metric against a varied value (accuracy vs weight scale)
straight from summary.csv; when ``optimizer.name`` is varied, ``optimizer.lr`` is always
among them. A sub-run's status is ``completed``, ``diverged`` (the loss became NaN/inf),
``failed`` (it raised; the error is in runs.csv), ``interrupted`` or ``skipped`` (never
started: Ctrl-C came first); the comparison's is ``interrupted`` (any was), else
``completed`` when every run completed or ended in one of the ``expected`` statuses (the
``batchnorm`` preset expects plain networks to diverge: that is its result), else
``failed``. summary.json counts the sub-runs per status.

Sub-runs run in ``jobs`` worker processes (:mod:`dlexp.experiments.pool`), BLAS pinned
to one thread each, so the numbers equal a serial run's (``jobs=1``). A run that
diverges or raises is recorded with its status and the others go on; Ctrl-C stops all
runs, leaves each sub-run folder valid (status ``interrupted``) and writes the summary.

Writing a preset (as ``compare-optimizers`` does, :mod:`dlexp.experiments.optimizers`):
put its base in ``configs/<preset>.yaml`` (find it with :func:`preset_config`), build
its variants — ``grid({"model.init_std": scales, "model.batchnorm": [True, False]},
seeds)`` or ``seeded`` for each of your own labels — and from its CLI command call
:func:`dlexp.experiments.report.run_and_report` (runs this, plots, prints the table,
returns the exit code). Extra figures read the CSVs above.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from dlexp.config import Config, config_to_dict
from dlexp.config_checks import check_run_name
from dlexp.errors import ConfigError
from dlexp.experiments.variants import Variant, variant_config
from dlexp.io import append_jsonl, folder_lock, write_json


@dataclass(frozen=True)
class CompareResult:
    dir: Path
    status: str                             # completed, failed or interrupted
    runs: list[dict]                        # one record per variant, in variant order
    summary: list[dict]                     # one row per label (summary.csv)
    signalled: bool = False                 # Ctrl-C or SIGTERM came (all was written)

    @property
    def failed(self) -> list[dict]:
        return [r for r in self.runs if r["status"] != "completed"]


def run_compare(base: Mapping | Config, variants: Sequence[Variant], *,
                out_dir: Path | None = None, runs_root: Path = Path("runs"),
                name: str = "compare", jobs: int | None = None, window: int = 50,
                label_column: str = "variant", report_keys: Sequence[str] = (),
                expected: Sequence[str] = (),
                on_start: Callable[[Path, int], None] | None = None,
                on_done: Callable[[dict], None] | None = None,
                finish: Callable[[CompareResult], CompareResult] | None = None,
                resume: Path | None = None) -> CompareResult:
    """Train every variant and write the comparison folder; see the module docstring.

    ``out_dir`` (default: a new ``runs_root/<name>-<time>``) is the parent folder;
    ``jobs`` worker processes (default: all cores); ``window`` the span, in updates, of
    the smoothed loss (:mod:`~dlexp.experiments.aggregate`); ``label_column`` names the
    label in summary.csv;
    ``report_keys`` are config keys shown per variant besides the varied ones;
    ``expected`` sub-run statuses (e.g. ``diverged``) leave the comparison ``completed``;
    ``on_start(out_dir, kept)`` once every config is validated, before the first run
    (``kept``: the runs a resume keeps, 0 otherwise);
    ``on_done(record)`` in this process as each sub-run finishes; ``finish(result)``
    (analyses, figures) right after the summary, in the same stretch as the writes: a
    Ctrl-C once training is over waits until they are done (a second acts at once).
    ``resume``: the folder of an interrupted run of this same comparison, whose finished
    sub-runs are kept (:mod:`~dlexp.experiments.resume`).
    """
    from dlexp.data import locate_mnist
    from dlexp.experiments.pool import execute
    from dlexp.train.signals import requested, stoppable
    from dlexp.train.rundir import new_run_dir, run_meta

    if not variants:
        raise ConfigError("nothing to compare: no variants")
    check_run_name(name)
    if jobs is not None and jobs < 1:
        raise ConfigError(f"--jobs {jobs}: must be at least 1")
    names = [v.run_name for v in variants]    # checked as config names: safe folder names
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"two variants share the run name {dupes[0]!r}; a value is given "
                          "twice: remove the duplicate")
    configs = [variant_config(base, v) for v in variants]      # validate all before running
    if window < 1:
        raise ConfigError(f"smoothing window {window}: must be at least 1 update")
    varied = [k for v in variants for k in v.overrides]
    lr = ["optimizer.lr"] if "optimizer.name" in varied else []
    keys = list(dict.fromkeys(varied + lr + list(report_keys)))
    keys = [k for k in keys if k not in ("seed", "name")]
    spec = {"name": name,
            "base": config_to_dict(base) if isinstance(base, Config) else dict(base),
            "variants": [{"label": v.label, "overrides": dict(v.overrides), "seed": v.seed,
                          "run": v.run_name} for v in variants],
            "label_column": label_column, "window": window, "keys": keys}
    kept: dict[str, dict] = {}
    if resume is not None:
        from dlexp.experiments.resume import clear_runs, kept_runs
        kept_runs(resume, spec, expected)              # refuses another comparison
    locate_mnist()                     # find or download once, before workers start
    started = time.time()
    if resume is None:
        out_dir = new_run_dir(Path(runs_root), name) if out_dir is None else Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
    else:
        out_dir = Path(resume)
    # One process at a time in the folder (a refused one changes nothing); a signal from
    # here on stops as dlexp.train.signals says.
    with folder_lock(out_dir, "comparison"), stoppable():
        if resume is not None:
            kept = kept_runs(out_dir, spec, expected)  # as it is now that we hold the folder
            clear_runs(out_dir, [n for n in names if n not in kept])
        else:
            write_json(out_dir / "meta.json", run_meta(started))
            write_json(out_dir / "compare.json", spec)
        meta = [{"label": v.label, "seed": c.seed, "run": v.run_name,
                 **{k: _lookup(config_to_dict(c), k) for k in keys}}
                for v, c in zip(variants, configs)]
        if on_start is not None:
            on_start(out_dir, len(kept))

        def done(index: int, outcome: dict) -> None:
            record = {**meta[index], **outcome}
            append_jsonl(out_dir / "runs.jsonl", record)
            if on_done is not None:
                on_done(record)

        todo = [i for i, n in enumerate(names) if n not in kept]
        fresh = execute([configs[i] for i in todo], [out_dir / names[i] for i in todo], jobs,
                        lambda j, o: done(todo[j], o))
        outcomes = [kept.get(n) for n in names]
        for i, o in zip(todo, fresh):
            outcomes[i] = o
        result = _write_results(out_dir, meta, outcomes, window, label_column, keys,
                                expected, started)
        written = finish(result) if finish is not None else result
        late = bool(requested()) and written.status != "interrupted"    # after training
        return dataclasses.replace(written, signalled=late)


def _write_results(out_dir: Path, meta: list[dict], outcomes: list[dict], window: int,
                   label_column: str, keys: list[str], expected: Sequence[str],
                   started: float) -> CompareResult:
    """runs.csv, the aggregated CSVs and summary.json of a finished comparison."""
    from dlexp.experiments.aggregate import aggregate_compare, write_table
    runs = [{**m, **o} for m, o in zip(meta, outcomes)]
    write_table(out_dir / "runs.csv", runs, ["label", "seed", "run", *keys, *RUN_FIELDS])
    summary = aggregate_compare(out_dir, runs, window, label_column, keys)
    status = _overall(runs, expected)
    counts: dict[str, int] = {}
    for r in runs:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    write_json(out_dir / "summary.json", {
        "status": status, "runs": len(runs), "statuses": counts, "expected": list(expected),
        "not_completed": {r["run"]: r["status"] for r in runs if r["status"] != "completed"},
        "seconds": round(time.time() - started, 3)})
    return CompareResult(out_dir, status, runs, summary)


RUN_FIELDS = ["status", "error", "steps", "final_train_loss", "best_val_acc",
              "final_val_acc", "test_acc", "train_seconds"]


def _overall(runs: list[dict], expected: Sequence[str] = ()) -> str:
    statuses = {r["status"] for r in runs}
    if statuses & {"interrupted", "skipped"}:
        return "interrupted"
    return "completed" if statuses <= {"completed", *expected} else "failed"


def _lookup(raw: Mapping, key: str) -> Any:
    node: Any = raw
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def preset_config(name: str) -> Path:
    """``configs/<name>.yaml``: the base of a preset comparison (or the book's search),
    a bundled config (:mod:`dlexp.bundled`)."""
    from dlexp.bundled import bundled
    return bundled(name)
