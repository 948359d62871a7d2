"""``--final-test``: the search's one look at the test set.

The best trial's config is trained again on the training *and* validation images
(``data.val_size = 0``: the whole ``train_size`` pool) by the ordinary runner, which
evaluates the test set once at the end. The run is ``DIR/final/``; its test accuracy
is added to ``summary.json``. Asking again reports that result instead of a new one.
If the search was resumed after the test and a different trial is now the best, the
record stays (marked ``stale``) and a second test is refused: choosing between two
tested configs would let the test set pick the model.

The retrain lasts as long as the trial did. Early stopping may have ended the best
trial before ``training.epochs``; with no validation set it could not fire again, so
the retrain would train longer than the trial that was chosen. Instead::

    training.epochs     = E_best      (the epochs the best trial ran: trials.csv)
    training.iterations = null        (the length is E_best epochs …)
    early_stopping      = off         (… exactly, with nothing to watch)

An epoch the trial left part-way (``eval_every`` or ``iterations``) counts whole.
Pruned trials never win (only complete trials are ranked), so only early stopping
shortens the winner.
"""

from __future__ import annotations

import time
from pathlib import Path

from dlexp.errors import RunError
from dlexp.io import read_record, write_json
from dlexp.search.objective import trial_config
from dlexp.search.searchdir import SearchPlan, hold_lock
from dlexp.train.runner import train_run


def final_overrides(plan: SearchPlan, best: dict) -> dict:
    """The best trial's values, then the retrain's: no validation set, E_best epochs."""
    epochs = best.get("epochs")
    if not epochs:
        raise RunError(f"{plan.dir}: summary.json does not say how many epochs the best "
                       f"trial ran; run `dlexp search --resume {plan.dir}` to rewrite it")
    return {**best["params"], "data.val_size": 0, "training.epochs": epochs,
            "training.iterations": None, "training.early_stopping.patience": None,
            "name": f"{plan.base['name']}-final"}


SUMMARY_SHAPE = {"status": str, "finished": int, "seconds": float, "best": (dict, None)}


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


def tested_trial_is_best(record: dict, best: dict | None) -> bool:
    """Whether a final-test ``record`` is of the trial that is ``best`` now."""
    return best is not None and record.get("trial") == {"round": best["round"],
                                                         "number": best["number"]}


def final_test(plan: SearchPlan) -> dict:
    """Retrain the best trial on train + validation, test it once; the record written.
    Holds the search folder's lock while it works."""
    with hold_lock(plan.dir):
        return _final_test(plan)


def _final_test(plan: SearchPlan) -> dict:
    path = plan.dir / "summary.json"
    summary = read_summary(plan.dir)
    best = summary.get("best")
    if "final_test" in summary:
        done = summary["final_test"]
        if not tested_trial_is_best(done, best):
            was, now = done.get("trial", {}), best or {}
            raise RunError(
                f"{plan.dir}: the test set was already used, for trial {was.get('number')} of "
                f"round {was.get('round')} (test accuracy {done.get('test_acc')}); trial "
                f"{now.get('number')} of round {now.get('round')} is the best now, and a second "
                "test would let the test set choose; start a new search to test again")
        return {**done, "repeated": True}
    if best is None:
        raise RunError(f"{plan.dir}: no trial completed, so there is nothing to test")
    overrides = final_overrides(plan, best)
    cfg = trial_config(plan.base, overrides, "final test")
    start = time.monotonic()
    run = train_run(cfg, run_dir=plan.dir / "final", progress=False)
    seconds = time.monotonic() - start                        # wall time of the retraining
    record = {"status": run.summary["status"], "test_acc": run.summary["test_acc"],
              "test_loss": run.summary["test_loss"],
              "final_train_acc": run.summary["final_train_acc"],
              "epochs": run.summary["epochs"],
              "trial": {"round": best["round"], "number": best["number"]},
              "params": best["params"], "run": "final", "seconds": round(seconds, 2)}
    summary["final_test"] = record
    write_json(path, summary)
    return record
