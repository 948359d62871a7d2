"""Validation-driven hyperparameter search (``dlexp search``), on Optuna.

    config (search: section) ─► space.py      which keys vary, and how
    searchdir.py                              the search folder, search.json, resuming
    runner.py ─► worker.py (×N processes / machines)
                   rounds.py                  round r's study; ranges narrowed to the
                                              best trials of rounds 1 … r−1
                   objective.py               one trial = overrides → loader → fit()
                   study.py                   storage, samplers, pruners, what counts
                   sampler.py                 random draws seeded per (round, draw, key)
                   recovery.py                trials a stopped search left; running them again
    outputs.py                                trials.csv, curves.json, best.yaml, summary
    final.py                                  --final-test: the one look at the test set
    live.py                                   the live table and the final summary
    session.py                                ``dlexp search`` end to end: plan, run,
                                              plots, --final-test, report

Optuna supplies the samplers, pruners and storage (a journal file on one machine, a
database for several); dlexp supplies the training, the search space and the files.
"""
