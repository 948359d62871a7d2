"""The book's settings for the presets: the defaults of their options (plain data, so the
CLI reads them without slowing ``dlexp --help``), and ``--book``'s overrides."""

OPTIMIZERS = "sgd,momentum,adagrad,adam,rmsprop,nesterov"   # compare-optimizers, §6.1
INITS = "normal=0.01,lecun_normal,he_normal,zeros"           # compare-inits, §6.2
WEIGHT_SCALES = 16                      # batchnorm: weight stds, log-spaced, §6.3 …
HIGH_STD, LOW_STD = 1.0, 1e-4           # … from 1 down to 1e-4
BN_TARGET = 0.9                         # … and the training accuracy timed to
L2 = "0,0.1"                                                  # overfit-weight-decay, §6.4
DROPOUTS = "0,0.15,0.2"                                       # overfit-dropout, §6.4
ENSEMBLE_MEMBERS = 5                    # ensemble: networks averaged, §6.4 …
ENSEMBLE_DROPOUT = 0.2                  # … and the dropout networks set against them

# ``--book``: each preset's settings as the book's chapter-6 script runs it, as config
# overrides put before the user's ``--set`` (which still win). The standard setup stays
# the default; docs/book.md gives each difference and its measured effect.
SCRIPT = {                                   # every script of the chapter
    "training.sampling": "with_replacement",     # np.random.choice(train_size, batch)
    "training.record_loss": "after_update",      # network.loss(...) after update(...)
}
WHOLE_TRAINING_SET = {**SCRIPT, "data.val_size": 0}   # all 60,000 images, no validation
FIRST_300 = {**SCRIPT, "data.val_take": "last"}       # x_train[:300]; held out: the next 10,000
BOOK = {
    "compare-optimizers": WHOLE_TRAINING_SET,    # optimizer_compare_mnist.py
    "compare-inits": WHOLE_TRAINING_SET,         # weight_init_compare.py
    "batchnorm": {**SCRIPT, "training.iterations": 191},    # batch_norm_test.py: 20
    # records, one every 10 updates from the first: 191 updates
    "overfit-weight-decay": {**FIRST_300, "training.iterations": 601},  # overfit_weight_
    # decay.py: 201 records, one every 3 updates from the first: 601 updates
    "overfit-dropout": {**FIRST_300, "training.epochs": 301,            # overfit_dropout.py
                        "model.dropout_mode": "book"},                  # (Trainer: 903)
    "search": {**SCRIPT, "data.stratify": False,          # hyperparameter_optimization.py:
               "trial_init": "per_trial"},                 # shuffled 500, fresh weights
}
# compare-optimizers --book: each optimiser as the book's class (common/optimizer.py).
BOOK_OPTIMIZERS = {"adam": {"name": "adam_book"},          # ε 1e-7 before bias correction
                   "adagrad": {"eps": 1e-7}, "rmsprop": {"lr": 0.01, "eps": 1e-7}}


def with_book(preset: str, sets: list[str], book: bool) -> list[str]:
    """``sets`` after the book's overrides for ``preset`` (as ``key=value``) when ``book``."""
    from_book = [f"{k}={str(v).lower() if isinstance(v, bool) else v}"
                 for k, v in BOOK[preset].items()] if book else []
    return [*from_book, *sets]
