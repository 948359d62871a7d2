"""The search: section — parsing, one-line errors, fitting the config — and narrowing."""

from __future__ import annotations

import math

import numpy as np
import optuna
import pytest

from dlexp.config import config_from_dict, config_to_dict
from dlexp.errors import ConfigError
from dlexp.search.worker import trial_config
from dlexp.search.rounds import narrow, quotas
from dlexp.search.study import TrialSeededRandomSampler
from dlexp.config import check_against, parse_search_space

BOOK = {"optimizer.lr": {"distribution": "log_uniform", "low": 1e-6, "high": 1e-2},
        "regularization.l2": {"distribution": "log_uniform", "low": 1e-8, "high": 1e-4}}


def test_search_section_round_trips_through_the_config_loader():
    raw = {"optimizer": {"name": "sgd"}, "search": {
        **BOOK, "model.activation": {"distribution": "choice", "choices": ["relu", "tanh"]},
        "training.batch_size": {"distribution": "int", "low": "16", "high": 64}}}
    cfg = config_from_dict(raw, "t.yaml")
    assert cfg.search.keys == ("optimizer.lr", "regularization.l2", "model.activation",
                               "training.batch_size")
    assert cfg.search.params[3].low == 16 and cfg.search.params[2].choices == ("relu", "tanh")
    assert config_from_dict(config_to_dict(cfg), "again") == cfg


@pytest.mark.parametrize("key, spec, words", [
    ("optimizer.lr", {"distribution": "loguniform", "low": 1, "high": 2},
     ["optimizer.lr", "'loguniform'", "log_uniform, uniform, int, choice"]),
    ("optimizer.lrr", {"distribution": "uniform", "low": 0, "high": 1},
     ["optimizer.lrr", "not a config key", "did you mean 'optimizer.lr'"]),
    ("data.val_size", {"distribution": "uniform", "low": 0.1, "high": 0.2},
     ["data.val_size", "only keys under model, optimizer"]),
    ("optimizer.lr", {"distribution": "log_uniform", "low": 0, "high": 1},
     ["optimizer.lr", "must be > 0"]),
    ("optimizer.lr", {"distribution": "uniform", "low": 2, "high": 1},
     ["optimizer.lr", "low (2.0) must be smaller than high (1.0)"]),
    ("training.batch_size", {"distribution": "int", "low": 1.5, "high": 4},
     ["training.batch_size", "whole number"]),
    ("model.activation", {"distribution": "choice", "choices": []},
     ["model.activation", "non-empty list"]),
    ("optimizer.lr", {"distribution": "uniform", "low": 0.1, "high": 1, "step": 2},
     ["optimizer.lr", "unknown setting 'step'"]),
    ("optimizer.lr", 0.01, ["optimizer.lr", "expected a mapping"]),
])
def test_bad_search_entries_are_one_line_errors_naming_the_key(key, spec, words):
    with pytest.raises(ConfigError) as e:
        config_from_dict({"search": {key: spec}}, "s.yaml")
    message = str(e.value)
    assert "\n" not in message and message.startswith("s.yaml: search: ")
    for w in words:
        assert w in message


def test_bounds_must_fit_the_rest_of_the_config_at_load():
    with pytest.raises(ConfigError, match="optimizer.momentum=0.5 does not fit.*adam"):
        config_from_dict({"search": {                                 # adam has no momentum
            "optimizer.momentum": {"distribution": "uniform", "low": 0.5, "high": 0.9}}},
            "a.yaml")
    sgd = config_from_dict({"optimizer": {"name": "momentum"}, "search": {
        "optimizer.momentum": {"distribution": "uniform", "low": 0.5, "high": 0.9}}}, "m.yaml")
    assert sgd.search.keys == ("optimizer.momentum",)                 # fits: it loads
    with pytest.raises(ConfigError, match=r"regularization.l2=-1.0 does not fit.*≥ 0"):
        config_from_dict({"search": {
            "regularization.l2": {"distribution": "uniform", "low": -1, "high": 1}}}, "n.yaml")


