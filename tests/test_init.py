"""Initialisers: sample statistics against their target std, shapes, dtypes, determinism
and aliases. Expected stds are also written out independently of ``target_std``."""

from __future__ import annotations

import numpy as np
import pytest

from dlexp.nn.init import DEFAULT_NORMAL_STD, INITIALIZERS, _fan, make_initializer
from dlexp.nn.model import MLP, ModelSpec

def target_std(name: str, fan_in: int, fan_out: int, std: float | None = None) -> float:
    """The standard deviation the named initialiser aims for (from the registry)."""
    if name == "zeros":
        return 0.0
    if name == "normal":
        return float(DEFAULT_NORMAL_STD if std is None else std)
    scale, mode, _ = INITIALIZERS[name].args
    return float(np.sqrt(scale / _fan(mode, fan_in, fan_out)))



FAN_IN, FAN_OUT = 400, 300
N = FAN_IN * FAN_OUT

# (name, std argument) for every registered initialiser; "normal" with the book's two stds
CASES = [(name, None) for name in INITIALIZERS if name != "normal"] + [
    ("normal", 1.0), ("normal", 0.01)]

# the documented formulae, written out here rather than read from the engine
EXPECTED_STD = {
    "zeros": 0.0,
    "lecun_normal": np.sqrt(1 / FAN_IN),
    "lecun_uniform": np.sqrt(1 / FAN_IN),
    "glorot_normal": np.sqrt(2 / (FAN_IN + FAN_OUT)),
    "glorot_uniform": np.sqrt(2 / (FAN_IN + FAN_OUT)),
    "xavier_normal": np.sqrt(2 / (FAN_IN + FAN_OUT)),
    "xavier_uniform": np.sqrt(2 / (FAN_IN + FAN_OUT)),
    "he_normal": np.sqrt(2 / FAN_IN),
    "he_uniform": np.sqrt(2 / FAN_IN),
    "kaiming_normal": np.sqrt(2 / FAN_IN),
    "kaiming_uniform": np.sqrt(2 / FAN_IN),
}


def draw(name, std=None, seed=0, dtype=np.float64, fan_in=FAN_IN, fan_out=FAN_OUT):
    return make_initializer(name, std)(np.random.default_rng(seed), fan_in, fan_out, dtype)


def test_every_initializer_is_covered():
    assert set(EXPECTED_STD) | {"normal"} == set(INITIALIZERS)


@pytest.mark.parametrize("name,std", CASES)
def test_sample_statistics(name, std):
    w = draw(name, std)
    assert w.shape == (FAN_IN, FAN_OUT)
    target = target_std(name, FAN_IN, FAN_OUT, std)
    expected = std if name == "normal" else EXPECTED_STD[name]
    assert target == pytest.approx(expected, rel=1e-12)
    if target == 0:
        assert np.all(w == 0)
        return
    se_std = target / np.sqrt(2 * N)              # SE of a normal sample std (conservative)
    assert abs(w.std() - target) < 4 * se_std, (w.std(), target)
    assert abs(w.mean()) < 4 * target / np.sqrt(N)
    if name.endswith("uniform"):
        bound = np.sqrt(3) * target
        assert np.max(np.abs(w)) <= bound
        assert np.max(w) > 0.999 * bound and np.min(w) < -0.999 * bound
        # a uniform's kurtosis is 1.8, a normal's 3
        assert np.mean((w / w.std()) ** 4) == pytest.approx(1.8, abs=0.05)
    else:
        assert np.mean((w / w.std()) ** 4) == pytest.approx(3.0, abs=0.1)


def test_fan_modes_are_distinguished():
    """fan_in vs fan_avg differ by ~7% here: far beyond the sampling error."""
    lecun, glorot = draw("lecun_normal"), draw("glorot_normal")
    assert abs(lecun.std() - np.sqrt(1 / FAN_IN)) < abs(lecun.std() - np.sqrt(1 / 350))
    assert abs(glorot.std() - np.sqrt(1 / 350)) < abs(glorot.std() - np.sqrt(1 / FAN_IN))


def test_lecun_normal_is_the_books_xavier():
    w = draw("lecun_normal", fan_in=100, fan_out=2000)
    assert target_std("lecun_normal", 100, 2000) == pytest.approx(np.sqrt(1 / 100), rel=1e-12)
    assert abs(w.std() - 0.1) < 4 * 0.1 / np.sqrt(2 * w.size)
    # independent of fan_out
    assert target_std("lecun_normal", 100, 7) == target_std("lecun_normal", 100, 2000)


def test_normal_default_std():
    assert target_std("normal", 10, 10) == 0.01
    w = draw("normal")
    assert abs(w.std() - 0.01) < 4 * 0.01 / np.sqrt(2 * N)


@pytest.mark.parametrize("name,std", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shape_and_dtype(name, std, dtype):
    w = draw(name, std, dtype=dtype, fan_in=13, fan_out=5)
    assert w.shape == (13, 5)
    assert w.dtype == dtype


@pytest.mark.parametrize("name,std", CASES)
def test_same_seed_same_array(name, std):
    a, b = draw(name, std, seed=42), draw(name, std, seed=42)
    np.testing.assert_array_equal(a, b)
    if name != "zeros":
        assert not np.array_equal(a, draw(name, std, seed=43))


@pytest.mark.parametrize("alias,standard", [
    ("xavier_normal", "glorot_normal"), ("xavier_uniform", "glorot_uniform"),
    ("kaiming_normal", "he_normal"), ("kaiming_uniform", "he_uniform")])
def test_aliases_are_identical(alias, standard):
    np.testing.assert_array_equal(draw(alias, seed=5), draw(standard, seed=5))
    assert target_std(alias, 30, 70) == target_std(standard, 30, 70)


def test_mlp_uses_initializer_and_zero_biases():
    spec = ModelSpec(hidden=(300,), initializer="he_normal")
    model = MLP(spec, 400, 10, np.random.default_rng(0), np.float64)
    W1 = model.params["W1"]
    assert W1.shape == (400, 300) and model.params["W2"].shape == (300, 10)
    assert abs(W1.std() - np.sqrt(2 / 400)) < 4 * np.sqrt(2 / 400) / np.sqrt(2 * W1.size)
    assert np.all(model.params["b1"] == 0) and np.all(model.params["b2"] == 0)
    spec_bn = ModelSpec(hidden=(8,), batchnorm=True)
    model_bn = MLP(spec_bn, 4, 3, np.random.default_rng(0), np.float32)
    assert np.all(model_bn.params["gamma1"] == 1) and np.all(model_bn.params["beta1"] == 0)
    assert all(v.dtype == np.float32 for v in model_bn.params.values())
