"""Bad input and faults (issue #8): one line on stderr, exit code 2, nothing left behind;
interrupted runs stay valid; files are written atomically; odd numbers stay finite."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlexp.config import Config, config_from_dict, config_to_dict, load_config
from dlexp.data.idx import write_idx
from dlexp.errors import ConfigError, WriteError
from dlexp.io import append_jsonl, atomic_write_text, read_jsonl, write_json
from dlexp.nn.model import MLP, ModelSpec
from dlexp.optim.optimizers import OPTIMIZERS, hyperparameters
from dlexp.config import schedule_settings
from dlexp.optim.schedules import SCHEDULES
from dlexp.train.loop import fit
from dlexp.train.runner import build_model, build_optimizer_for, fit_options, streams

def assert_clean_failure(cli, result, runs: Path, code: int = 2) -> str:
    """One ``error:`` line, exit ``code``, no traceback, and no run folder left behind."""
    line = cli.one_line_error(result, code)
    assert not runs.exists() or not any(runs.iterdir())
    return line


# --- bad configs through the CLI --------------------------------------------------------

BAD_CONFIGS = {
    "empty": ("", "empty"),
    "malformed": ("model:\n  hidden: [1, 2\n", "malformed YAML"),
    "list at top": ("- a\n- b\n", "expected a mapping"),
    "list as section": ("model:\n  - 16\n", "model: expected a mapping"),
    "unknown key": ("modle: {hidden: [16]}\n", "did you mean 'model'"),
    "wrong type": ("training: {epochs: ten}\n", "training.epochs"),
    "out of range": ("model: {dropout: 1.5}\n", "model.dropout"),
    "unknown optimizer": ("optimizer: {name: adamax}\n", "choose one of: sgd"),
    "val larger than train": ("data: {train_size: 100, val_size: 200}\n", "data.val_size"),
    "batch larger than data": ("data: {train_size: 100, val_size: 10}\n"
                               "training: {batch_size: 500}\n", "training.batch_size"),
}


@pytest.mark.parametrize("case", BAD_CONFIGS)
def test_bad_config_file(cli, tiny_data_env, tmp_path, case):
    text, fragment = BAD_CONFIGS[case]
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    runs = tmp_path / "runs"
    assert fragment in assert_clean_failure(cli, cli.train(cfg, runs), runs)


@pytest.mark.parametrize("target, fragment", [("missing.yaml", "no such config file"),
                                              (".", "is a directory")])
def test_config_path_that_is_not_a_file(cli, tiny_data_env, tmp_path, target, fragment):
    result = cli.train(tmp_path / target, tmp_path / "runs")
    assert fragment in assert_clean_failure(cli, result, tmp_path / "runs")


def test_batch_larger_than_the_loaded_data(cli, tiny_data_env, tiny_config, tmp_path):
    # train_size is not set, so only the loaded data shows the problem (160 images)
    result = cli.train(tiny_config, tmp_path / "runs", "--set", "training.batch_size=500")
    line = assert_clean_failure(cli, result, tmp_path / "runs")
    assert "training.batch_size (500)" in line and "160 images" in line


# --- bad data through the CLI -----------------------------------------------------------

def _rewrite_gz(path: Path, transform) -> None:
    with gzip.open(path, "rb") as f:
        raw = f.read()
    with gzip.open(path, "wb") as f:
        f.write(transform(raw))


def _missing(folder: Path) -> None:
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()


def _truncated(folder: Path) -> None:
    path = folder / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _not_gzip(folder: Path) -> None:
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(b"this is not gzip data at all")


def _bad_magic(folder: Path) -> None:
    _rewrite_gz(folder / "train-images-idx3-ubyte.gz", lambda raw: b"\x12\x34" + raw[2:])


def _count_mismatch(folder: Path) -> None:
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.zeros(150, np.uint8))


@pytest.mark.parametrize("damage, fragment", [
    (_missing, "missing t10k-labels-idx1-ubyte.gz"),
    (_truncated, "train-images-idx3-ubyte.gz"),
    (_not_gzip, "train-labels-idx1-ubyte.gz"),
    (_bad_magic, "magic number"),
    (_count_mismatch, "has 200 images but train-labels-idx1-ubyte.gz has 150 labels"),
], ids=lambda x: getattr(x, "__name__", "")[1:])
def test_bad_data_files(cli, tiny_data_env, tiny_config, tmp_path, damage, fragment):
    damage(tiny_data_env)
    result = cli.train(tiny_config, tmp_path / "runs")
    assert fragment in assert_clean_failure(cli, result, tmp_path / "runs")


def test_data_dir_that_does_not_exist(cli, tiny_config, tmp_path, monkeypatch):
    monkeypatch.setenv("DLEXP_DATA_DIR", str(tmp_path / "nowhere"))
    result = cli.train(tiny_config, tmp_path / "runs")
    assert "DLEXP_DATA_DIR" in assert_clean_failure(cli, result, tmp_path / "runs")


def test_offline_without_data_names_the_fix(cli, tiny_config, tmp_path, monkeypatch):
    """No DLEXP_DATA_DIR, an empty cache and no network: one line saying what to do."""
    import functools

    import dlexp.data.mnist as mnist

    def offline(url, timeout):
        raise OSError(101, "Network is unreachable")

    monkeypatch.delenv("DLEXP_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(mnist, "download_mnist",
                        functools.partial(mnist.download_mnist, opener=offline))
    result = cli.train(tiny_config, tmp_path / "runs", "--set", "name=offline")
    line = assert_clean_failure(cli, result, tmp_path / "runs")
    assert "could not download" in line and "DLEXP_DATA_DIR" in line


# --- runs folder ------------------------------------------------------------------------

def test_unwritable_runs_root_fails_before_training(cli, tiny_data_env, tiny_config, tmp_path):
    (tmp_path / "afile").write_text("not a folder")
    result = cli.train(tiny_config, tmp_path / "afile" / "runs")
    line = assert_clean_failure(cli, result, tmp_path / "afile" / "runs")
    assert "--runs-dir" in line
    assert not list(tmp_path.rglob("metrics.jsonl"))


# --- signals: a real process, interrupted mid-training ----------------------------------

def _start_training(tiny_data_env: Path, tiny_config: Path, runs: Path) -> subprocess.Popen:
    env = {**os.environ, "DLEXP_DATA_DIR": str(tiny_data_env), "MPLBACKEND": "Agg"}
    return subprocess.Popen(
        [sys.executable, "-m", "dlexp.cli", "train", str(tiny_config), "--quiet",
         "--runs-dir", str(runs), "--set", "training.epochs=100000"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))   # even under nohup


def _wait_for_metrics(proc: subprocess.Popen, runs: Path, timeout: float = 60) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in runs.glob("*/metrics.jsonl"):
            if path.stat().st_size > 0:
                return path.parent
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("no metrics appeared")


def _check_interrupted_run(run: Path) -> None:
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["test_acc"] is None
    lines = (run / "metrics.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]          # every line complete
    epochs = [r["epoch"] for r in records]
    assert epochs == list(range(1, len(epochs) + 1)) and epochs
    assert summary["epochs"] in (epochs[-1], epochs[-1] + 1)   # maybe one epoch begun
    saved = config_from_dict(yaml.safe_load((run / "config.yaml").read_text()))
    assert saved.name.startswith("tiny+epochs=")          # named after its --set
    assert "finished" in json.loads((run / "meta.json").read_text())


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_during_training_leaves_a_valid_interrupted_run(tiny_data_env, tiny_config,
                                                               tmp_path, signum):
    runs = tmp_path / "runs"
    proc = _start_training(tiny_data_env, tiny_config, runs)
    run = _wait_for_metrics(proc, runs)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    _check_interrupted_run(run)


SECOND_CTRL_C = """
import signal, sys
import dlexp.plots.runs
from dlexp.cli import main
from dlexp.train import runner

