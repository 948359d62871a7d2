"""The ``search-methods`` preset (§6.5.2): grid, random and TPE search at an equal budget
of side² trials of the book's search (``configs/search.yaml``; every trial starts from
the same weights, so its score depends on its hyperparameters only), over the config's
log-uniform ``search:`` keys. grid: ``side`` log-spaced values per key, every combination
in an order drawn from the search seed; random and tpe: Optuna's samplers. Each method
runs ``searches`` seeds. Files: studies/<method>-seed<k>.json (one per finished search:
a resumed run skips it), best_so_far.csv (method, trial, mean, min, max of
b_k = max of the first k scores) and search_methods.json (per method: final best, distinct
values tried per key, ``optuna.importance`` importances — fANOVA with scikit-learn, else
PED-ANOVA).
"""

from __future__ import annotations

import math
import time
import warnings
from pathlib import Path
from typing import Mapping

import numpy as np

from dlexp.config import config_from_dict
from dlexp.data.mnist import locate_mnist
from dlexp.errors import ConfigError, DlexpError
from dlexp.experiments import pool
from dlexp.experiments.aggregate import write_table
from dlexp.io import read_json, write_json
from dlexp.search.worker import trial_config
from dlexp.train.rundir import new_run_dir, run_meta
from dlexp.train.runner import load_splits, streams, train_model
from dlexp.train.signals import requested

NAME = "search-methods"
CONFIG = "search"
METHODS = ("grid", "random", "tpe")
SIDE = 10                           # grid values per key: 10 × 10 = 100 trials
SEARCHES = 5                        # search seeds per method


def search_space(base: Mapping) -> dict[str, tuple[float, float]]:
    """``{key: (low, high)}`` of the base's ``search:`` section (log-uniform keys only)."""
    space = {}
    for key, spec in (base.get("search") or {}).items():
        if not isinstance(spec, Mapping) or spec.get("distribution") != "log_uniform":
            raise ConfigError(f"search.{key}: this preset searches log_uniform keys only")
        space[key] = (float(spec["low"]), float(spec["high"]))
    if not space:
        raise ConfigError("the base config has no search: section to search")
    return space


def sampler(method: str, space: Mapping[str, tuple[float, float]], side: int, seed: int):
    """The Optuna sampler of ``method`` (module docstring)."""
    import optuna
    if method == "grid":
        values = {k: np.logspace(math.log10(lo), math.log10(hi), side).tolist()
                  for k, (lo, hi) in space.items()}
        return optuna.samplers.GridSampler(values, seed=seed)
    samplers = {"random": optuna.samplers.RandomSampler, "tpe": optuna.samplers.TPESampler}
    return samplers[method](seed=seed)


def run_search(base: Mapping, method: str, side: int, seed: int, out: Path,
               known: Path | None = None) -> dict:
    """One search of side² trials; written to ``out`` (JSON) when it ends. ``known``: a
    finished search's JSON whose scores are reused for the same hyperparameters (a
    trial's score depends on them only: the other grid searches visit the same points)."""
    import optuna
    if requested():                            # stopped before it began
        return {}
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    data = load_splits(config_from_dict({k: v for k, v in base.items() if k != "search"},
                                        "base config"), progress=False)
    space = search_space(base)
    seen = {} if known is None else {tuple(sorted(t["params"].items())): t["value"]
                                     for t in read_json(known)["trials"]}

    def objective(trial) -> float:
        params = {k: trial.suggest_float(k, lo, hi, log=True) for k, (lo, hi) in space.items()}
        if requested():                        # Ctrl-C: this trial is the last
            trial.study.stop()
        if tuple(sorted(params.items())) in seen:
            return seen[tuple(sorted(params.items()))]
        cfg = trial_config(base, params, f"trial {trial.number}")
        state = train_model(cfg, data, streams(cfg.seed))[1]
        acc = state.history[-1]["val_acc"] if state.history else None
        return float(acc) if state.status == "completed" and acc is not None else 0.0

    study = optuna.create_study(direction="maximize", sampler=sampler(method, space, side, seed))
    study.optimize(objective, n_trials=side ** len(space))
    if requested():                            # stopped: not written, run again on resume
        return {}
    evaluator, name = _evaluator(seed)
    with warnings.catch_warnings():           # PED-ANOVA warns when all trials tie
        warnings.simplefilter("ignore")
        importances = optuna.importance.get_param_importances(study, evaluator=evaluator)
    result = {"method": method, "seed": seed, "importance_method": name,
              "importances": importances,
              "trials": [{"number": t.number, "value": t.value, "params": t.params}
                         for t in study.trials]}
    write_json(out, result)
    return result


