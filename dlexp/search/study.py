"""Optuna's side of a search. Storage is ``journal.log`` in the search folder (Optuna's
JournalStorage under its lock file, for the processes of one machine) or a SQLAlchemy URL
such as ``postgresql://user@host/db`` (several machines; Optuna's heartbeat fails a dead
machine's trials). Round r is its own study: ``NAME``, then ``NAME:round<r>``. A trial
*counts* towards ``--trials`` once it has completed, been pruned, diverged or raised; one
cut short (stopped, killed) does not, and Optuna's ``RetryHeartbeatStaleTrialCallback``
runs it again if it had drawn every key.
"""

from __future__ import annotations

import json
import math
import os
import time
import warnings
import zlib
from pathlib import Path
from typing import Any, Callable, Collection

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, IntDistribution
from optuna.trial import FrozenTrial, TrialState

from dlexp.config_space import used_params
from dlexp.errors import ConfigError, RunError
from dlexp.io import atomic_write_bytes

# heartbeats, retries and multivariate TPE are experimental in Optuna; we rely on them
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)

JOURNAL = "journal.log"
HEARTBEAT_SECONDS = 10          # RDB storage: a running trial's heartbeat …
GRACE_SECONDS = 30              # … missing this long means its process is gone
MAX_RETRY = 3                   # a trial that kills its process every time is given up
RERUN_OF = "failed_trial"       # system attribute of Optuna's retry: the trial re-run
COUNTED_FAILURES = ("diverged", "error")
CUT_SHORT = "cut short; re-run (not counted)"


def open_storage(url: str | None, search_dir: Path,
                 on_stale: Callable[[optuna.Study, FrozenTrial], None] | None = None
                 ) -> optuna.storages.BaseStorage:
    """The journal in ``search_dir`` (url None) or an RDB storage at ``url``, which calls
    ``on_stale`` for each trial it fails because its heartbeat stopped."""
    if url is None:
        from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock
        path = str(Path(search_dir) / JOURNAL)
        return optuna.storages.JournalStorage(JournalFileBackend(path, JournalFileOpenLock(path)))
    problem = ""
    for attempt in range(3):            # machines starting together race to create tables
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
            problem = (str(e).strip().splitlines() or [type(e).__name__])[0]
        time.sleep(0.3 * (attempt + 1))
    raise RunError(f"--storage {mask_url(url)}: cannot open the database ({problem}); "
                   "check the URL and that the server is running")


def mask_url(url: str) -> str:
    """``url`` with any password as ``***`` (safe to print and to store)."""
    try:
        from sqlalchemy.engine import make_url
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 (not a URL sqlalchemy understands)
        return url


def whole_records_end(data: bytes) -> int:
    """Bytes at the start of ``data`` that are whole JSON-object lines."""
    end = 0
    for line in data.splitlines(keepends=True):
        try:
            if not (line.endswith(b"\n") and isinstance(json.loads(line), dict)):
                break
        except ValueError:
            break
        end += len(line)
    return end


def repair_journal(search_dir: Path) -> str | None:
    """Under the folder's lock: remove Optuna's lock file left by a process that died
    holding it, and cut a record torn by a crash (the next append would merge into it)
    off the journal, keeping the damaged file beside it; what was done, or None."""
    path = Path(search_dir) / JOURNAL
    Path(f"{path}.lock").unlink(missing_ok=True)
    data = path.read_bytes() if path.is_file() else b""
    end = whole_records_end(data)
    if end == len(data):
        return None
    backup = path.with_name(f"{JOURNAL}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    atomic_write_bytes(backup, data)
    os.truncate(path, end)
    lost = data[end:].count(b"\n") + (not data.endswith(b"\n"))
    return (f"{path}: its last {lost} record(s) were torn (disk full or a crash) and are cut "
            f"off; the damaged file is kept as {backup.name}")


def round_name(name: str, round_: int) -> str:
    return name if round_ == 1 else f"{name}:round{round_}"


def round_studies(storage: optuna.storages.BaseStorage, name: str, rounds: int
                  ) -> list[optuna.Study]:
    """The studies of search ``name``'s rounds started so far, round 1 first."""
    names, out = set(optuna.get_all_study_names(storage)), []
    while len(out) < rounds and round_name(name, len(out) + 1) in names:
        out.append(optuna.load_study(study_name=round_name(name, len(out) + 1),
                                     storage=storage, sampler=optuna.samplers.RandomSampler()))
    return out


def kind(t: FrozenTrial) -> str:
    """``running`` or ``waiting``; ``counted`` (towards ``--trials``: complete, pruned,
    diverged or raised); ``surplus`` (beyond the budget, never trained) or ``cut_short``
    (stopped or killed: run again)."""
    outcome = (t.user_attrs.get("result") or {}).get("outcome")
    if not t.state.is_finished():
        return t.state.name.lower()
    if t.state != TrialState.FAIL or outcome in COUNTED_FAILURES:
        return "counted"
    return "surplus" if outcome == "surplus" else "cut_short"


def finished_count(storage: optuna.storages.BaseStorage, name: str, rounds: int) -> int:
    return sum(kind(t) == "counted" for s in round_studies(storage, name, rounds)
               for t in s.get_trials(deepcopy=False))


def trial_row(t: FrozenTrial, round_: int) -> dict:
    """A finished trial as plain data; one that does not count has no score and the
    note :data:`CUT_SHORT`."""
    r = t.user_attrs.get("result") or {}
    state = {TrialState.COMPLETE: "complete", TrialState.PRUNED: "pruned"}.get(
        t.state, "diverged" if r.get("outcome") == "diverged" else "failed")
    row = {"round": round_, "number": t.number, "state": state, "counted": kind(t) == "counted",
           "params": used_params(t.params), "note": r.get("message"), "curve": {},
           **{k: r.get(k) for k in ("val_acc", "val_loss", "epochs", "evals",
                                    "planned_evals", "seconds")}}
    if row["counted"]:
        row["curve"] = r.get("curve") or {}
    else:
        row.update(val_acc=None, val_loss=None, note=CUT_SHORT)
    return row


RETRY = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRY)


