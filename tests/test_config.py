"""Config loading: every check gives one ConfigError line; valid configs round-trip."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from dlexp.config import Config, config_from_dict, config_to_dict, load_config
from dlexp.config_reference import reference_document, reference_markdown, reference_rows
from dlexp.config import schedule_settings
from dlexp.errors import ConfigError
from dlexp.nn.init import INITIALIZERS
from dlexp.optim.optimizers import OPTIMIZERS, hyperparameters
from dlexp.optim.schedules import SCHEDULES

REPO = Path(__file__).resolve().parent.parent


def error_for(tmp_path: Path, text: str | None, overrides=()) -> str:
    path = tmp_path / "c.yaml"
    if text is not None:
        path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path, list(overrides))
    message = str(info.value)
    assert "\n" not in message and message.strip() == message
    return message


# --- the file itself --------------------------------------------------------------------

def test_missing_file(tmp_path):
    assert "no such config file" in error_for(tmp_path, None)


def test_directory(tmp_path):
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)


@pytest.mark.parametrize("text", ["", "# only a comment\n", "\n\n"])
def test_empty_file(tmp_path, text):
    assert "empty" in error_for(tmp_path, text)


@pytest.mark.parametrize("text", ["", "model: 3\n"])
def test_hints_point_at_a_config_an_installed_dlexp_shows(cli, tmp_path, text):
    """Not configs/…yaml, which a pip-installed user does not have: `dlexp configs show`."""
    import re
    (name,) = re.findall(r"`dlexp configs show (\w+)`", error_for(tmp_path, text))
    result = cli("configs", "show", name)
    assert result.exit_code == 0 and "model:" in result.stdout


def test_malformed_yaml_names_line_and_column(tmp_path):
    message = error_for(tmp_path, "name: x\nmodel:\n  hidden: [1, 2\n")
    assert "malformed YAML at line" in message and "column" in message


def test_binary_file(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_bytes(b"\xff\xfe\x00\x01garbage")
    with pytest.raises(ConfigError, match="not a text file"):
        load_config(path)


@pytest.mark.parametrize("text, where", [
    ("- 1\n- 2\n", "at the top"),
    ("just a string\n", "at the top"),
    ("model:\n  - 100\n", "model: expected a mapping"),
    ("training: 5\n", "training: expected a mapping"),
    ("training:\n  early_stopping: [1]\n", "training.early_stopping: expected a mapping"),
    ("optimizer: [adam]\n", "optimizer: expected a mapping"),
    ("optimizer:\n  schedule: [cosine]\n", "optimizer.schedule: expected a name or a mapping"),
])
def test_a_list_or_value_where_a_mapping_belongs(tmp_path, text, where):
    assert where in error_for(tmp_path, text)


# --- keys -------------------------------------------------------------------------------

@pytest.mark.parametrize("text, key, suggestion", [
    ("trainig: {epochs: 1}\n", "trainig", "training"),
    ("model: {hiden: [10]}\n", "model.hiden", "hidden"),
    ("training: {early_stopping: {patiense: 2}}\n", "training.early_stopping.patiense",
     "patience"),
    ("optimizer: {name: adam, betta1: 0.8}\n", "optimizer.betta1", "beta1"),
    ("optimizer: {schedule: {name: step, gama: 0.5}}\n", "optimizer.schedule.gama", "gamma"),
    ("regularization: {l3: 0.1}\n", "regularization.l3", None),
])
def test_unknown_keys_suggest_the_closest(tmp_path, text, key, suggestion):
    message = error_for(tmp_path, text)
    assert f"unknown key '{key}'" in message and "valid keys:" in message
    if suggestion:
        assert f"did you mean '{suggestion}'" in message


def test_a_setting_of_another_optimizer_is_named_as_such(tmp_path):
    message = error_for(tmp_path, "optimizer: {name: adam, momentum: 0.9}\n")
    assert "not a setting of optimizer 'adam'" in message and "beta1" in message


# --- types and ranges -------------------------------------------------------------------

@pytest.mark.parametrize("override, fragment", [
    ("seed=abc", "seed: expected a whole number"),
    ("seed=true", "seed: expected a whole number"),
    ("training.epochs=2.5", "expected a whole number, got 2.5"),
    ("data.stratify=yes please", "expected true or false"),
    ("model.batchnorm=1", "expected true or false"),
    ("model.hidden=abc", "model.hidden[0]"),
    ("model.hidden=[10, 2.5]", "model.hidden[1]"),
    ("name=3", "name: expected a name"),
    ("optimizer.lr=[0.1]", "optimizer.lr: expected a number"),
    ("optimizer.lr={a: 1}", "optimizer.lr: expected a number"),
    ("seed=2020-01-01", "seed: expected a whole number"),
    ("optimizer.lr=" + "9" * 400, "too large"),
])
def test_wrong_types(tmp_path, override, fragment):
    assert fragment in error_for(tmp_path, "name: t\n", [override])


@pytest.mark.parametrize("override, fragment", [
    ("training.epochs=0", "training.epochs: must be ≥ 1, got 0"),
    ("training.batch_size=-5", "training.batch_size: must be ≥ 1"),
    ("optimizer.lr=0", "optimizer.lr: must be > 0"),
    ("optimizer.lr=-0.1", "optimizer.lr: must be > 0"),
    ("optimizer.lr=.inf", "optimizer.lr: must be > 0"),
    ("optimizer.lr=.nan", "got NaN"),
    ("model.dropout=1.0", "model.dropout: must be ≥ 0 and < 1"),
    ("model.bn_momentum=1.5", "model.bn_momentum"),
    ("model.init_std=0", "model.init_std: must be > 0"),
    ("data.val_size=-1", "data.val_size: must be ≥ 0"),
    ("data.train_size=0", "data.train_size: must be ≥ 1"),
    ("regularization.l2=-1e-4", "regularization.l2"),
    ("optimizer.beta1=1.0", "optimizer.beta1: must be ≥ 0 and < 1"),
    ("optimizer.schedule={name: step, every: 0}", "optimizer.schedule.every"),
    ("optimizer.schedule={name: exponential, gamma: 2}", "optimizer.schedule.gamma"),
    ("training.early_stopping.patience=0", "training.early_stopping.patience"),
    ("seed=-1", "seed: must be ≥ 0"),
])
def test_out_of_range_values(tmp_path, override, fragment):
    assert fragment in error_for(tmp_path, "name: t\n", [override])


@pytest.mark.parametrize("override, valid", [
    ("optimizer.name=adamm", list(OPTIMIZERS)),
    ("model.initializer=he", list(INITIALIZERS)),
    ("model.activation=gelu", ["relu", "sigmoid", "tanh"]),
    ("optimizer.schedule=linear", list(SCHEDULES)),
    ("optimizer.schedule.name=linear", list(SCHEDULES)),
    ("dtype=float16", ["float32", "float64"]),
    ("model.dropout_mode=scaled", ["inverted", "book"]),
    ("data.subset=last", ["first", "random"]),
    ("training.train_eval=some", ["full", "running"]),
])
def test_unknown_names_list_the_valid_ones(tmp_path, override, valid):
    message = error_for(tmp_path, "name: t\n", [override])
    assert "choose one of: " + ", ".join(valid) in message


@pytest.mark.parametrize("name", ["a/b", "../up", ".hidden", "-x", "with space", "x" * 81,
                                  "tab\there", ""])
def test_run_names_must_be_plain_folder_names(tmp_path, name):
    message = error_for(tmp_path, yaml.safe_dump({"name": name}))
    assert "name:" in message


# --- settings that must agree -----------------------------------------------------------

@pytest.mark.parametrize("overrides, fragment", [
    (["data.train_size=300", "data.val_size=300"], "leaves no training images"),
    (["data.train_size=300", "data.val_size=0.999"], "leaves no training images"),
    (["data.train_size=300", "data.val_size=100", "training.batch_size=201"],
     "training.batch_size (201) is larger than the training set (200 images)"),
    (["model.init_std=0.1"], "model.init_std applies only to initializer 'normal'"),
    (["data.val_size=1.5"], "use a whole number"),
])
def test_inconsistent_settings(tmp_path, overrides, fragment):
    assert fragment in error_for(tmp_path, "name: t\n", overrides)


def test_batch_equal_to_the_training_set_is_fine():
    cfg = load_config(None, ["data.train_size=300", "data.val_size=100",
                             "training.batch_size=200"])
    assert cfg.training.batch_size == 200


# --- --set ------------------------------------------------------------------------------

@pytest.mark.parametrize("override, fragment", [
    ("training.epochs", "expected KEY=VALUE"),
    ("=3", "expected KEY=VALUE"),
    ("training..epochs=3", "expected KEY=VALUE"),
    ("training.epochs.max=3", "'epochs' is a value, not a section"),
    ("training.epoch=3", "unknown key 'training.epoch'; did you mean 'epochs'"),
    ("model.hidden=[50,50", "the value is not valid YAML"),
    ("model.hidden={a: 1, a: 2}", "is given twice"),
    ("nosuch.key=1", "unknown key 'nosuch'"),
])
def test_bad_overrides(tmp_path, override, fragment):
    assert fragment in error_for(tmp_path, "training: {epochs: 2}\n", [override])


def test_overrides_parse_values_as_yaml_and_win_over_the_file(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("name: t\noptimizer: {name: sgd, lr: 0.1}\ntraining: {epochs: 3}\n")
    cfg = load_config(path, ["optimizer.lr=1e-3", "model.hidden=[20, 10]",
                             "training.early_stopping.patience=4", "data.val_size=5e3",
                             "model.init_std=", "optimizer.schedule=cosine"])
    assert cfg.optimizer.name == "sgd" and cfg.optimizer.lr == 0.001
    assert cfg.optimizer.hyper == {}                        # plain SGD has no other settings
    assert cfg.model.hidden == (20, 10) and cfg.training.epochs == 3
    assert cfg.training.early_stopping.patience == 4
    assert cfg.data.val_size == 5000 and isinstance(cfg.data.val_size, int)
    assert cfg.optimizer.schedule.name == "cosine"
    assert cfg.optimizer.schedule.settings == {"min_lr": 0.0}


def test_a_setting_can_be_set_under_a_schedule_given_by_name(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("optimizer: {name: sgd, lr: 0.1, schedule: cosine}\n")
    cfg = load_config(path, ["optimizer.schedule.min_lr=0.01"])
    assert cfg.optimizer.schedule.name == "cosine"
    assert cfg.optimizer.schedule.settings == {"min_lr": 0.01}
    # only sections that have a short form open up: a plain value still refuses
    assert "'lr' is a value, not a section" in error_for(
        tmp_path, "optimizer: {name: sgd, lr: 0.1}\n", ["optimizer.lr.x=1"])


# --- round trip, defaults, shipped configs ----------------------------------------------

ROUND_TRIP = [
    {},
    {"name": "full", "seed": 7, "dtype": "float64",
     "data": {"val_size": 0.1, "train_size": 1000, "subset": "random", "stratify": False},
     "model": {"hidden": [50, 20], "activation": "tanh", "initializer": "normal",
               "init_std": 0.05, "batchnorm": True, "bn_momentum": 0.2, "bn_eps": 1e-3,
               "dropout": 0.3, "dropout_mode": "book"},
     "optimizer": {"name": "adamw", "lr": 0.003, "weight_decay": 0.05,
                   "schedule": {"name": "step", "every": 2, "gamma": 0.5}},
     "regularization": {"l2": 1e-4, "l1": 1e-6, "decay_all": True},
     "training": {"epochs": 3, "iterations": 500, "batch_size": 64, "eval_every": 50,
                  "train_eval": "running", "early_stopping": {"patience": 3,
                                                              "min_delta": 0.001}}},
]


@pytest.mark.parametrize("raw", ROUND_TRIP)
def test_config_to_dict_round_trips(raw):
    cfg = config_from_dict(raw)
    data = config_to_dict(cfg)
    assert config_from_dict(data) == cfg
    assert config_from_dict(yaml.safe_load(yaml.safe_dump(data))) == cfg   # via YAML too


def test_defaults_match_the_dataclasses():
    cfg = load_config(None)
    assert cfg == dataclasses.replace(Config(), optimizer=cfg.optimizer)
    assert cfg.optimizer.name == "adam" and cfg.optimizer.lr == 0.001
    assert cfg.optimizer.hyper == {k: v for k, v in hyperparameters("adam").items() if k != "lr"}


def _leaves(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict) and k != "schedule":
            out.update(_leaves(v, f"{prefix}{k}."))
        else:
            out[prefix + k] = v
    return out


def test_reference_table_covers_every_key_with_its_default():
    rows = {key: (default, allowed, meaning) for key, default, allowed, meaning
            in reference_rows()}
    defaults = _leaves(config_to_dict(load_config(None)))
    all_hyper = {k for n in OPTIMIZERS for k in hyperparameters(n)}
    all_sched = {k for n in SCHEDULES for k in schedule_settings(n)}
    expected = (set(defaults) | {f"optimizer.{k}" for k in all_hyper}
                | {f"optimizer.schedule.{k}" for k in all_sched} | {"search"})
    assert set(rows) == expected and all(meaning for _, _, meaning in rows.values())
    for key in ("seed", "training.epochs", "training.batch_size", "data.val_size",
                "model.dropout", "model.bn_eps", "regularization.l2"):
        assert float(rows[key][0]) == defaults[key]
    for key in ("name", "dtype", "model.activation", "training.train_eval"):
        assert rows[key][0] == defaults[key]
    assert rows["model.hidden"][0] == "[100, 100, 100, 100]"
    assert rows["training.iterations"][0] == "null"
    assert "0.001 (adam, adam_book, adamw)" in rows["optimizer.lr"][0]
    assert "he_normal" in rows["model.initializer"][1]
    table = reference_markdown().splitlines()
    assert len(table) == len(rows) + 2 and all(line.count(" | ") == 3 for line in table[2:])


def test_the_committed_configuration_reference_is_the_generated_one():
    """docs/configuration.md is what `python -m dlexp.config_reference` writes; after a
    change to the config's fields, rerun it."""
    committed = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == reference_document(), (
        "docs/configuration.md is stale: run python -m dlexp.config_reference "
        "docs/configuration.md")