def test_a_searched_optimizer_name_gets_its_own_settings_and_defaults():
    """The base is the resolved config (every setting of its optimiser spelled out):
    a drawn optimiser drops the settings it lacks and takes its own defaults for those
    the config left at the base optimiser's default; changed and searched ones stay."""
    choice = {"optimizer.name": {"distribution": "choice", "choices": ["adam", "sgd"]}}
    adam = config_from_dict({"optimizer": {"name": "adam"}, "search": choice}, "a.yaml")
    base = config_to_dict(adam)
    check_against(adam.search, base, "a.yaml")                  # beta1 no longer refused
    sgd = trial_config(base, {"optimizer.name": "sgd"}, "trial 0").optimizer
    assert (sgd.name, sgd.lr, sgd.hyper) == ("sgd", 0.01, {})
    assert sgd.schedule == adam.optimizer.schedule                # not an optimiser setting
    plain = config_to_dict(config_from_dict({"optimizer": {"name": "sgd"}}, "s.yaml"))
    assert trial_config(plain, {"optimizer.name": "adam"}, "t").optimizer.lr == 0.001
    tuned = config_to_dict(config_from_dict(
        {"optimizer": {"name": "momentum", "lr": 0.05, "momentum": 0.5}}, "m.yaml"))
    nesterov = trial_config(tuned, {"optimizer.name": "nesterov"}, "t").optimizer
    assert (nesterov.lr, nesterov.hyper["momentum"]) == (0.05, 0.5)   # the user's values
    drawn = trial_config(plain, {"optimizer.name": "adam", "optimizer.lr": 0.2}, "t")
    assert drawn.optimizer.lr == 0.2
    both = {"optimizer.name": {"distribution": "choice", "choices": ["sgd", "momentum"]},
            "optimizer.momentum": {"distribution": "uniform", "low": 0.5, "high": 0.9}}
    mom = config_to_dict(config_from_dict({"optimizer": {"name": "momentum"},
                                           "search": both}, "b.yaml"))
    drawn = {"optimizer.name": "sgd", "optimizer.momentum": 0.7}
    assert trial_config(mom, drawn, "t").optimizer.hyper == {}       # sgd has no momentum
    drawn["optimizer.name"] = "momentum"
    assert trial_config(mom, drawn, "t").optimizer.hyper == {"momentum": 0.7}


def test_optimizer_settings_are_checked_with_each_optimizer_that_may_be_drawn():
    """A searched momentum is checked against every drawn optimiser that has it (a base
    sgd does not), refused if none has it, and narrowing sees only the trials that used
    it; a trial's listed params are the ones it used."""
    from dlexp.search.rounds import narrow
    from dlexp.config_space import used_params
    mom = {"optimizer.momentum": {"distribution": "uniform", "low": 0.5, "high": 0.99}}
    names = lambda *n: {"optimizer.name": {"distribution": "choice",    # noqa: E731
                                           "choices": list(n)}}
    ok = config_from_dict({"optimizer": {"name": "sgd"},
                           "search": {**names("momentum", "nesterov"), **mom}}, "a.yaml")
    assert ok.optimizer.name == "sgd"             # loads: the drawn ones have momentum
    with pytest.raises(ConfigError, match="optimizer.momentum: none of the searched "
                                          r"optimizers \(sgd, adam\) has this setting"):
        config_from_dict({"optimizer": {"name": "sgd"},
                          "search": {**names("sgd", "adam"), **mom}}, "b.yaml")
    assert used_params({"optimizer.name": "sgd", "optimizer.momentum": 0.7}) == {
        "optimizer.name": "sgd"}
    space = config_from_dict({"search": {**names("sgd", "momentum"), **mom}}, "c").search
    rows = [{"state": "complete", "val_acc": acc, "params": used_params(
        {"optimizer.name": n, "optimizer.momentum": m}), "round": 1, "number": k}
        for k, (n, m, acc) in enumerate([("sgd", 0.51, 0.9), ("momentum", 0.8, 0.8),
                                         ("momentum", 0.9, 0.7), ("sgd", 0.98, 0.1)])]
    narrowed = {p.key: p for p in narrow(space, rows, keep=0.75).params}
    m = narrowed["optimizer.momentum"]
    assert (m.low, m.high) == (0.8, 0.9)          # not 0.51: that sgd trial had none


