"""ModelSpec settings reach the layers they describe."""

from __future__ import annotations

import numpy as np
import pytest

from dlexp.config import load_config
from dlexp.nn import MLP, ModelSpec


@pytest.mark.parametrize("unbiased", [True, False])
def test_bn_unbiased_sets_the_running_variance_estimator(unbiased):
    rng = np.random.default_rng(0)
    spec = ModelSpec(hidden=(6,), batchnorm=True, bn_momentum=1.0, bn_unbiased=unbiased)
    model = MLP(spec, 5, 3, rng, np.float64)
    x = rng.standard_normal((8, 5))
    model.loss(x, rng.integers(0, 3, 8), training=True)
    a = x @ model.params["W1"] + model.params["b1"]               # pre-activations, (8, 6)
    expected = a.var(axis=0, ddof=1 if unbiased else 0)
    np.testing.assert_allclose(model.batchnorms[0].running_var, expected, rtol=1e-12)


def test_bn_unbiased_is_a_config_key():
    assert load_config(None, ["model.bn_unbiased=false"]).model.bn_unbiased is False


def test_dropout_masks_come_from_their_own_generator():
    spec = ModelSpec(hidden=(50,), dropout=0.5)
    x = np.ones((4, 3))
    masks = []
    for dropout_seed in (1, 1, 2):
        model = MLP(spec, 3, 2, np.random.default_rng(0), np.float64,
                    dropout_rng=np.random.default_rng(dropout_seed))
        model.forward(x, training=True)
        (dropout,) = [layer for layer in model.layers if type(layer).__name__ == "Dropout"]
        masks.append(dropout.mask.copy())
    np.testing.assert_array_equal(masks[0], masks[1])
    assert not np.array_equal(masks[0], masks[2])


def test_decay_all_puts_every_parameter_in_the_decay_group():
    model = MLP(ModelSpec(hidden=(4,), batchnorm=True), 3, 2, np.random.default_rng(0))
    weights_only, _ = model.groups()
    everything, grads = model.groups(decay_all=True)
    assert weights_only["decay"].size == 3 * 4 + 4 * 2
    assert everything["decay"].size == model.flat_params.size and everything["other"].size == 0
    assert np.shares_memory(grads["decay"], model.flat_grads)