@pytest.mark.parametrize("path", sorted((REPO / "configs").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_shipped_configs_load(path):
    cfg = load_config(path)
    assert config_from_dict(config_to_dict(cfg)) == cfg


def test_cosine_min_lr_above_lr_is_refused():
    with pytest.raises(ConfigError, match="min_lr .* above optimizer.lr"):
        load_config(None, ["optimizer.schedule={name: cosine, min_lr: 0.1}", "optimizer.lr=0.01"])
    assert load_config(None, ["optimizer.schedule={name: cosine, min_lr: 0.001}",
                              "optimizer.lr=0.01"]).optimizer.schedule.settings["min_lr"] == 0.001


def test_a_key_given_twice_is_refused_naming_its_line(tmp_path):
    err = error_for(tmp_path, "training:\n  epochs: 5\nmodel: {hidden: [10]}\n"
                              "training:\n  epochs: 6\n")
    assert "line 4" in err and "'training' is given twice" in err
    assert "'hidden' is given twice" in error_for(tmp_path, "model: {hidden: [5], hidden: [6]}\n")


def test_a_misspelt_name_gets_a_suggestion(tmp_path):
    err = error_for(tmp_path, "optimizer: {name: adamm}\n")
    assert "unknown name 'adamm'; did you mean 'adam'?" in err and "choose one of" in err


def test_early_stopping_without_a_validation_set_is_refused(tmp_path):
    err = error_for(tmp_path, "data: {val_size: 0}\ntraining: {early_stopping: {patience: 2}}\n")
    assert "early_stopping" in err and "data.val_size is 0" in err


def test_naming_a_schedule_keeps_settings_set_beside_it_not_the_files(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("optimizer: {name: sgd, lr: 0.1, schedule: {name: step, every: 3}}\n")
    orders = (["optimizer.schedule.every=5", "optimizer.schedule=step"],
              ["optimizer.schedule=step", "optimizer.schedule.every=5"])
    for overrides in orders:
        cfg = load_config(path, overrides)
        assert cfg.optimizer.schedule.name == "step"
        assert cfg.optimizer.schedule.settings["every"] == 5
    for name in ("cosine", "constant"):                # another schedule: the file's go
        assert load_config(path, [f"optimizer.schedule={name}"]).optimizer.schedule.name == name


def test_yaml_merge_keys_still_load_and_unhashable_keys_are_one_line(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("base: &b {name: sgd, lr: 0.1}\noptimizer: {<<: *b, lr: 0.2}\n")
    from dlexp.config_yaml import read_yaml_mapping
    assert read_yaml_mapping(path)["optimizer"] == {"name": "sgd", "lr": 0.2}
    assert "unhashable" in error_for(tmp_path, "? [1, 2]\n: x\n")