def retry_if_whole(keys: Collection[str]) -> Callable[[optuna.Study, FrozenTrial], None]:
    """Optuna's retry of a trial cut short that had drawn every key in ``keys``."""
    def retry(study: optuna.Study, t: FrozenTrial) -> None:
        if kind(t) == "cut_short" and set(t.params) == set(keys):
            RETRY(study, t)
    return retry


def requeue_left(study: optuna.Study, keys: Collection[str]) -> int:
    """Journal storage, on resume under the folder lock (nothing can be running): fail
    the trials left RUNNING and retry every trial cut short that nothing re-runs yet;
    how many were left running."""
    left = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    for t in left:
        study.tell(t.number, state=TrialState.FAIL, skip_if_finished=True)
    trials = study.get_trials(deepcopy=False)
    again = {n for t in trials for n in t.system_attrs.get("retry_history", [])}
    retry = retry_if_whole(keys)
    for t in trials:
        if t.number not in again:
            retry(study, t)
    return len(left)


def seed_sequence(*words: int | str) -> np.random.SeedSequence:
    """A SeedSequence mixed from integers and strings (hostnames, keys; CRC-32 of each)."""
    return np.random.SeedSequence([w if isinstance(w, int) else zlib.crc32(w.encode())
                                   for w in words])


class TrialSeededRandomSampler(optuna.samplers.RandomSampler):
    """The book's random search, each value drawn by a Generator seeded from (seed, round,
    draw index, key): N workers draw what one would, in any order. The draw index is the
    trial's number less the re-runs numbered before it (they draw nothing), so a search
    stopped and resumed draws what one run straight through does."""

    def __init__(self, seed: int, round_: int) -> None:
        super().__init__(seed)
        self.words = (seed, round_)

    def sample_independent(self, study, trial, param_name, param_distribution):
        """The value of ``param_name`` for ``trial``: a pure function of the four words."""
        reruns = sum(t.number < trial.number and RERUN_OF in t.system_attrs
                     for t in study.get_trials(deepcopy=False))
        words = (*self.words, trial.number - reruns, param_name)
        return draw(np.random.default_rng(seed_sequence(*words)), param_distribution)


def draw(rng: np.random.Generator, d: BaseDistribution) -> Any:
    """One value of ``d``, with u ~ U[0, 1): low + u·(high − low), on the log scale for a
    log range (whole numbers from ln(low − ½) to ln(high + ½), each its share); a stepped
    range low + step·k, k uniform; a choice uniform. Clipped to [low, high]."""
    if isinstance(d, CategoricalDistribution):
        return d.choices[int(rng.integers(len(d.choices)))]
    whole = isinstance(d, IntDistribution)
    if d.step is not None and not (whole and d.log):
        value = d.low + d.step * int(rng.integers(int((d.high - d.low) / d.step + 1e-9) + 1))
    elif d.log:
        lo, hi = math.log(d.low - 0.5 * whole), math.log(d.high + 0.5 * whole)
        value = math.exp(lo + rng.random() * (hi - lo))
    else:
        value = d.low + rng.random() * (d.high - d.low)
    value = min(max(value, d.low), d.high)
    return int(round(value)) if whole else float(value)


# sampler(seed, round, worker words) — worker words make parallel TPE workers differ
SAMPLERS: dict[str, Callable[[int, int, tuple], optuna.samplers.BaseSampler]] = {
    "random": lambda seed, round_, words: TrialSeededRandomSampler(seed, round_),
    "tpe": lambda seed, round_, words: optuna.samplers.TPESampler(
        seed=int(seed_sequence(seed, round_, *words).generate_state(1)[0]),
        multivariate=True, constant_liar=True),
}

# pruner(number of evaluations a full trial makes)
PRUNERS: dict[str, Callable[[int], optuna.pruners.BasePruner]] = {
    "none": lambda n: optuna.pruners.NopPruner(),
    "median": lambda n: optuna.pruners.MedianPruner(n_startup_trials=5,
                                                    n_warmup_steps=max(1, n // 10)),
    "hyperband": lambda n: optuna.pruners.HyperbandPruner(min_resource=max(1, n // 10),
                                                          max_resource=n, reduction_factor=3),
}
