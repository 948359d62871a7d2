"""Validation-driven hyperparameter search (``dlexp search``) on Optuna's storages,
samplers, pruners and retries: study.py (Optuna's side), rounds.py (narrowing),
worker.py (trials), searchdir.py (the folder), report.py (files and screen),
runner.py (end to end, and the one final test)."""