def test_log_uniform_draws_are_uniform_in_the_exponent_and_reach_the_config():
    cfg = config_from_dict({"optimizer": {"name": "sgd"}, "search": BOOK}, "b.yaml")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    draws = []
    for _ in range(400):
        params = cfg.search.suggest(study.ask())
        draws.append(params)
    lr = np.log10([p["optimizer.lr"] for p in draws])
    assert lr.min() >= -6 and lr.max() <= -2
    assert abs(np.median(lr) + 4) < 0.3            # uniform in log10: median exponent ≈ −4
    assert np.mean(lr < -5) == pytest.approx(0.25, abs=0.07)
    trial_cfg = trial_config(config_to_dict(cfg), draws[0], "trial 0")
    assert trial_cfg.optimizer.lr == draws[0]["optimizer.lr"]
    assert trial_cfg.regularization.l2 == draws[0]["regularization.l2"]
    assert trial_cfg.search is None


def test_quotas_split_the_budget_evenly():
    assert quotas(100, 3) == (34, 33, 33)
    assert quotas(7, 1) == (7,)
    assert sum(quotas(11, 4)) == 11


def _row(number, acc, lr, act="relu", state="complete", round_=1):
    return {"round": round_, "number": number, "state": state, "val_acc": acc,
            "params": {"optimizer.lr": lr, "model.activation": act}}


def test_narrowing_keeps_the_span_of_the_best_trials():
    space = parse_search_space({
        "optimizer.lr": {"distribution": "log_uniform", "low": 1e-6, "high": 1e-1},
        "model.activation": {"distribution": "choice", "choices": ["relu", "tanh", "sigmoid"]},
    }, "t")
    rows = [_row(i, acc, lr, act) for i, (acc, lr, act) in enumerate([
        (0.9, 3e-3, "relu"), (0.85, 8e-3, "tanh"), (0.2, 1e-5, "sigmoid"), (0.1, 1e-6, "relu"),
        (0.3, 2e-4, "sigmoid"), (0.88, 5e-3, "relu"), (0.1, 4e-6, "tanh"), (0.15, 9e-2, "relu"),
        (0.2, 1e-4, "relu"), (0.1, 2e-6, "tanh")])]
    rows.append(_row(10, 0.99, 1e-1, "sigmoid", state="pruned"))   # pruned: never kept
    lr, act = narrow(space, rows, keep=0.3).params                  # top 3 of 10 complete
    assert (lr.low, lr.high) == (3e-3, 8e-3)
    assert lr.distribution == "log_uniform"
    assert act.choices == ("relu", "tanh")


def test_narrowing_ranks_every_round_so_far_and_stays_within_the_last_range():
    """Round 1's best (lr 7.8e-3) beats all of round 2: round 3's range keeps it. Round 1's
    third (9.5e-3) is among the top trials too, but the range never widens past round 2's."""
    round2 = parse_search_space({
        "optimizer.lr": {"distribution": "log_uniform", "low": 2e-3, "high": 7.8e-3}}, "t")
    rows = [_row(n, acc, lr, round_=1) for n, (acc, lr) in enumerate(
        [(0.90, 7.8e-3), (0.88, 2e-3), (0.86, 9.5e-3), (0.10, 1e-5)])]
    rows += [_row(n, acc, lr, round_=2) for n, (acc, lr) in enumerate(
        [(0.87, 3e-3), (0.50, 2.5e-3), (0.20, 2.2e-3), (0.10, 6e-3)])]
    (lr,) = narrow(round2, rows, keep=0.5).params                  # top 4 of 8
    assert (lr.low, lr.high) == (2e-3, 7.8e-3)
    (lr,) = narrow(round2, rows[4:], keep=0.5).params              # round 2's alone …
    assert (lr.low, lr.high) == (2.5e-3, 3e-3)                      # … would lose 7.8e-3


