"""A search worker. Every worker (in ``dlexp search``, a process it spawned, another
machine) runs the same loop, so workers may join or leave at any time::

    for each round r (budget q_r):  study ← open_round(r)   (narrowed from r − 1 if new)
        loop:  c, u ← counted, running trials of the round
               c ≥ q_r and (u = 0 or last round)  → next round
               c + u < q_r                         → run one trial
               otherwise                            → wait for the running ones

A trial beyond the budget (two workers started the last one at once) fails as
``surplus`` before it trains, so the count of trials is exact.
"""

from __future__ import annotations

import dataclasses
import math
import os
import socket
import sys
import time
from collections import Counter
from typing import Any, Callable, Mapping

import optuna

from dlexp.config import Config, config_from_dict
from dlexp.config_space import apply_params
from dlexp.errors import DlexpError, WriteError
from dlexp.search.rounds import open_round, quotas
from dlexp.search.searchdir import SearchPlan
from dlexp.search.study import JOURNAL, PRUNERS, SAMPLERS, kind, open_storage, retry_if_whole
from dlexp.train import signals
from dlexp.train.loop import Callback, FitState, plan_steps
from dlexp.train.runner import load_splits, streams, train_model

POLL_SECONDS = 0.5


def trial_config(base: Mapping, params: Mapping[str, Any], where: str) -> Config:
    """The base config (plain data) with ``params`` applied, validated."""
    return config_from_dict(apply_params(base, params), where)


