"""Learning-rate schedules against their formulae, and how the optimiser consumes them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dlexp.optim import SCHEDULES, apply_updates, build_optimizer, make_schedule
from dlexp.config import load_config
from dlexp.config import schedule_settings
from dlexp.optim.transforms import scale_by_learning_rate

LR, SPE, TOTAL = 0.3, 7, 70
TS = [0, 1, 6, 7, 8, 13, 14, 20, 34, 35, 48, 69, 70]


def epoch(t):
    return t // SPE


FORMULAE = {
    "constant": ({}, lambda t: LR),
    "step": ({"every": 2, "gamma": 0.5}, lambda t: LR * 0.5 ** (epoch(t) // 2)),
    "exponential": ({"gamma": 0.8}, lambda t: LR * 0.8 ** epoch(t)),
    "inverse_time": ({"k": 0.25}, lambda t: LR / (1 + 0.25 * epoch(t))),
    "cosine": ({"min_lr": 0.01},
               lambda t: 0.01 + (LR - 0.01) * (1 + math.cos(math.pi * t / TOTAL)) / 2),
}


def test_every_schedule_is_covered():
    assert set(FORMULAE) == set(SCHEDULES)


@pytest.mark.parametrize("name", sorted(FORMULAE))
def test_schedule_formula(name):
    settings, formula = FORMULAE[name]
    sched = make_schedule(name, LR, steps_per_epoch=SPE, total_steps=TOTAL, **settings)
    for t in TS:
        assert sched(t) == pytest.approx(formula(t), rel=1e-13), (name, t)


@pytest.mark.parametrize("name", ["constant", "step", "exponential", "inverse_time"])
def test_epoch_schedules_are_constant_within_an_epoch(name):
    settings, _ = FORMULAE[name]
    sched = make_schedule(name, LR, steps_per_epoch=SPE, total_steps=TOTAL, **settings)
    values = np.array([sched(t) for t in range(TOTAL)])
    per_epoch = values.reshape(-1, SPE)
    np.testing.assert_array_equal(per_epoch, np.broadcast_to(per_epoch[:, :1], per_epoch.shape))
    if name != "constant":
        assert np.all(np.diff(per_epoch[:, 0]) <= 0)
        assert per_epoch[-1, 0] < per_epoch[0, 0]


def test_step_schedule_changes_only_every_few_epochs():
    sched = make_schedule("step", 1.0, steps_per_epoch=3, every=2, gamma=0.1)
    assert [sched(t) for t in (0, 5, 6, 11, 12)] == pytest.approx([1, 1, 0.1, 0.1, 0.01])


def test_cosine_endpoints_and_shape():
    sched = make_schedule("cosine", LR, steps_per_epoch=SPE, total_steps=TOTAL, min_lr=0.02)
    assert sched(0) == pytest.approx(LR, rel=1e-15)
    assert sched(TOTAL) == pytest.approx(0.02, rel=1e-13)
    assert sched(TOTAL // 2) == pytest.approx((LR + 0.02) / 2, rel=1e-13)
    assert sched(TOTAL + 10) == pytest.approx(0.02, rel=1e-13)       # held at the floor
    values = [sched(t) for t in range(TOTAL + 1)]
    assert np.all(np.diff(values) < 0)
    assert len(set(values[:SPE])) == SPE                             # per update, not epoch


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_a_schedule_named_in_a_config_gets_its_functions_defaults(name):
    """The defaults are the schedule function's own and pass the config's checks."""
    cfg = load_config(None, [f"optimizer.schedule={name}"])
    assert dict(cfg.optimizer.schedule.settings) == schedule_settings(name)
    implicit = make_schedule(name, LR, steps_per_epoch=2, total_steps=50)
    explicit = make_schedule(name, LR, steps_per_epoch=2, total_steps=50,
                             **cfg.optimizer.schedule.settings)
    assert [implicit(t) for t in range(0, 60, 3)] == [explicit(t) for t in range(0, 60, 3)]


def test_scale_by_learning_rate_uses_eta_zero_first():
    calls = []

    def sched(t):
        calls.append(t)
        return 0.1 * (t + 1)

    tr = scale_by_learning_rate(sched)
    state = tr.init({"p": np.zeros(3)})
    g = np.array([1.0, -2.0, 0.5])
    for t in range(4):
        u, state = tr.update({"p": g.copy()}, state, {"p": np.zeros(3)})
        np.testing.assert_allclose(u["p"], -0.1 * (t + 1) * g, rtol=1e-15)
    assert calls == [0, 1, 2, 3]


@pytest.mark.parametrize("name", ["momentum", "adam"])
def test_schedule_drives_optimizer_steps(name):
    """A schedule given as lr equals a constant-lr optimiser whose updates are rescaled."""
    sched = make_schedule("step", 0.1, steps_per_epoch=3, every=1, gamma=0.5)
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(4) for _ in range(9)]
    scheduled = build_optimizer(name, sched)
    unit = build_optimizer(name, 1.0)
    p_s, p_u = {"p": np.ones(4)}, {"p": np.ones(4)}
    s_s, s_u = scheduled.init(p_s), unit.init(p_u)
    for t, g in enumerate(grads):
        u_s, s_s = scheduled.update({"p": g.copy()}, s_s, p_s)
        u_u, s_u = unit.update({"p": g.copy()}, s_u, p_u)
        np.testing.assert_allclose(u_s["p"], sched(t) * u_u["p"], rtol=1e-14)
        apply_updates(p_s, u_s)
        apply_updates(p_u, u_u)
        p_u["p"][...] = p_s["p"]          # keep the parameters identical
