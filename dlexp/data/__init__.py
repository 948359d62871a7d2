"""MNIST for dlexp: IDX files (:mod:`.idx`), finding and loading them (:mod:`.mnist`),
the train/validation/test split (:mod:`.splits`)."""

from dlexp.data.idx import read_idx, write_idx
from dlexp.data.mnist import (MNIST_FILES, MnistArrays, download_mnist, load_mnist,
                              locate_mnist, verify_mnist)
from dlexp.data.splits import Splits, make_splits
