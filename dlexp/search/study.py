"""Optuna studies of a search: where they are stored, how trials are drawn and pruned,
and which trials count towards ``--trials``.

Storage is a journal file in the search directory (one machine, any number of worker
processes) or a SQLAlchemy URL such as ``postgresql://user@host/db`` (several machines;
trials of a killed process are found by their missing heartbeat). Round r of a search
is its own study, named ``NAME`` for round 1 and ``NAME:round<r>`` after that.

A trial *counts* once it has finished: complete, pruned, or failed because its loss
diverged or it raised an error. A trial cut short (the process was killed or stopped)
or started beyond the budget (``surplus``) does not count; the search runs another.
A trial cut short is still listed in ``trials.csv``, as ``failed`` with the note
"cut short; re-run (not counted)", and when the search is resumed its parameters are
run again by Optuna's retry (:mod:`dlexp.search.recovery`); a surplus trial, which
never trained, is not. Trials rank by ``rank_key``: validation accuracy, then the
earlier round and trial number.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import optuna
from optuna.trial import FrozenTrial, TrialState

from dlexp.errors import ConfigError, RunError
from dlexp.search.journal import JOURNAL
from dlexp.search.sampler import TrialSeededRandomSampler, seed_sequence
from dlexp.config_space import used_params

HEARTBEAT_SECONDS = 10          # RDB storage: a running trial's heartbeat …
GRACE_SECONDS = 30              # … missing this long means its process is gone
COUNTED_FAILURES = ("diverged", "error")
CUT_SHORT = "cut short; re-run (not counted)"


@dataclass(frozen=True)
class Tally:
    """How many trials of a round count (finished) and how many are running."""

    counted: int                # finished trials that count towards the budget
    running: int


def open_storage(url: str | None, search_dir: Path,
                 on_stale: Callable[[optuna.Study, FrozenTrial], None] | None = None
                 ) -> optuna.storages.BaseStorage:
    """The journal file in ``search_dir`` (url None) or an RDB storage at ``url``, which
    calls ``on_stale`` for each trial it fails because its heartbeat stopped."""
    if url is None:
        from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock
        path = str(Path(search_dir) / JOURNAL)
        return optuna.storages.JournalStorage(JournalFileBackend(path, JournalFileOpenLock(path)))
    problem = ""
    for attempt in range(3):            # machines starting together race to create tables
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            try:
                return optuna.storages.RDBStorage(url, heartbeat_interval=HEARTBEAT_SECONDS,
                                                  grace_period=GRACE_SECONDS,
                                                  heartbeat_stale_trial_callback=on_stale)
            except Exception as e:  # noqa: BLE001 (sqlalchemy/optuna raise many kinds)
                missing = e if isinstance(e, ModuleNotFoundError) else e.__cause__
                if isinstance(missing, ModuleNotFoundError):     # optuna wraps it
                    raise ConfigError(f"--storage {mask_url(url)}: the database driver "
                                      f"{missing.name!r} is not installed; for PostgreSQL "
                                      "(psycopg2): pip install 'dlexp[postgres]'") from None
                text = str(e).strip()
                problem = text.splitlines()[0] if text else type(e).__name__
        time.sleep(0.3 * (attempt + 1))
    raise RunError(f"--storage {mask_url(url)}: cannot open the database ({problem}); "
                   "check the URL and that the server is running")


def mask_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (safe to print and to store)."""
    try:
        from sqlalchemy.engine import make_url
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 (not a URL sqlalchemy understands)
        return url


def round_study_name(name: str, round_: int) -> str:
    """The study of round ``round_``: ``name`` for round 1, ``name:round<r>`` after it."""
    return name if round_ == 1 else f"{name}:round{round_}"


def open_study(storage: optuna.storages.BaseStorage, name: str,
               sampler: optuna.samplers.BaseSampler | None = None,
               pruner: optuna.pruners.BasePruner | None = None) -> optuna.Study:
    """Create the study ``name`` (maximising validation accuracy) or join it."""
    return optuna.create_study(storage=storage, study_name=name, sampler=sampler,
                               pruner=pruner, direction="maximize", load_if_exists=True)


def find_study(storage: optuna.storages.BaseStorage, name: str) -> optuna.Study | None:
    """The study ``name`` if it exists (for reading only), else None."""
    if name not in optuna.get_all_study_names(storage):
        return None
    return optuna.load_study(study_name=name, storage=storage,
                             sampler=optuna.samplers.RandomSampler())