write = runner.MetricsWriter.on_eval
def on_eval(self, state, record):                 # the first Ctrl-C after epoch 2's record
    write(self, state, record)
    if record["epoch"] == 2:
        signal.raise_signal(signal.SIGINT)
runner.MetricsWriter.on_eval = on_eval

def plot_run(run_dir):                            # the second as the figures begin, where
    signal.raise_signal(signal.SIGINT)            # matplotlib is imported
    raise AssertionError("not reached")
dlexp.plots.runs.plot_run = plot_run
sys.argv = ["dlexp", *sys.argv[1:]]
main()
"""


def test_second_ctrl_c_still_ends_the_process(tiny_data_env, tiny_config, tmp_path):
    """Ctrl-C during training, and again while the figures are drawn: the process ends at
    once (130, no traceback) with the run's files whole."""
    runs = tmp_path / "runs"
    env = {**os.environ, "DLEXP_DATA_DIR": str(tiny_data_env), "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, "-c", SECOND_CTRL_C, "train", str(tiny_config),
                           "--quiet", "--runs-dir", str(runs), "--set", "training.epochs=50"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 130, proc.stderr
    assert "Traceback" not in proc.stderr and "not reached" not in proc.stderr
    (run,) = runs.iterdir()
    _check_interrupted_run(run)
    assert (run / "model.npz").is_file() and not (run / "plots").exists()
    assert json.loads((run / "summary.json").read_text())["epochs"] == 2


# --- atomic files -----------------------------------------------------------------------

def test_failed_atomic_write_keeps_the_old_file_and_no_temp_files(tmp_path, monkeypatch):
    target = tmp_path / "summary.json"
    write_json(target, {"status": "completed"})

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(WriteError, match=r"summary.json: cannot write \(No space left"):
        write_json(target, {"status": "half written"})
    with pytest.raises(WriteError, match="new.txt"):
        atomic_write_text(tmp_path / "new.txt", "x")
    assert json.loads(target.read_text()) == {"status": "completed"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]


def test_interrupt_during_atomic_write_leaves_no_temp_file(tmp_path, monkeypatch):
    target = tmp_path / "config.yaml"
    atomic_write_text(target, "old\n")

    def interrupted_fsync(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted_fsync)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_text(target, "new\n")
    assert target.read_text() == "old\n" and len(list(tmp_path.iterdir())) == 1


def test_metrics_are_appended_as_complete_strict_json_lines(tmp_path):
    path = tmp_path / "metrics.jsonl"
    append_jsonl(path, {"epoch": 1, "val_loss": float("nan"), "lr": np.float32(0.5)})
    append_jsonl(path, {"epoch": 2, "val_loss": float("inf"), "acc": np.float64(0.25)})
    lines = path.read_text().splitlines()
    assert [json.loads(line, parse_constant=float.fromhex) for line in lines] == [
        {"epoch": 1, "val_loss": None, "lr": 0.5}, {"epoch": 2, "val_loss": None, "acc": 0.25}]
    with open(path, "a") as f:
        f.write('{"epoch": 3, "val_lo')                   # a torn last line (a crash)
    assert [r["epoch"] for r in read_jsonl(path)] == [1, 2]


# --- property tests: nothing but ConfigError out of load_config -------------------------

SECTION_KEYS = {s: [f.name for f in Config.__dataclass_fields__[s].default.__dataclass_fields__
                    .values()] for s in ("data", "regularization", "training")}
SECTION_KEYS["model"] = list(ModelSpec.__dataclass_fields__)
SECTION_KEYS["optimizer"] = (["name", "schedule"]
                             + sorted({k for n in OPTIMIZERS for k in hyperparameters(n)}))
TOP_KEYS = ["name", "seed", "dtype", *SECTION_KEYS]          # not `search`: dlexp.search's own
LEAF_KEYS = TOP_KEYS + [f"{s}.{k}" for s, keys in SECTION_KEYS.items() for k in keys] + [
    "training.early_stopping.patience", "training.early_stopping.min_delta",
    "optimizer.schedule.name"] + [f"optimizer.schedule.{k}" for n in SCHEDULES
                                  for k in schedule_settings(n)]
NAMES = ["adam", "sgd", "cosine", "step", "relu", "he_normal", "normal", "float64", "first",
         "running", "book", "tiny"]

# plausible values (often valid) and anything at all (rarely valid)
plausible = (st.none() | st.booleans() | st.integers(0, 300) | st.floats(0, 1)
             | st.sampled_from(NAMES + list(SCHEDULES)) | st.lists(st.integers(1, 20),
                                                                    max_size=3))
scalars = plausible | st.integers() | st.floats() | st.text(max_size=12)
keys = st.sampled_from(TOP_KEYS + sum(SECTION_KEYS.values(), []) + ["early_stopping"]) | \
    st.text(max_size=8)
anything = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(keys, inner, max_size=4), max_leaves=12)
sections = {s: st.dictionaries(st.sampled_from(k), plausible, max_size=4)
            for s, k in SECTION_KEYS.items()}
