"""Shared pytest fixtures and helpers for dlexp's tests.

Other modules' fixtures may be added below; each block is self-contained.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

# --- data: tiny MNIST-shaped IDX files ------------------------------------------------

TINY_MNIST_NAMES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}


DARK_ROWS = 2
RARE_ROWS = 2       # after the dark rows, and the 4 columns at each edge below them:
EDGE = 4            # pixels lit in one training image each (248 of them)


def _tiny_images_labels(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` 28x28 uint8 images whose class is learnable, and balanced labels 0..9."""
    labels = rng.permutation(np.arange(n) % 10).astype(np.uint8)          # (n,)
    images = rng.integers(0, 64, size=(n, 28, 28), dtype=np.uint8)        # (n, 28, 28) noise
    for i, label in enumerate(labels):
        row = 4 + 2 * int(label)
        images[i, row:row + 2, 4:24] = 255                                 # class-coded bar
    return images, labels


def write_tiny_mnist(folder: Path, n_train: int = 200, n_test: int = 50, seed: int = 0) -> Path:
    """Write four tiny MNIST-named IDX .gz files into ``folder`` and return it.

    Deterministic for a seed; labels are balanced over 0..9 (all classes present
    when n >= 10) and each image carries a bright bar at a label-dependent row over
    noise, so small models can learn it. As in MNIST, some pixels are never lit in a
    training image (the top ``DARK_ROWS`` rows), while test images light them, and many
    are lit in one only (the next ``RARE_ROWS`` rows and the ``EDGE`` columns at each
    side below them).
    """
    from dlexp.data.idx import write_idx

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    x_train, y_train = _tiny_images_labels(rng, n_train)
    x_test, y_test = _tiny_images_labels(rng, n_test)
    x_train[:, :DARK_ROWS] = 0                       # 56 pixels no training image lights
    rare = np.zeros((28, 28), dtype=bool)
    rare[DARK_ROWS:DARK_ROWS + RARE_ROWS] = True
    rare[DARK_ROWS + RARE_ROWS:, :EDGE] = rare[DARK_ROWS + RARE_ROWS:, -EDGE:] = True
    rows, cols = np.nonzero(rare)
    x_train[:, rows, cols] = 0
    x_train[np.arange(len(rows)) % n_train, rows, cols] = 200    # rare pixel j: image j
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    for key, name in TINY_MNIST_NAMES.items():
        write_idx(folder / name, arrays[key])
    return folder


@pytest.fixture
def tiny_mnist(tmp_path: Path) -> Path:
    """A folder holding tiny MNIST files: 200 train and 50 test images (seed 0)."""
    return write_tiny_mnist(tmp_path / "tiny_mnist")


# --- runner and CLI: a tiny config on tiny data -----------------------------------------

TINY_CONFIG_YAML = """\
name: tiny
seed: 0
data:
  val_size: 40
model:
  hidden: [16]
optimizer:
  name: adam
  lr: 0.01
training:
  epochs: 2
  batch_size: 32
"""


@pytest.fixture
def tiny_data_env(tiny_mnist: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tiny MNIST folder, with DLEXP_DATA_DIR pointing at it for this test."""
    monkeypatch.setenv("DLEXP_DATA_DIR", str(tiny_mnist))
    return tiny_mnist


@pytest.fixture
def tiny_config(tmp_path: Path) -> Path:
    """A config file for a 784-16-10 network on tiny data: 160 train / 40 validation
    images, batches of 32, 2 epochs (so 5 updates an epoch)."""
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_CONFIG_YAML)
    return path


# --- search: tiny data and a tiny config with a search: section -----------------------

TINY_SEARCH_YAML = """\
name: tiny
seed: 0
data: {val_size: 0.25}
model: {hidden: [HIDDEN], activation: relu, initializer: he_normal}
optimizer: {name: sgd, lr: 0.1}
training: {epochs: EPOCHS, batch_size: 50}
search:
  optimizer.lr: {distribution: log_uniform, low: LR_LOW, high: LR_HIGH}
  regularization.l2: {distribution: log_uniform, low: 1.0e-8, high: 1.0e-4}
"""


@pytest.fixture
def search_setup(tmp_path: Path, monkeypatch):
    """(data folder, write_config) for search tests: 200 training images (150 train /
    50 validation) and 37 test images, a count no other split has. ``write_config(name,
    epochs=, hidden=, lr_low=, lr_high=)`` writes a config with a search: section."""
    data = write_tiny_mnist(tmp_path / "search_mnist", n_train=200, n_test=37)
    monkeypatch.setenv("DLEXP_DATA_DIR", str(data))

    def write_config(name: str = "tiny.yaml", epochs: int = 4, hidden: int = 16,
                     lr_low: float = 1e-3, lr_high: float = 1.0) -> Path:
        text = (TINY_SEARCH_YAML.replace("HIDDEN", str(hidden)).replace("EPOCHS", str(epochs))
                .replace("LR_LOW", repr(lr_low)).replace("LR_HIGH", repr(lr_high)))
        path = tmp_path / name
        path.write_text(text)
        return path

    return data, write_config


class Cli:
    """``dlexp`` run in-process with Typer's CliRunner (stdout and stderr kept apart)."""

    def __init__(self) -> None:
        from typer.testing import CliRunner
        self.runner = CliRunner()

    def __call__(self, *args: object):
        from dlexp.cli import app
        return self.runner.invoke(app, [str(a) for a in args])

    def train(self, config: Path, runs: Path, *extra: str):
        """``dlexp train CONFIG --quiet --runs-dir RUNS EXTRA…``."""
        return self("train", config, "--quiet", "--runs-dir", runs, *extra)

    @staticmethod
    def one_line_error(result, code: int = 2) -> str:
        """Assert exit ``code``, no traceback, one ``error:`` line on stderr; return it."""
        assert result.exit_code == code, (result.exit_code, result.output)
        assert "Traceback" not in result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
        return lines[0]


@pytest.fixture
def cli() -> Cli:
    """Run the command line in-process: ``cli("runs")``, ``cli.train(cfg, runs_dir)``."""
    return Cli()
