"""One trial: the base config with the sampled values applied, trained by the one loop.

    value = validation accuracy after the last evaluation (higher is better)

The trial's config goes through the config loader like any other, the model and
optimiser come from :mod:`dlexp.train.setup`, and :func:`dlexp.train.loop.fit` trains it
with a callback that reports validation accuracy to Optuna after each evaluation and
stops the trial when the pruner says so. The outcome and the curves are stored on the
trial (user attribute ``result``) so that every machine of a search can see them.
The data hold no test set: a search never looks at it.
"""

from __future__ import annotations

import math
import os
import socket
import time
from typing import Any, Mapping

import optuna

from dlexp.config import Config, config_from_dict
from dlexp.data import Splits
from dlexp.config_space import SearchSpace, apply_params
from dlexp.search.study import counts
from dlexp.train.loop import Callback, FitState, plan_steps
from dlexp.train.setup import streams, train_model
from dlexp.train.signals import StopOnRequest


class TrialDiverged(RuntimeError):
    """The loss became NaN or infinite; the trial is recorded as failed."""


class TrialStopped(RuntimeError):
    """Ctrl-C or SIGTERM stopped the trial (:mod:`dlexp.train.signals`): cut short."""


class SurplusTrial(RuntimeError):
    """Another worker started the last trial of the budget first."""


class ReportToTrial(Callback):
    """Report each evaluation to the trial; stop training when it should be pruned.

    The value reported is validation accuracy with ties broken by validation loss,

        a − min(ℓ, 500) · 10⁻³ / n_val        (a accuracy, ℓ loss, n_val images)

    Accuracies differ by at least 1/n_val and the loss term stays below half of that,
    so it never reorders trials whose accuracies differ; but the many trials that sit at
    the same chance-level accuracy (the median, which a pruner needs to be *below*) are
    told apart by how far their loss has moved. The trial's result is still the plain
    final validation accuracy.
    """

    def __init__(self, trial: optuna.Trial, n_val: int) -> None:
        self.trial, self.n_val, self.pruned = trial, max(n_val, 1), False

    def on_eval(self, state: FitState, record: dict) -> None:
        """Report at step = evaluations so far, then ask the pruner."""
        acc, loss = record.get("val_acc"), record.get("val_loss")
        if acc is None:
            return
        loss = 500.0 if loss is None or not math.isfinite(loss) else min(loss, 500.0)
        step = len(state.history)
        self.trial.report(acc - loss * 1e-3 / self.n_val, step)
        if self.trial.should_prune():
            self.pruned = True
            state.stop = f"pruned after evaluation {step}"


def trial_config(base: Mapping, params: Mapping[str, Any], where: str) -> Config:
    """The base config (plain data) with ``params`` applied (:func:`apply_params`),
    validated by the loader."""
    return config_from_dict(apply_params(base, params), where)


def planned_evals(cfg: Config, n_train: int) -> int:
    """How many evaluations a trial makes when it runs to the end."""
    t = cfg.training
    per_epoch, total = plan_steps(n_train, t.batch_size, t.epochs, t.iterations)
    return -(-total // (cfg.training.eval_every or per_epoch))


class Objective:
    """Callable for ``study.optimize``; ``quota`` is the round's budget of counted trials."""

    def __init__(self, base: Mapping, space: SearchSpace, data: Splits, quota: int,
                 prune: bool, round_: int = 1) -> None:
        self.base, self.space, self.data = base, space, data
        self.quota, self.prune, self.round = quota, prune, round_

    write_failed: OSError | None = None          # the storage could not be written

    def __call__(self, trial: optuna.Trial) -> float:
        """The trial's value; a failed write of the storage (disk full) is kept in
        ``write_failed`` for the worker to stop on (Optuna would only fail the trial)."""
        try:
            return self._run(trial)
        except OSError as e:
            self.write_failed = e
            raise

    def _run(self, trial: optuna.Trial) -> float:
        if self._over_budget(trial):
            trial.set_user_attr("result", {"outcome": "surplus"})
            raise SurplusTrial(f"trial {trial.number} is beyond the budget of {self.quota}")
        params = self.space.suggest(trial)
        result: dict[str, Any] = {"outcome": "interrupted"}
        try:
            cfg = trial_config(self.base, params, f"trial {trial.number}")
            reporter = ReportToTrial(trial, self.data.x_val.shape[0])
            started = time.perf_counter()
            state = self._fit(cfg, reporter, trial.number)
            result = _result(state, time.perf_counter() - started,
                             planned_evals(cfg, self.data.x_train.shape[0]), reporter.pruned)
        except Exception as e:
            result = {"outcome": "error", "message": str(e).splitlines()[0] if str(e) else
                      type(e).__name__}
            raise
        finally:
            trial.set_user_attr("result", {**result, "worker": _worker_id()})
        if result["outcome"] == "interrupted":
            raise TrialStopped(result["message"])
        if result["outcome"] == "diverged":
            raise TrialDiverged(result["message"])
        if result["outcome"] == "pruned":
            raise optuna.TrialPruned(result["message"])
        return result["val_acc"]

    def _over_budget(self, trial: optuna.Trial) -> bool:
        """True if ``quota`` trials numbered below this one are finished or running."""
        before = trial.study.get_trials(deepcopy=False)
        taken = sum(1 for t in before if t.number < trial.number
                    and (counts(t) or t.state == optuna.trial.TrialState.RUNNING))
        return taken >= self.quota

    def _fit(self, cfg: Config, reporter: ReportToTrial, number: int) -> FitState:
        """``trial_init: shared``: every trial from the run's seed (the same initial
        weights, masks and batch order); ``per_trial``: from (seed, round, trial number)."""
        per_trial = cfg.trial_init == "per_trial"
        s = streams((cfg.seed, self.round, number) if per_trial else cfg.seed)
        stop = StopOnRequest()
        return train_model(cfg, self.data, s, (stop, reporter) if self.prune else (stop,))[1]


def _result(state: FitState, seconds: float, planned: int, pruned: bool) -> dict:
    last = state.history[-1] if state.history else {}
    outcome = ("interrupted" if state.status == "interrupted" else
               "diverged" if state.status == "diverged" else
               "pruned" if pruned else "complete")
    curve = {k: [_finite(r.get(k)) for r in state.history]
             for k in ("train_loss", "train_acc", "val_loss", "val_acc")}
    final = {} if outcome == "diverged" else last         # a diverged model has no score
    return {"outcome": outcome, "message": state.stop,
            "val_acc": _finite(final.get("val_acc")), "val_loss": _finite(final.get("val_loss")),
            "epochs": state.epoch, "evals": len(state.history), "planned_evals": planned,
            "seconds": round(seconds, 3), "curve": curve}


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _finite(x: Any) -> float | None:
    """A JSON-safe rounded float; None for missing, NaN or infinite values."""
    if x is None or not math.isfinite(float(x)):
        return None
    return round(float(x), 6)