def test_narrowing_never_collapses_a_range():
    space = parse_search_space({
        "optimizer.lr": {"distribution": "uniform", "low": 0.0, "high": 1.0}}, "t")
    same = [_row(i, 0.5, 0.25) for i in range(4)]
    assert narrow(space, same, keep=0.5) == space
    assert narrow(space, same[:1], keep=1.0) == space              # fewer than two trials
    two = [_row(0, 0.9, 0.2), _row(1, 0.8, 0.6), _row(2, 0.1, 0.9)]
    assert narrow(space, two, keep=0.1).params[0].high == 0.6      # at least two kept
    assert not math.isclose(narrow(space, two, keep=0.1).params[0].low, 0.0)


def test_random_draws_depend_only_on_seed_round_and_trial_number():
    """So N workers (or a resumed search) draw what one worker would have drawn."""
    cfg = config_from_dict({"optimizer": {"name": "sgd"}, "search": BOOK}, "b.yaml")
    backwards = parse_search_space(dict(reversed(list(BOOK.items()))), "r")

    def draws(sampler, n: int, space=cfg.search) -> list[dict]:
        study = optuna.create_study(sampler=sampler)
        return [space.suggest(study.ask()) for _ in range(n)]

    busy = TrialSeededRandomSampler(seed=3, round_=1)
    draws(busy, 4)                                      # this worker already drew others
    fresh = draws(TrialSeededRandomSampler(seed=3, round_=1), 5)
    assert draws(busy, 5) == fresh
    assert draws(busy, 5, backwards) == fresh           # nor on the order keys are asked
    assert draws(TrialSeededRandomSampler(seed=3, round_=2), 5) != fresh
    assert draws(TrialSeededRandomSampler(seed=4, round_=1), 5) != fresh
    assert len({d["optimizer.lr"] for d in fresh}) == 5


def test_the_random_sampler_covers_every_kind_of_range_evenly():
    space = parse_search_space({
        "training.batch_size": {"distribution": "int", "low": 10, "high": 13},
        "model.activation": {"distribution": "choice", "choices": ["relu", "tanh", "sigmoid"]},
        "regularization.l2": {"distribution": "uniform", "low": 0.0, "high": 0.5},
    }, "k")
    study = optuna.create_study(sampler=TrialSeededRandomSampler(seed=0, round_=1))
    draws = [space.suggest(study.ask()) for _ in range(1200)]
    sizes = [d["training.batch_size"] for d in draws]
    assert all(isinstance(b, int) for b in sizes)
    for values, support in ((sizes, [10, 11, 12, 13]),
                            ([d["model.activation"] for d in draws], ["relu", "tanh", "sigmoid"])):
        assert sorted(set(values)) == sorted(support)                  # both ends reached
        for v in support:
            assert values.count(v) / len(values) == pytest.approx(1 / len(support), abs=0.05)
    l2 = np.array([d["regularization.l2"] for d in draws])
    assert 0.0 <= l2.min() and l2.max() <= 0.5 and abs(l2.mean() - 0.25) < 0.02
    stepped = optuna.create_study(sampler=TrialSeededRandomSampler(seed=0, round_=1))
    assert {stepped.ask().suggest_float("x", 0.0, 1.0, step=0.25)
            for _ in range(200)} == {0.0, 0.25, 0.5, 0.75, 1.0}
