"""The book's settings for the comparison presets: the defaults of their command-line
options and of the preset functions that take them.

Plain data with no imports, so the CLI reads them at start-up without slowing
``dlexp --help``; each preset module parses them (``inits.parse_inits``,
``overfit.parse_values``) exactly as it parses the user's options.
"""

OPTIMIZERS = "sgd,momentum,adagrad,adam,rmsprop,nesterov"   # compare-optimizers, §6.1
INITS = "normal=0.01,lecun_normal,he_normal,zeros"           # compare-inits, §6.2
WEIGHT_SCALES = 16                      # batchnorm: weight stds, log-spaced, §6.3 …
HIGH_STD, LOW_STD = 1.0, 1e-4           # … from 1 down to 1e-4
BN_TARGET = 0.9                         # … and the training accuracy timed to
L2 = "0,0.1"                                                  # overfit-weight-decay, §6.4
DROPOUTS = "0,0.15,0.2"                                       # overfit-dropout, §6.4
ENSEMBLE_MEMBERS = 5                    # ensemble: networks averaged, §6.4 …
ENSEMBLE_DROPOUT = 0.2                  # … and the dropout networks set against them
