"""A search folder (docs/search.md) and resuming it: ``--resume`` keeps the config and
options of the first start; only ``--trials`` (the new total) and ``--workers`` change,
recorded once the folder's lock is held, so a second ``dlexp search`` there changes nothing.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Mapping

from dlexp.config import Config, config_from_dict, config_to_dict
from dlexp.data.mnist import locate_mnist
from dlexp.errors import ConfigError, RunError
from dlexp.io import as_stored, read_json, read_record, write_json
from dlexp.search.study import PRUNERS, SAMPLERS, finished_count, mask_url, open_storage
from dlexp.train.rundir import new_run_dir, run_meta

SEARCH_FILE = "search.json"
MAX_TRIALS = 100_000            # counted trials of one search (days of work beyond it)
FORMAT = "dlexp-search/1"
DEFAULTS = {"trials": 100, "sampler": "random", "rounds": 1, "keep": 0.2, "pruner": "none",
            "workers": 1}
FIXED = ("sampler", "seed", "rounds", "keep", "pruner", "study")    # kept on resume
SHAPE = {"config": dict, "where": str, "trials": int, "sampler": str, "seed": int,
         "rounds": int, "keep": float, "pruner": str, "storage": (str, None), "study": str,
         "meta": dict}
SUMMARY_SHAPE = {"status": str, "finished": int, "seconds": float, "best": (dict, None)}


@dataclass(frozen=True)
class SearchPlan:
    """A search ready to run (plain data, sent to worker processes as it is)."""

    dir: Path
    base: dict                    # the base config, its ``search:`` the space
    where: str
    trials: int
    sampler: str
    seed: int
    rounds: int
    keep: float
    pruner: str
    storage: str | None           # SQLAlchemy URL (None: the journal in ``dir``)
    study: str
    workers: int = 1              # worker processes on this machine
    resumed: bool = False
    finished: int = 0             # trials that count, already finished (when resumed)


def new_search(cfg: Config, where: str, opts: Mapping[str, Any], runs_root: Path
               ) -> SearchPlan:
    """Check ``cfg`` and the options ``dlexp search`` was given (``opts``; None: the
    default); create the search folder and its ``search.json``."""
    if cfg.search is None:
        raise ConfigError(f"{where}: no search: section; add one (see `dlexp configs show search`) "
                          "to say which keys to search and over what ranges")
    if cfg.data.val_size == 0:
        raise ConfigError(f"{where}: data.val_size is 0; a search is guided by validation "
                          "accuracy, so set data.val_size (e.g. 0.2)")
    given = {k: v for k, v in opts.items() if v is not None}
    plan = SearchPlan(**{**DEFAULTS, "seed": cfg.seed, "storage": None, "study": cfg.name,
                         **given}, dir=Path(), base=as_stored(config_to_dict(cfg)), where=where)
    _check(plan)
    if plan.storage is not None:                      # the database answers
        open_storage(plan.storage, Path())
    name = cfg.name if cfg.name == "search" else f"{cfg.name}-search"
    plan = replace(plan, dir=new_run_dir(Path(runs_root), name))
    _write(plan)
    return plan


def resume_search(search_dir: Path, cfg: Config | None, opts: Mapping[str, Any]
                  ) -> SearchPlan:
    """The plan stored in ``search_dir``, with a new total of trials or workers if
    ``opts`` has one (None: as before)."""
    d = Path(search_dir)
    stored = _read(d)
    if cfg is not None and as_stored(config_to_dict(cfg)) != stored["config"]:
        raise RunError(f"{d}: this search was started with a different config; resume it "
                       "without --config, or start a new search")
    for key in FIXED:
        given = opts.get(key)
        if given is not None and given != stored[key]:
            raise RunError(f"{d}: this search was started with --{key} {stored[key]}, "
                           f"not {given}; resume it without --{key}")
    storage = stored["storage"]
    url = opts.get("storage")
    if storage is not None and url is not None and mask_url(url) != storage:
        raise RunError(f"{d}: this search uses --storage {storage}; resume it with that URL")
    if storage is not None and url is None and "***" in storage:
        raise RunError(f"{d}: the storage URL's password is not stored; resume with "
                       f"--storage {storage} (the password in place of ***)")
    plan = SearchPlan(dir=d, base=stored["config"], where=stored["where"], resumed=True,
                      storage=storage and (url or storage),
                      trials=opts.get("trials") or stored["trials"],
                      workers=opts.get("workers") or _workers(stored),
                      **{k: stored[k] for k in FIXED})
    _check(plan)
    return replace(plan, finished=finished_count(open_storage(plan.storage, d), plan.study,
                                                 plan.rounds))


def record_resume(plan: SearchPlan) -> None:
    """Record in search.json a resume that changes the total or the workers (call it
    holding the folder's lock); one that changes nothing leaves the file as it is."""
    stored = _read(plan.dir)
    more = plan.trials != stored["trials"] and plan.trials > plan.finished
    if more or plan.workers != _workers(stored):
        _write(plan if more else replace(plan, trials=stored["trials"]), stored)


def read_summary(search_dir: Path) -> dict:
    """A search folder's summary.json, checked (a damaged one: RunError naming it, so a
    resume never forgets the final test it records); {} before the first is written."""
    path = Path(search_dir) / "summary.json"
    if not path.exists():
        return {}
    summary = read_record(path, SUMMARY_SHAPE, "search summary")
    if not isinstance(summary.get("final_test", {}), dict):
        raise RunError(f"{path}: damaged, its 'final_test' is not a record; restore it")
    return summary


def _check(plan: SearchPlan) -> None:
    """The options, checked once for a new search and a resumed one; MNIST is here
    (fetched once now, not by each worker)."""
    url = plan.storage
    problems = [
        (plan.sampler not in SAMPLERS,
         f"--sampler {plan.sampler!r}: choose one of {', '.join(SAMPLERS)}"),
        (plan.pruner not in PRUNERS,
         f"--pruner {plan.pruner!r}: choose one of {', '.join(PRUNERS)}"),
        (plan.trials > MAX_TRIALS, f"--trials {plan.trials}: at most {MAX_TRIALS:,}"),
        (plan.rounds < 1 or plan.trials < plan.rounds,
         f"--trials {plan.trials} --rounds {plan.rounds}: need at least one round and at "
         "least one trial per round"),
        (not 0 < plan.keep <= 1,
         f"--keep {plan.keep}: the fraction of trials kept must be in (0, 1]"),
        (plan.seed < 0, f"--seed {plan.seed}: must be ≥ 0"),
        (url is not None and not url.strip(),
         "--storage: give a database URL, e.g. postgresql://user@host/db"),
        (url is not None and (url.rstrip("/") in ("sqlite:", "sqlite:/", "sqlite://")
                              or ":memory:" in url),
         f"--storage {url}: an in-memory database is gone when the process ends and is not "
         "shared with workers; give a file, e.g. sqlite:///search.db"),
    ]
    for bad, message in problems:
        if bad:
            raise ConfigError(message)
    locate_mnist()


def _write(plan: SearchPlan, stored: dict | None = None) -> None:
    """search.json; a resume that changes the plan (``stored``: the file as it was)
    keeps the start's ``meta`` and adds its own to ``resumes``."""
    fields = asdict(plan)
    now = run_meta(time.time())
    record = {"format": FORMAT, "config": fields.pop("base"),
              **{k: v for k, v in fields.items() if k not in ("dir", "resumed", "finished")},
              "storage": mask_url(plan.storage) if plan.storage else None,
              "meta": stored.get("meta", now) if stored else now}
    if stored:
        record["resumes"] = [*stored.get("resumes", []), now]
    write_json(plan.dir / SEARCH_FILE, record)


def _workers(stored: dict) -> int:
    """The workers a stored search last ran with (1 if not recorded or not a count)."""
    n = stored.get("workers")
    return n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 1


def _read(d: Path) -> dict:
    path = d / SEARCH_FILE
    if not d.is_dir():
        raise RunError(f"{d}: no such search folder; `dlexp search` prints the folder it uses")
    if not path.is_file():
        raise RunError(f"{d}: not a search folder (no {SEARCH_FILE}); give the folder "
                       "`dlexp search` created")
    stored = read_json(path, None)                     # unreadable: not a record either
    if not isinstance(stored, dict) or stored.get("format") != FORMAT:
        raise RunError(f"{path}: not a search record of this dlexp ({FORMAT})")
    stored = read_record(path, SHAPE, "search record")
    config_from_dict(stored["config"], str(path))     # still a valid config?
    return stored