def planned_evals(cfg: Config, n_train: int) -> int:
    """The evaluations a trial makes when it runs to the end."""
    t = cfg.training
    per_epoch, total = plan_steps(n_train, t.batch_size, t.epochs, t.iterations)
    return -(-total // (t.eval_every or per_epoch))


class ReportToTrial(Callback):
    """Report each evaluation to the trial; stop training when it should be pruned.

    The value reported is validation accuracy with ties broken by validation loss,

        a − min(ℓ, 500) · 10⁻³ / n_val        (a accuracy, ℓ loss, n_val images)

    Accuracies differ by at least 1/n_val and the loss term stays below half of that, so
    it never reorders different accuracies, but tells apart the many trials at chance
    level (the median a pruner needs to be *below*) by how far their loss has moved.
    """

    def __init__(self, trial: optuna.Trial, n_val: int) -> None:
        self.trial, self.n_val, self.pruned = trial, max(n_val, 1), False

    def on_eval(self, state: FitState, record: dict) -> None:
        acc, loss = record.get("val_acc"), record.get("val_loss")
        if acc is None:
            return
        loss = 500.0 if loss is None or not math.isfinite(loss) else min(loss, 500.0)
        step = len(state.history)
        self.trial.report(acc - loss * 1e-3 / self.n_val, step)
        if self.trial.should_prune():
            self.pruned = True
            state.stop = f"pruned after evaluation {step}"


def run_trial(trial: optuna.Trial, plan: SearchPlan, space, data, quota: int,
              round_: int) -> float:
    """One trial's value: the final validation accuracy. A failed trial (diverged,
    raised, cut short, surplus) returns NaN, which Optuna records as failed; only an
    OSError (the storage cannot be written) propagates, to stop the worker."""
    taken = sum(t.number < trial.number and kind(t) in ("counted", "running")
                for t in trial.study.get_trials(deepcopy=False))
    if taken >= quota:
        trial.set_user_attr("result", {"outcome": "surplus"})
        return math.nan
    params = space.suggest(trial)
    try:
        cfg = trial_config(plan.base, params, f"trial {trial.number}")
        reporter = ReportToTrial(trial, data.x_val.shape[0])
        # trial_init shared: every trial from the run's seed; per_trial: (seed, round, number)
        s = streams((cfg.seed, round_, trial.number) if cfg.trial_init == "per_trial"
                    else cfg.seed)
        started = time.perf_counter()
        stop = signals.StopOnRequest()
        state = train_model(cfg, data, s, (stop, reporter) if plan.pruner != "none"
                            else (stop,))[1]
        result = _result(state, time.perf_counter() - started,
                         planned_evals(cfg, data.x_train.shape[0]), reporter.pruned)
    except OSError:
        raise
    except Exception as e:  # noqa: BLE001 — any error fails this trial, not the search
        result = {"outcome": "error", "message": (str(e).splitlines() or [type(e).__name__])[0]}
    trial.set_user_attr("result", {**result, "worker": f"{socket.gethostname()}:{os.getpid()}"})
    if result["outcome"] == "pruned":
        raise optuna.TrialPruned(result["message"])
    return result["val_acc"] if result["outcome"] == "complete" else math.nan


def _result(state: FitState, seconds: float, planned: int, pruned: bool) -> dict:
    last = state.history[-1] if state.history else {}
    outcome = (state.status if state.status in ("interrupted", "diverged") else
               "pruned" if pruned else "complete")
    final = {} if outcome == "diverged" else last         # a diverged model has no score
    return {"outcome": outcome, "message": state.stop,
            "val_acc": _finite(final.get("val_acc")), "val_loss": _finite(final.get("val_loss")),
            "epochs": state.epoch, "evals": len(state.history), "planned_evals": planned,
            "seconds": round(seconds, 3),
            "curve": {k: [_finite(r.get(k)) for r in state.history]
                      for k in ("train_loss", "train_acc", "val_loss", "val_acc")}}


def _finite(x: Any) -> float | None:
    """A JSON-safe rounded float; None for missing, NaN or infinite values."""
    return None if x is None or not math.isfinite(float(x)) else round(float(x), 6)


def run_worker(plan: SearchPlan, worker: int = 0,
               on_trial_end: Callable[[], None] | None = None) -> None:
    """Run trials of every round until the budgets are met or a stop is requested
    (:mod:`~dlexp.train.signals`: the current trial is then cut short)."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    storage = open_storage(plan.storage, plan.dir, on_stale=retry_if_whole(plan.base["search"]))
    cfg = config_from_dict(plan.base, "search")
    s = load_splits(cfg, progress=False)
    data = dataclasses.replace(s, x_test=s.x_test[:0], y_test=s.y_test[:0])    # no test set
    n_evals = planned_evals(cfg, data.x_train.shape[0])
    callbacks = [lambda study, trial: on_trial_end()] if on_trial_end else []
    budget = quotas(plan.trials, plan.rounds)
    for round_, quota in enumerate(budget, start=1):
        last = round_ == len(budget)
        study, space = open_round(storage, plan.study, plan.base, plan.keep, round_)
        words: tuple = (worker, len(study.get_trials(deepcopy=False)))   # a resumed TPE
        if plan.storage is not None:     # other machines' workers have the same index
            words += (socket.gethostname(), os.getpid())
        study.sampler = SAMPLERS[plan.sampler](plan.seed, round_, words)
        study.pruner = PRUNERS[plan.pruner](n_evals)
        while not signals.requested():
            n = Counter(kind(t) for t in study.get_trials(deepcopy=False))
            counted, running = n["counted"], n["running"]
            if counted >= quota and (running == 0 or last):
                break
            if counted + running < quota:
                _optimize_one(study, lambda t: run_trial(t, plan, space, data, quota, round_),
                              callbacks, plan)
            elif last and plan.storage is None:
                break                    # this machine's other workers finish the rest
            else:
                if plan.storage is not None:
                    # a killed machine's trials, once their heartbeat stops; retried
                    optuna.storages.fail_stale_trials(study)
                time.sleep(POLL_SECONDS)
        if signals.requested():
            return


def _optimize_one(study: optuna.Study, objective, callbacks: list, plan: SearchPlan) -> None:
    """One trial; a failed write of the storage (disk full) is a WriteError naming it,
    whatever error Optuna raised while handling it."""
    try:
        study.optimize(objective, n_trials=1, callbacks=callbacks)
    except Exception as e:  # noqa: BLE001 — looked through for the OSError behind it
        cause: BaseException | None = e
        while cause is not None and not isinstance(cause, OSError):
            cause = cause.__cause__ or cause.__context__
        if cause is None:
            raise
        raise WriteError(plan.dir / JOURNAL if plan.storage is None else "--storage",
                         cause) from None


def worker_main(plan: SearchPlan, worker: int, shared) -> None:
    """A spawned worker process: shares the parent's stop record and dies with it."""
    signals.install(shared)
    signals.stop_with_parent()
    try:
        run_worker(plan, worker)
    except DlexpError as e:             # one line, as the command line prints it
        print(f"error: {e}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
