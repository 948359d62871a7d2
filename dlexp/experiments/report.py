"""Run a sweep, then print it: every comparison command, in order. After
:func:`~dlexp.experiments.sweep.run_sweep` come the summary table (``sweep.columns``),
``sweep.report(result)``, the folder's path on stdout and the exit code:

    0    every sub-run completed or ended in a status of ``sweep.expected``
         (those are named on stderr: ``as expected, …``)
    1    some did not (``error: k of n runs did not complete: …`` on stderr)
    130  interrupted (Ctrl-C or SIGTERM)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from dlexp.bundled import bundled
from dlexp.config import apply_overrides, read_yaml_mapping
from dlexp.errors import ConfigError
from dlexp.experiments.aggregate import CompareResult
from dlexp.experiments.sweep import CompareOptions, Sweep, run_sweep
from dlexp.experiments.tables import print_rows, short
from dlexp.experiments.variants import (check_vary_keys, grid, label_text, parse_vary,
                                        seeds_for)
from dlexp.fmt import say


def load_base(config: Path | None, preset: str | None, sets: Sequence[str],
              opts: CompareOptions) -> dict:
    """The raw base mapping: ``config`` (None: the preset's), then ``--set`` and length."""
    path = config if config is not None else bundled(str(preset))
    return apply_overrides(read_yaml_mapping(path), [*sets, *opts.length_overrides()])


def vary_sweep(config: Path, base: dict, vary: Sequence[str], seeds: int) -> Sweep:
    """``dlexp compare``: the grid of ``--vary`` values × seeds, named after the config."""
    if not vary and seeds < 2:
        raise ConfigError("nothing to compare: give --vary KEY=V1,V2 (or --seeds N > 1)")
    varied = parse_vary(vary)
    check_vary_keys(base, varied)
    variants = grid(varied, seeds_for(base, seeds))
    stem = Path(config).stem
    return Sweep(stem if stem.startswith("compare") else f"compare-{stem}", variants)


def run_and_report(base: dict, sweep: Sweep, opts: CompareOptions) -> int:
    """Run ``sweep``, print its table and report; the exit code (module docstring)."""
    result = run_sweep(base, sweep, opts)
    print_summary(result, sweep)
    if sweep.report is not None and result.status != "interrupted":
        sweep.report(result)
    print(result.dir, flush=True)
    if result.signalled:
        say(f"interrupted once the results were written: {result.dir} is complete")
        return 130
    if result.status == "interrupted":
        say("interrupted: the table and figures show what the runs did until then; "
            f"to finish it, repeat the command with --resume {result.dir}")
        return 130
    unexpected = [r for r in result.failed if r["status"] not in sweep.expected]
    as_expected = [r for r in result.failed if r["status"] in sweep.expected]
    if as_expected:
        say(f"as expected, {_names(as_expected)}")
    if unexpected:
        say(f"error: {len(unexpected)} of {len(result.runs)} runs did not complete: "
            f"{_names(unexpected)}")
        return 1
    return 0


def print_summary(result: CompareResult, plan: Sweep) -> None:
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
    config_keys = [k for k in result.runs[0] if "." in k] if result.runs else []
    keys = [k for k in keys if k == label or not (k in config_keys and
                                                  all(_spells(r[label], k, r[k]) for r in rows))]
    if all(r.get("status") == "completed" for r in rows):
        keys = [k for k in keys if k != "status"]
    print_rows(rows, keys, title="summary (every column: summary.csv)")


def _spells(label: Any, key: str, value: Any) -> bool:
    """Whether a label made by :func:`~dlexp.experiments.variants.default_label` shows
    ``key``'s value: the value alone, or ``<last part of key>=<value>`` as one of its
    ``_``-joined parts (``lr=0.1`` is not spelled by ``lr=0.15``)."""
    text = label_text(value)
    return str(label) == text or f"_{key.rsplit('.', 1)[-1]}={text}_" in f"_{label}_"


def _names(runs: Sequence[dict]) -> str:
    return "; ".join(f"{r['run']} ({r['status']}: {short(r.get('error'))})" for r in runs)
