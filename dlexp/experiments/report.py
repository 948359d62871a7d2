"""Run a comparison, then plot it, then print it: every comparison command, in order.

    opts = CompareOptions(seeds=3, jobs=2)                   # what every command takes
    base = load_base(None, "compare-inits", ["optimizer.lr=0.05"], opts)
    plan = Plan("compare-inits", variants, label_column="init")   # or a preset's plan(…)
    code = run_and_report(base, plan, opts)                  # 0, 1 or 130

1. once every variant's config is valid, one ``note:`` line on stderr per base
   optimiser setting that the variants changing ``optimizer.name`` drop or share
   (:func:`~dlexp.experiments.variants.optimizer_notes`);
2. run (:func:`~dlexp.experiments.compare.run_compare`), a progress line on stderr per
   finished sub-run unless ``quiet``;
3. the preset's analyses (``plan.analyse``: each ``result → result`` adds CSV columns
   and files), not when interrupted;
4. figures (``plan.figures``, names in :data:`dlexp.plots.figures.FIGURES`; matplotlib
   is imported only now, after training); an interrupted comparison gets the generic
   ones, drawn from the runs that finished;
5. the summary table (``plan.columns``; None: the label, varied keys, status, final
   smoothed loss, best val acc, test acc and seconds; empty: no table), then
   ``plan.report(result)``;
6. the folder's path on stdout, and the exit code:

    0    every sub-run completed or ended in a status of ``plan.expected``
         (those are named on stderr: ``as expected, …``)
    1    some did not (``error: k of n runs did not complete: …`` on stderr)
    130  interrupted (Ctrl-C or SIGTERM)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from dlexp.config import apply_overrides, read_yaml_mapping
from dlexp.errors import ConfigError
from dlexp.experiments.aggregate import check_band
from dlexp.experiments.compare import CompareResult, preset_config, run_compare
from dlexp.experiments.tables import print_rows, say
from dlexp.experiments.variants import (Variant, check_vary_keys, grid, label_text,
                                        optimizer_notes, parse_vary, seeds_for,
                                        variant_config)
from dlexp.fmt import fmt
from dlexp.train.progress import RunsTicker, unfinished_runs
from dlexp.train.rundir import has_weight_decay, train_evals


@dataclass(frozen=True)
class CompareOptions:
    """The options every comparison command takes (``--iterations`` … ``-q``)."""

    iterations: int | None = None         # updates per run …
    epochs: int | None = None             # … or epochs (at most one of the two)
    seeds: int = 1                        # seeds per variant: base seed, +1, …
    smooth: int = 50                      # span of the smoothed loss, in updates
    name: str | None = None               # folder name (None: the command's)
    jobs: int | None = None               # worker processes (None: all cores)
    runs_dir: Path = Path("runs")
    band: str = "minmax"                  # minmax or std
    quiet: bool = False                   # no progress line per finished run
    resume: Path | None = None            # an interrupted comparison's folder to finish

    def length_overrides(self) -> list[str]:
        """``--iterations`` / ``--epochs`` as ``--set`` overrides."""
        if self.iterations is not None and self.epochs is not None:
            raise ConfigError("--iterations and --epochs: give one of them, not both")
        if self.epochs is not None:
            return [f"training.epochs={self.epochs}", "training.iterations=null"]
        return [] if self.iterations is None else [f"training.iterations={self.iterations}"]


@dataclass(frozen=True)
class Plan:
    """One comparison: its variants and what to do after they ran."""

    name: str                                         # default folder name
    variants: Sequence[Variant]
    label_column: str = "variant"
    report_keys: Sequence[str] = ()                   # config keys shown per variant
    columns: Sequence[str] | None = None              # summary columns printed
    analyse: Sequence[Callable[[CompareResult], CompareResult]] = ()
    figures: Sequence[str] = ("comparison", "sub_runs")
    report: Callable[[CompareResult], None] | None = None
    expected: Sequence[str] = ()                      # statuses that are a result
    lr_hint: str = "vary it with --vary optimizer.lr=…"


def load_base(config: Path | None, preset: str | None, sets: Sequence[str],
              opts: CompareOptions) -> dict:
    """The raw base mapping: ``config`` (None: the preset's), then ``--set`` and length."""
    path = config if config is not None else preset_config(str(preset))
    return apply_overrides(read_yaml_mapping(path), [*sets, *opts.length_overrides()])


def vary_plan(config: Path, base: dict, vary: Sequence[str], seeds: int) -> Plan:
    """``dlexp compare``: the grid of ``--vary`` values × seeds, named after the config."""
    if not vary and seeds < 2:
        raise ConfigError("nothing to compare: give --vary KEY=V1,V2 (or --seeds N > 1)")
    varied = parse_vary(vary)
    check_vary_keys(base, varied)
    variants = grid(varied, seeds_for(base, seeds))
    stem = Path(config).stem
    return Plan(stem if stem.startswith("compare") else f"compare-{stem}", variants)


def run_and_report(base: dict, plan: Plan, opts: CompareOptions) -> int:
    """Steps 1–6 of the module docstring; returns the exit code."""
    check_band(opts.band)
    total, done, where, live = len(plan.variants), [0], [], []
    names = [comparison_loss_name(base, plan.variants)]        # one label for every run

    def start(out_dir: Path, kept: int) -> None:      # every variant's config is valid
        where.append(out_dir)
        if not opts.quiet:                            # done/running/failed, wall times
            live.append(RunsTicker(total, lambda: unfinished_runs(out_dir), kept).start())
        for note in optimizer_notes(base, plan.variants, plan.lr_hint):
            say(note)
        if opts.resume is not None:
            done[0] = kept
            say(f"resuming {out_dir}: {kept} of {total} runs already finished")
        else:                                         # known before anything can stop it
            say(f"comparison folder: {out_dir}")

    def progress(record: dict) -> None:
        done[0] += 1
        loss_name = names[0] if names else "train loss"
        wall = ""
        for ticker in live:
            ticker.finished(record["status"])
            wall = f" ({ticker.line().split('; ')[-1]})"
        say(f"[{done[0]}/{total}] {record['run']}: {run_line(record, loss_name)}{wall}")

    def finish(result: CompareResult) -> CompareResult:
        for ticker in live:
            ticker.stop()
        interrupted = result.status == "interrupted"
        if not interrupted:
            for analyse in plan.analyse:
                result = analyse(result)
        from dlexp.plots.figures import FIGURES, GENERIC
        for name in plan.figures:
            if name in GENERIC or not interrupted:
                FIGURES[name](result.dir, opts.band)
        return result

    try:
        result = run_compare(base, plan.variants, runs_root=opts.runs_dir,
                             name=plan.name if opts.name is None else opts.name,
                             jobs=opts.jobs, window=opts.smooth,
                             label_column=plan.label_column, report_keys=plan.report_keys,
                             expected=plan.expected, on_start=start,
                             on_done=None if opts.quiet else progress, finish=finish,
                             resume=opts.resume)
    finally:
        for ticker in live:
            ticker.stop()
    interrupted = result.status == "interrupted"
    print_summary(result, plan)
    if plan.report is not None and not interrupted:
        plan.report(result)
    print(result.dir, flush=True)
    if result.signalled:
        say(f"interrupted once the results were written: {result.dir} is complete")
        return 130
    return exit_code(result, plan.expected)


def exit_code(result: CompareResult, expected: Sequence[str] = ()) -> int:
    """0, 1 or 130 (module docstring), naming on stderr the runs that did not complete."""
    if result.status == "interrupted":
        say("interrupted: the table and figures show what the runs did until then; "
             f"to finish it, repeat the command with --resume {result.dir}")
        return 130
    unexpected = [r for r in result.failed if r["status"] not in expected]
    as_expected = [r for r in result.failed if r["status"] in expected]
    if as_expected:
        say(f"as expected, {_names(as_expected)}")
    if unexpected:
        say(f"error: {len(unexpected)} of {len(result.runs)} runs did not complete: "
             f"{_names(unexpected)}")
        return 1
    return 0


def print_summary(result: CompareResult, plan: Plan) -> None:
    """The summary table, narrowed to fit 80 columns (all of it is in summary.csv): a key
    column whose values the label already spells is left out, and so is ``status`` when
    every variant completed."""
    rows, label = result.summary, plan.label_column
    if not rows or (plan.columns is not None and not plan.columns):
        return
    if plan.columns is None:
        keys = [k for k in rows[0] if k not in ("runs", "completed") and not k.endswith("_std")]
    else:
        keys = [label, *(k for k in plan.columns if k in rows[0] and k != label)]
    keys = [k for k in keys if k == label or not (k in result_keys(result) and
                                                  all(_spells(r[label], k, r[k]) for r in rows))]
    if all(r.get("status") == "completed" for r in rows):
        keys = [k for k in keys if k != "status"]
    print_rows(rows, keys, title=str(result.dir))


def _spells(label: Any, key: str, value: Any) -> bool:
    """Whether a label made by :func:`~dlexp.experiments.variants.default_label` shows
    ``key``'s value: the value alone, or ``<last part of key>=<value>`` as one of its
    ``_``-joined parts (``lr=0.1`` is not spelled by ``lr=0.15``)."""
    text = label_text(value)
    return str(label) == text or f"_{key.rsplit('.', 1)[-1]}={text}_" in f"_{label}_"


def result_keys(result: CompareResult) -> list[str]:
    """The config keys of a comparison's table (the varied and reported ones)."""
    return [k for k in result.runs[0] if "." in k] if result.runs else []


RUN_LINE = (("final_train_loss", "train loss"), ("best_val_acc", "best val acc"),
            ("test_acc", "test acc"))
TRAIN_EVAL = {"full": "(whole set)", "running": "since last eval"}


def run_line(r: dict, train_loss: str = "train loss") -> str:
    """A finished sub-run in one line: status, losses and accuracies named, seconds;
    ``train_loss`` names its final train loss (:func:`train_loss_name`)."""
    names = {**dict(RUN_LINE), "final_train_loss": train_loss}
    parts = [r["status"]] + [f"{names[key]} {fmt(r[key])}" for key, _ in RUN_LINE
                             if r.get(key) is not None]
    if r.get("train_seconds") is not None:
        parts.append(f"updates took {fmt(r['train_seconds'], 1)} s")
    if r["status"] != "completed" and r.get("error"):
        parts.append(_short(r["error"]))
    return "  ".join(parts)


def comparison_loss_name(base: dict, variants: Sequence[Variant]) -> str:
    """One name for the ``final_train_loss`` of every run of a comparison: ``train
    objective`` if any variant has weight decay, then how the runs measure it."""
    configs = [variant_config(base, v) for v in variants]
    decay = any(c.regularization.l2 > 0 or c.regularization.l1 > 0 for c in configs)
    modes = {c.training.train_eval for c in configs}
    how = TRAIN_EVAL.get(modes.pop(), "") if len(modes) == 1 else ""
    return f"train {'objective' if decay else 'loss'} {how}".strip()


def train_loss_name(run_dir: Path) -> str:
    """What a run's ``final_train_loss`` is, from its config.yaml: ``train loss`` or,
    with weight decay, ``train objective`` (loss + penalty); then ``(whole set)`` or
    ``since last eval`` as ``training.train_eval`` says."""
    what = "objective" if has_weight_decay([run_dir]) else "loss"
    (mode,) = train_evals([run_dir])
    return f"train {what} {TRAIN_EVAL.get(mode, '')}".strip()


def _names(runs: Sequence[dict]) -> str:
    return "; ".join(f"{r['run']} ({r['status']}: {_short(r.get('error'))})" for r in runs)


def _short(text: Any, n: int = 90) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[:n - 1] + "…"