def round_studies(storage: optuna.storages.BaseStorage, name: str, rounds: int
                  ) -> list[optuna.Study]:
    """The studies of search ``name``'s rounds started so far, round 1 first (≤ ``rounds``)."""
    out = []
    for round_ in range(1, rounds + 1):
        study = find_study(storage, round_study_name(name, round_))
        if study is None:
            break
        out.append(study)
    return out


def finished_count(storage: optuna.storages.BaseStorage, name: str, rounds: int) -> int:
    """Trials of every round of search ``name`` that count towards ``--trials``."""
    return sum(tally(s.get_trials(deepcopy=False)).counted
               for s in round_studies(storage, name, rounds))


def outcome(t: FrozenTrial) -> str | None:
    """How the trial ended by dlexp's account (complete, pruned, diverged, error, …)."""
    return (t.user_attrs.get("result") or {}).get("outcome")


def counts(t: FrozenTrial) -> bool:
    """Whether a trial has finished in a way that counts towards ``--trials``."""
    if t.state in (TrialState.COMPLETE, TrialState.PRUNED):
        return True
    return t.state == TrialState.FAIL and outcome(t) in COUNTED_FAILURES


def tally(trials: list[FrozenTrial]) -> Tally:
    """Counted and running trials among ``trials``."""
    return Tally(sum(counts(t) for t in trials),
                 sum(t.state == TrialState.RUNNING for t in trials))


def trial_row(t: FrozenTrial, round_: int) -> dict:
    """A finished trial as plain data: parameters, outcome, final metrics, curves.

    ``counted`` is False for a trial cut short (or beyond the budget): it is ``failed``,
    with no score and the note :data:`CUT_SHORT`.
    """
    r = t.user_attrs.get("result") or {}
    state = {TrialState.COMPLETE: "complete", TrialState.PRUNED: "pruned"}.get(t.state)
    if state is None:
        state = "diverged" if r.get("outcome") == "diverged" else "failed"
    row = {"round": round_, "number": t.number, "state": state, "counted": counts(t),
           "params": used_params(t.params), "val_acc": r.get("val_acc"), "val_loss": r.get("val_loss"),
           "epochs": r.get("epochs"), "evals": r.get("evals"),
           "planned_evals": r.get("planned_evals"), "seconds": r.get("seconds"),
           "note": r.get("message"), "curve": r.get("curve") or {}}
    if not row["counted"]:
        row.update(val_acc=None, val_loss=None, curve={}, note=CUT_SHORT)
    return row


def finished_rows(studies: list[optuna.Study]) -> list[dict]:
    """Rows of the trials that count, of round 1's study, round 2's, …, in trial order."""
    return [trial_row(t, round_) for round_, study in enumerate(studies, start=1)
            for t in study.get_trials(deepcopy=False) if counts(t)]


def worker_seed(*words: int | str) -> int:
    """A 32-bit seed mixed from integers and strings (hostnames) by SeedSequence."""
    return int(seed_sequence(*words).generate_state(1)[0])


def _random(seed: int, round_: int, worker: tuple) -> optuna.samplers.BaseSampler:
    return TrialSeededRandomSampler(seed, round_)


def _tpe(seed: int, round_: int, worker: tuple) -> optuna.samplers.BaseSampler:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(seed=worker_seed(seed, round_, *worker),
                                          multivariate=True, constant_liar=True)


def _no_pruning(n_evals: int) -> optuna.pruners.BasePruner:
    return optuna.pruners.NopPruner()


def _median(n_evals: int) -> optuna.pruners.BasePruner:
    return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=max(1, n_evals // 10))


def _hyperband(n_evals: int) -> optuna.pruners.BasePruner:
    return optuna.pruners.HyperbandPruner(min_resource=max(1, n_evals // 10),
                                          max_resource=n_evals, reduction_factor=3)


# sampler(seed, round, worker words) — worker words make parallel TPE workers differ.
SAMPLERS: dict[str, Callable[[int, int, tuple], Any]] = {
    "random": _random,
    "tpe": _tpe,
}

# pruner(number of evaluations a full trial makes)
PRUNERS: dict[str, Callable[[int], Any]] = {
    "none": _no_pruning,
    "median": _median,
    "hyperband": _hyperband,
}