documents = st.one_of(
    st.fixed_dictionaries({}, optional={"name": st.sampled_from(NAMES), "seed": plausible,
                                        "dtype": st.sampled_from(["float32", "float64"]),
                                        **sections}),
    st.dictionaries(st.sampled_from(TOP_KEYS) | st.text(max_size=6), anything, max_size=6))
good_override = st.builds("{}={}".format, st.sampled_from(LEAF_KEYS), plausible.map(
    lambda v: yaml.safe_dump(v, default_flow_style=True).removesuffix("\n...\n").strip()))
any_override = good_override | st.text(max_size=15) | st.builds(
    "{}={}".format, st.sampled_from(LEAF_KEYS) | st.text(max_size=10), st.text(max_size=12))
overrides = st.lists(good_override, max_size=2) | st.lists(any_override, max_size=3)
FAST = settings(max_examples=200, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def _load_or_config_error(path: Path | None, sets: list[str]) -> None:
    try:
        cfg = load_config(path, sets)
    except ConfigError as e:
        assert "\n" not in str(e)                            # one line, whatever the input
        return
    data = config_to_dict(cfg)                               # accepted ⇒ round-trips
    assert config_from_dict(yaml.safe_load(yaml.safe_dump(data))) == cfg


@FAST
@given(doc=documents, sets=overrides)
def test_random_documents_and_overrides_only_raise_config_error(tmp_path, doc, sets):
    path = tmp_path / "random.yaml"
    path.write_text(yaml.safe_dump(doc))
    _load_or_config_error(path, sets)


@FAST
@given(text=st.text(st.characters(blacklist_categories=("Cs",)), max_size=200))
def test_random_yaml_text_only_raises_config_error(tmp_path, text):
    path = tmp_path / "random.yaml"
    path.write_text(text, encoding="utf-8")
    _load_or_config_error(path, [])


@FAST
@given(sets=overrides)
def test_random_overrides_on_defaults_only_raise_config_error(sets):
    _load_or_config_error(None, sets)


# --- numerical edge cases ---------------------------------------------------------------

def _fit(cfg, x, y):
    s = streams(cfg.seed)
    model = build_model(cfg, x.shape[1], 10, s)
    opt, sched = build_optimizer_for(cfg, x.shape[0])
    state = fit(model, opt, sched, x, y, x[:10], y[:10], rng=s.order, **fit_options(cfg))
    return model, state


def test_huge_logits_give_finite_loss_gradients_and_probabilities():
    spec = ModelSpec(hidden=(16,), initializer="normal", init_std=1e3)
    model = MLP(spec, 20, 10, np.random.default_rng(0))
    x = np.random.default_rng(1).random((8, 20)).astype(np.float32)
    y = np.arange(8) % 10
    loss = model.loss(x, y)
    assert np.abs(model.logits).max() > 1e4                 # exp() of these would overflow
    model.backward()
    assert np.isfinite(loss) and np.isfinite(model.flat_grads).all()
    p = model.predict_proba(x)
    assert np.isfinite(p).all() and np.allclose(p.sum(axis=1), 1.0, atol=1e-5)


def test_equal_inputs_through_batch_norm_stay_finite():
    cfg = load_config(None, ["model.hidden=[8, 8]", "model.batchnorm=true",
                             "training.epochs=3", "training.batch_size=10", "data.val_size=0"])
    x = np.full((40, 12), 0.5, np.float32)                  # zero variance in every batch
    model, state = _fit(cfg, x, np.arange(40) % 10)
    assert state.status == "completed"
    assert all(np.isfinite(r["train_loss"]) and np.isfinite(r["val_loss"])
               for r in state.history)
    assert np.isfinite(model.flat_params).all()


def test_dropout_zero_adds_no_layer_and_training_equals_inference():
    model = MLP(ModelSpec(hidden=(16, 16), dropout=0.0), 12, 10, np.random.default_rng(0))
    assert not any(type(layer).__name__ == "Dropout" for layer in model.layers)
    x = np.random.default_rng(1).random((5, 12)).astype(np.float32)
    assert np.array_equal(model.forward(x, training=True).copy(), model.forward(x, False))


@pytest.mark.parametrize("batchnorm", [False, True])
def test_batch_size_one(batchnorm):
    cfg = load_config(None, ["model.hidden=[8]", f"model.batchnorm={str(batchnorm).lower()}",
                             "training.epochs=2", "training.batch_size=1",
                             "optimizer.lr=0.001"])
    x = np.random.default_rng(0).random((15, 12)).astype(np.float32)
    model, state = _fit(cfg, x, np.arange(15) % 10)
    assert state.status == "completed" and state.step == 30
    assert np.isfinite(model.flat_params).all()


def test_train_size_smaller_than_a_batch_is_caught_at_load():
    with pytest.raises(ConfigError, match="training.batch_size"):
        load_config(None, ["data.train_size=50", "data.val_size=10"])   # batch 100 > 40


# --- mistakes the command-line parser catches -------------------------------------------

@pytest.mark.parametrize("args, words, where", [
    (["search", "--workers", "0"], "'--workers'", "dlexp search"),
    (["compare-optimizers", "--seeds", "abc"], "'--seeds'", "dlexp compare-optimizers"),
    (["compare", "x.yaml", "--iterations", "1.5"], "'--iterations'", "dlexp compare"),
    (["nosuch"], "No such command 'nosuch'", "dlexp"),
    (["runs", "--runs-dir", ""], "'--runs-dir': an empty path", "dlexp runs"),
    (["compare-optimizers", "--runs-dir", " "], "'--runs-dir': an empty path",
     "dlexp compare-optimizers"),
    (["train"], "Missing argument 'CONFIG'", "dlexp train"),
    (["train", "c.yaml", "--nope"], "No such option: --nope", "dlexp train"),
    (["train", "c.yaml", "--set"], "'--set' requires an argument", "dlexp train"),
    (["train", "c.yaml", "--epochs", "3"],
     "(a config setting: --set training.epochs=…;", "dlexp train"),
    (["compare", "c.yaml", "--lr", "3"],
     "(a config setting: --set optimizer.lr=…;", "dlexp compare"),
])
def test_parser_errors_are_one_line_naming_the_help(args, words, where):
    from typer.testing import CliRunner

    from dlexp.cli import app
    result = CliRunner().invoke(app, args, prog_name="dlexp")
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and words in line
    assert line.endswith(f"({where} --help)") or line.endswith(f"; {where} --help)")
    assert "Traceback" not in result.output


def test_dlexp_alone_prints_the_help():
    from typer.testing import CliRunner

    from dlexp.cli import app
    result = CliRunner().invoke(app, [], prog_name="dlexp")
    assert result.exit_code == 0 and result.stderr == ""
    assert "Usage: dlexp" in result.stdout and "train" in result.stdout


def test_version_is_the_installed_one():
    from importlib.metadata import version

    from typer.testing import CliRunner

    from dlexp.cli import app
    result = CliRunner().invoke(app, ["--version"], prog_name="dlexp")
    assert result.exit_code == 0 and result.output.strip() == f"dlexp {version('dlexp')}"


# --- bounded config reads -----------------------------------------------------------------

def test_a_config_is_read_only_up_to_its_size_limit(tmp_path, monkeypatch):
    from dlexp import config_yaml
    from dlexp.config_yaml import read_yaml_mapping
    with pytest.raises(ConfigError, match=r"/dev/zero: larger than 1 MiB"):
        read_yaml_mapping("/dev/zero")                 # endless: refused after 1 MiB
    big = tmp_path / "big.yaml"
    big.write_text("name: big\n# " + "x" * 5000 + "\n")
    monkeypatch.setattr(config_yaml, "MAX_BYTES", 4096)
    with pytest.raises(ConfigError, match="big.yaml: larger than"):
        read_yaml_mapping(big)


def test_yaml_aliases_cannot_expand_beyond_the_bound(tmp_path):
    """The billion laughs: nine levels of nine aliases are 9⁹ values once expanded."""
    from dlexp.config_yaml import apply_overrides, read_yaml_mapping
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    path = tmp_path / "laughs.yaml"
    path.write_text("\n".join(lines + ["optimizer: {lr: *a8}"]) + "\n")
    with pytest.raises(ConfigError, match="laughs.yaml: too large .* aliases"):
        read_yaml_mapping(path)
    few = tmp_path / "few.yaml"                      # an alias or two is still fine
    few.write_text("a: &h [8, 8]\nmodel: {hidden: *h}\n")
    assert read_yaml_mapping(few)["model"]["hidden"] == [8, 8]
    value = "[" + ", ".join(["&z [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"] + ["*z"] * 20) + "]"
    assert len(apply_overrides({}, [f"model.hidden={value}"])["model"]["hidden"]) == 21


@pytest.mark.parametrize("digits", [20, 4000, 5000])
def test_huge_integers_in_a_config_are_one_line(tmp_path, digits):
    from dlexp.config_yaml import apply_overrides, read_yaml_mapping
    path = tmp_path / "big-int.yaml"
    path.write_text(f"training: {{epochs: {'9' * digits}}}\n")
    with pytest.raises(ConfigError, match=rf"big-int.yaml: .* \({digits} characters\) is beyond"):
        read_yaml_mapping(path)
    with pytest.raises(ConfigError, match="--set training.epochs: .* smaller number"):
        apply_overrides({}, [f"training.epochs={'9' * digits}"])
    assert apply_overrides({}, ["training.epochs=9223372036854775807"])["training"]["epochs"] > 0


# --- counts and values bounded before any work --------------------------------------------

@pytest.mark.parametrize("args, words", [
    (["search", "--trials", "1000000000", "--rounds", "1000000000"], "--trials 1000000000: at most"),
    (["search", "--storage", "sqlite:///:memory:"], "in-memory database"),
    (["search", "--storage", "sqlite://"], "in-memory database"),
    (["optimizer-paths", "--steps", "1000000000000"], "--steps 1000000000000: must be 1 to"),
    (["activations", "--std", "1e308"], "--std 1e+308: the standard deviation must be"),
    (["activations", "--std", "nan"], "--std nan: the standard deviation must be"),
])
def test_counts_and_values_are_bounded_before_any_work(cli, tiny_data_env, tmp_path, args,
                                                       words):
    runs = tmp_path / "runs"
    line = cli.one_line_error(cli(*args, "--runs-dir", runs))
    assert words in line
    assert not runs.exists()                            # nothing was started


def test_a_test_set_of_no_images_is_refused(tiny_mnist, tmp_path, monkeypatch, cli):
    import shutil
    data = tmp_path / "empty-test"
    shutil.copytree(tiny_mnist, data)
    write_idx(data / "t10k-images-idx3-ubyte.gz", np.zeros((0, 28, 28), np.uint8))
    write_idx(data / "t10k-labels-idx1-ubyte.gz", np.zeros((0,), np.uint8))
    monkeypatch.setenv("DLEXP_DATA_DIR", str(data))
    config = tmp_path / "c.yaml"
    config.write_text("name: c\ndata: {val_size: 40}\ntraining: {epochs: 1}\n")
    line = cli.one_line_error(cli.train(config, tmp_path / "runs"))
    assert "the test set has 0 images" in line
    assert not (tmp_path / "runs").exists()
