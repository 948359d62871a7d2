"""A multilayer perceptron assembled from a :class:`ModelSpec`.

Each hidden layer is ``Affine → [BatchNorm] → activation → [Dropout]``; the output layer
is ``Affine`` followed by softmax cross-entropy. One flat parameter buffer: all parameters
(``W1, b1, gamma1, beta1, …``; weights first, the group weight decay applies to) live in
one array and their gradients in another; ``params`` and ``grads`` are dicts of views into
them, so an optimiser may work per name or on two flat groups (:meth:`MLP.groups`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dlexp.io import atomic_write_bytes
from dlexp.nn.batchnorm import BatchNorm
from dlexp.nn.init import make_initializer
from dlexp.nn.layers import ACTIVATIONS, Affine, Dropout
from dlexp.nn.loss import SoftmaxCrossEntropy, softmax


@dataclass(frozen=True)
class ModelSpec:
    """The architecture; sizes of the input and output come from the data."""

    hidden: tuple[int, ...] = (100, 100, 100, 100)
    activation: str = "relu"
    initializer: str = "he_normal"
    init_std: float | None = None          # for initializer "normal" only
    batchnorm: bool = False
    bn_momentum: float = 0.1
    bn_eps: float = 1e-5
    bn_unbiased: bool = True              # running variance with N/(N-1), as PyTorch
    bn_running_init: str = "standard"      # running mean/var start at 0/1, "book": 0/0
    dropout: float = 0.0                   # probability of dropping a hidden unit
    dropout_mode: str = "inverted"


DECAY_MASK = {"decay": True, "other": False}     # the keys of MLP.groups() decay applies to


class MLP:
    """``loss(x, y)`` then ``backward()`` fills ``grads``; ``forward(x, False)`` predicts."""

    def __init__(self, spec: ModelSpec, input_size: int, output_size: int,
                 rng: np.random.Generator, dtype: np.dtype = np.float32,
                 dropout_rng: np.random.Generator | None = None) -> None:
        """``rng`` draws the initial weights, ``dropout_rng`` the dropout masks (by default
        a generator spawned from ``rng``, so the two streams never overlap)."""
        self.spec, self.dtype = spec, np.dtype(dtype)
        sizes = [input_size, *spec.hidden, output_size]
        n_layers = len(sizes) - 1
        shapes = [(f"W{i}", (a, b)) for i, (a, b) in enumerate(zip(sizes, sizes[1:]), 1)]
        self.n_decay = sum(a * b for _, (a, b) in shapes)        # the weights come first
        shapes += [(f"b{i}", (b,)) for i, b in enumerate(sizes[1:], 1)]
        if spec.batchnorm:
            shapes += [(f"{name}{i}", (b,)) for i, b in enumerate(sizes[1:-1], 1)
                       for name in ("gamma", "beta")]
        total = sum(int(np.prod(s)) for _, s in shapes)
        self.flat_params = np.zeros(total, dtype=self.dtype)
        self.flat_grads = np.zeros(total, dtype=self.dtype)
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        offset = 0
        for name, shape in shapes:
            end = offset + int(np.prod(shape))
            self.params[name] = self.flat_params[offset:end].reshape(shape)
            self.grads[name] = self.flat_grads[offset:end].reshape(shape)
            offset = end
        init = make_initializer(spec.initializer, spec.init_std)
        for i in range(n_layers):
            self.params[f"W{i + 1}"][...] = init(rng, sizes[i], sizes[i + 1], self.dtype)
        for name in self.params:
            if name.startswith("gamma"):
                self.params[name][...] = 1.0
        self.logits: np.ndarray | None = None          # of the last ``loss`` call, (N, C)
        self._build_layers(n_layers, dropout_rng or rng.spawn(1)[0])
        self.loss_layer = SoftmaxCrossEntropy()

    def _build_layers(self, n_layers: int, dropout_rng: np.random.Generator) -> None:
        spec, p, g = self.spec, self.params, self.grads
        self.layers: list = []
        self.batchnorms: list[BatchNorm] = []
        for i in range(1, n_layers + 1):
            self.layers.append(Affine(p[f"W{i}"], p[f"b{i}"], g[f"W{i}"], g[f"b{i}"],
                                      need_dx=i > 1))
            if i == n_layers:
                break
            if spec.batchnorm:
                bn = BatchNorm(p[f"gamma{i}"], p[f"beta{i}"], g[f"gamma{i}"], g[f"beta{i}"],
                               spec.bn_momentum, spec.bn_eps, spec.bn_unbiased,
                               spec.bn_running_init)
                self.layers.append(bn)
                self.batchnorms.append(bn)
            self.layers.append(ACTIVATIONS[spec.activation]())
            if spec.dropout > 0:
                self.layers.append(Dropout(spec.dropout, dropout_rng, spec.dropout_mode))

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Logits (N, C) for inputs (N, D); a buffer valid until the next call."""
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    def loss(self, x: np.ndarray, y: np.ndarray, training: bool = True) -> float:
        """Mean cross-entropy of the batch (no penalty term); call ``backward`` next."""
        self.logits = self.forward(x, training)
        return self.loss_layer.forward(self.logits, y)

    def backward(self) -> None:
        """Fill ``grads`` with dL/dθ for the last ``loss`` call."""
        d = self.loss_layer.backward()
        for layer in reversed(self.layers):
            d = layer.backward(d)

    def groups(self, decay_all: bool = False
               ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Params and grads as two flat groups: ``decay`` (what weight decay applies to:
        the weights, or every parameter with ``decay_all``) and ``other``. Pass
        :data:`DECAY_MASK` to the optimiser's decay transforms."""
        nd = self.flat_params.size if decay_all else self.n_decay
        return ({"decay": self.flat_params[:nd], "other": self.flat_params[nd:]},
                {"decay": self.flat_grads[:nd], "other": self.flat_grads[nd:]})

    def evaluate(self, x: np.ndarray, y: np.ndarray, batch_size: int = 2000
                 ) -> tuple[float, float]:
        """(mean cross-entropy, accuracy) in inference mode, in chunks of ``batch_size``."""
        total_loss, correct = 0.0, 0
        for start in range(0, x.shape[0], batch_size):
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            logits = self.forward(xb, training=False)
            total_loss += self.loss_layer.forward(logits, yb) * xb.shape[0]
            correct += int(np.count_nonzero(logits.argmax(axis=1) == yb))
        n = max(x.shape[0], 1)
        return total_loss / n, correct / n

    def predict_proba(self, x: np.ndarray, batch_size: int = 2000) -> np.ndarray:
        """Softmax probabilities (N, C) in inference mode (a fresh array)."""
        out = np.empty((x.shape[0], self.params[f"W{len(self.spec.hidden) + 1}"].shape[1]),
                       dtype=self.dtype)                                  # (N, C)
        for s in range(0, x.shape[0], batch_size):
            out[s:s + batch_size] = softmax(self.forward(x[s:s + batch_size], False))
        return out

    def state(self) -> dict[str, np.ndarray]:
        """Parameters and batch-norm running statistics, by name (copies)."""
        out = {k: v.copy() for k, v in self.params.items()}
        for i, bn in enumerate(self.batchnorms, 1):
            out[f"running_mean{i}"] = bn.running_mean.copy()
            out[f"running_var{i}"] = bn.running_var.copy()
        return out

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        """Set what :meth:`state` gives."""
        for k, v in self.params.items():
            v[...] = state[k]
        for i, bn in enumerate(self.batchnorms, 1):
            bn.running_mean[...] = state[f"running_mean{i}"]
            bn.running_var[...] = state[f"running_var{i}"]

    def save(self, path: Path) -> None:
        """Write ``state()`` to an ``.npz`` file atomically."""
        buf = io.BytesIO()
        np.savez(buf, **self.state())
        atomic_write_bytes(Path(path), buf.getvalue())