def _evaluator(seed: int):
    """fANOVA when scikit-learn is there (it needs it), else PED-ANOVA."""
    import optuna
    try:
        import sklearn  # noqa: F401
    except ImportError:
        return optuna.importance.PedAnovaImportanceEvaluator(), "ped-anova"
    return optuna.importance.FanovaImportanceEvaluator(seed=seed), "fanova"


def run_search_methods(base: Mapping, side: int = SIDE, searches: int = SEARCHES,
                       jobs: int | None = None, runs_root: Path = Path("runs"),
                       into: Path | None = None) -> Path:
    """Every method × search seed (the missing ones: a finished search is kept) on the
    worker processes of :mod:`~dlexp.experiments.pool`, then the summary files, in a new
    run folder (or the folder ``into``), which is returned. The grid searches after seed 0
    reuse its scores, so they run once it is done."""
    search_space(base)                 # the space, the config and the data are checked
    config_from_dict(base, "base config")                   # before the folder is made
    locate_mnist()                     # find or download once, before workers start
    out_dir = Path(into) if into is not None else new_run_dir(Path(runs_root), NAME)
    (out_dir / "studies").mkdir(parents=True, exist_ok=True)
    if not (out_dir / "meta.json").exists():
        write_json(out_dir / "meta.json", run_meta(time.time()))
    paths = {(m, s): out_dir / "studies" / f"{m}-seed{s}.json"
             for m in METHODS for s in range(searches)}
    todo = [key for key, path in paths.items() if not path.exists()]
    later = [(m, s) for m, s in todo if m == "grid" and s > 0]
    for batch, known in (([t for t in todo if t not in later], None),
                         (later, paths["grid", 0])):
        done = pool.execute(run_search, [(dict(base), m, side, s, paths[m, s], known)
                                         for m, s in batch], jobs)
        failed = [r["error"] for r in done if r.get("status") == "failed"]
        if failed:
            raise DlexpError(f"search-methods: a search failed: {failed[0]}")
        if requested():                            # Ctrl-C: start no further search
            raise KeyboardInterrupt
    summarise(out_dir, [read_json(p) for p in paths.values()])
    return out_dir


def summarise(out_dir: Path, studies: list[dict]) -> None:
    """best_so_far.csv and search_methods.json from the searches' JSON files."""
    rows, summary = [], {}
    for method in METHODS:
        runs = [s for s in studies if s["method"] == method]
        values = np.array([[t["value"] or 0.0 for t in s["trials"]] for s in runs])  # (S, T)
        curves = np.maximum.accumulate(values, axis=1)           # b_k = max(v_1 … v_k)
        rows += [{"method": method, "trial": k + 1, "mean": float(c.mean()),
                  "min": float(c.min()), "max": float(c.max())}
                 for k, c in enumerate(curves.T)]
        keys = list(runs[0]["importances"])
        summary[method] = {
            "searches": len(runs), "trials": curves.shape[1],
            "best_mean": float(curves[:, -1].mean()), "best_min": float(curves[:, -1].min()),
            "best_max": float(curves[:, -1].max()),
            "distinct": {k: float(np.mean([len({t["params"][k] for t in s["trials"]})
                                           for s in runs])) for k in keys},
            "importances": {k: float(np.mean([s["importances"][k] for s in runs]))
                            for k in keys},
            "importance_method": runs[0]["importance_method"]}
    write_table(out_dir / "best_so_far.csv", rows, ["method", "trial", "mean", "min", "max"])
    write_json(out_dir / "search_methods.json", summary)
