"""What the figures and listings tell a user: labels that say how a curve was measured,
the format an output file's extension asks for, folder names that never wrap, and a
batch-norm grid whose titles and legend do not cover each other. Run folders are written
by hand (config.yaml, metrics.jsonl, CSVs), so nothing here trains."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

RECORDS = [{"epoch": e, "step": 5 * e, "train_loss": 1.0 / e, "train_acc": 0.5 + 0.1 * e,
            "val_loss": 1.2 / e, "val_acc": 0.4 + 0.1 * e, "lr": 0.01, "seconds": 0.1}
           for e in (1, 2, 3)]


def fake_run(folder: Path, train_eval: str | None = "full", l2: float = 0.0) -> Path:
    """A finished run folder: config.yaml (train_eval, l2) and three epochs of metrics."""
    folder.mkdir(parents=True)
    config = {"name": folder.name, "regularization": {"l2": l2, "l1": 0.0},
              "training": {"epochs": 3} if train_eval is None else
              {"epochs": 3, "train_eval": train_eval}}
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    return folder


@pytest.fixture
def captured(monkeypatch):
    """Every figure save_figure is given, as a list of (path, y labels of its axes)."""
    from dlexp.plots import base, runs
    seen: list[tuple[Path, list[str]]] = []
    real = base.save_figure

    def capture(fig, path, dpi=110):
        seen.append((Path(path), [ax.get_ylabel() for ax in fig.axes]))
        return real(fig, path, dpi)

    monkeypatch.setattr(runs, "save_figure", capture)
    monkeypatch.setattr("dlexp.plots.compare.save_figure", capture)
    return seen


# --- 1. training-metric labels follow training.train_eval (and weight decay) ----------

@pytest.mark.parametrize("modes, expected", [
    (["full", "full"], "training loss (whole training set)"),
    (["running", "running"], "training loss (mean since the previous evaluation)"),
    (["full", "running"], "training loss (whole set or running mean: "
                          "training.train_eval differs)"),
    ([None], "training loss (whole training set)"),           # not written: the default
])
def test_plot_train_loss_label_follows_train_eval(cli, tmp_path, captured, modes, expected):
    runs = [fake_run(tmp_path / f"r{k}", mode) for k, mode in enumerate(modes)]
    out = tmp_path / "overlay.png"
    result = cli("plot", *runs, "--metric", "train_loss", "-o", out)
    assert result.exit_code == 0, result.output
    assert [(path, [" ".join(y.split()) for y in ylabels]) for path, ylabels in captured
            ] == [(out, [expected])]                    # (the label may take two lines)


def test_train_acc_label_and_weight_decay_objective(tmp_path):
    from dlexp.plots.runs import metric_parts, minibatch_loss_label
    from dlexp.train.rundir import has_weight_decay
    running = [fake_run(tmp_path / "a", "running")]
    assert metric_parts("train_acc", running) == (
        "training accuracy", "mean since the previous evaluation")
    assert metric_parts("val_acc", running) == ("validation accuracy", "")
    decayed = [fake_run(tmp_path / "b", "full"), fake_run(tmp_path / "c", "full", l2=0.1)]
    assert metric_parts("train_loss", decayed) == (
        "training objective: loss + weight-decay penalty", "whole training set")
    assert metric_parts("val_loss", decayed) == ("validation loss", "")  # cross-entropy alone
    assert has_weight_decay(decayed) and not has_weight_decay(decayed[:1])
    assert minibatch_loss_label(False) == "training loss (minibatch)"


def test_comparison_loss_figure_names_the_objective_with_weight_decay(tmp_path, captured):
    from dlexp.io import write_csv
    from dlexp.plots.compare import plot_compare
    for l2s, name in (((0.0, 0.1), "wd"), ((0.0, 0.0), "plain")):
        out = tmp_path / name
        rows, loss = [], []
        for k, l2 in enumerate(l2s):
            fake_run(out / f"v{k}", "full", l2=l2)
            rows.append({"label": f"v{k}", "run": f"v{k}"})
            loss += [{"label": f"v{k}", "step": s, "n": 1, "raw": 40 * l2 + 1 / s,
                      "smooth": 40 * l2 + 1 / s, "smooth_std": 0, "smooth_min": 0,
                      "smooth_max": 0} for s in (1, 2, 3, 4)]
        write_csv(out / "runs.csv", rows)
        write_csv(out / "loss.csv", loss)
        plot_compare(out)
    labels = {path.parent.parent.name: ylabels[0] for path, ylabels in captured}
    assert labels == {"wd": "training objective: loss + weight-decay penalty (minibatch), "
                            "log scale",
                      "plain": "training loss (minibatch)"}


def test_comparison_loss_figure_zooms_on_the_curves_that_learn(tmp_path):
    """A curve that stays at its start (zeros, std 0.01) is left out of the zoomed panel's
    range and named in its title; the legend gives every curve's final value."""
    import matplotlib.pyplot as plt

    from dlexp.io import write_csv
    from dlexp.plots import compare
    loss = []
    for label, end in (("stuck", 2.3), ("learns", 0.2), ("better", 0.1)):
        loss += [{"label": label, "step": s, "n": 1, "raw": v, "smooth": v, "smooth_std": 0,
                  "smooth_min": v, "smooth_max": v}
                 for s in range(1, 11) for v in [2.3 + (end - 2.3) * s / 10]]
    write_csv(tmp_path / "loss.csv", loss)
    figures = []
    original = compare.save_figure
    compare.save_figure = lambda fig, path, **kw: figures.append(fig) or original(fig, path, **kw)
    try:
        compare.plot_compare(tmp_path)
    finally:
        compare.save_figure = original
    ax, zoom = figures[0].axes[:2]
    assert zoom.get_ylim()[1] < 2.0 and zoom.get_ylim()[0] < 0.1
    assert "off the scale: stuck" in zoom.get_title()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "stuck (ends 2.3)", "learns (ends 0.2)", "better (ends 0.1)"]
    plt.close("all")


def test_comparison_with_a_run_cut_short_early_still_gets_its_figure(tmp_path):
    """A variant stopped (Ctrl-C) before half of the longest one's updates has no points
    in the zoomed last half; with seeds averaged (n = 2) that once raised in the band."""
    from dlexp.io import write_csv
    from dlexp.plots.compare import plot_compare
    out = tmp_path / "cmp"
    rows, loss = [], []
    for label, steps in (("long", 40), ("short", 3)):
        fake_run(out / label)
        rows.append({"label": label, "run": label})
        loss += [{"label": label, "step": s, "n": 2, "raw": 1 / s, "smooth": 1 / s,
                  "smooth_std": 0.01, "smooth_min": 0.9 / s, "smooth_max": 1.1 / s}
                 for s in range(1, steps + 1)]
    write_csv(out / "runs.csv", rows)
    write_csv(out / "loss.csv", loss)
    paths = plot_compare(out)
    assert out / "plots" / "loss.png" in paths and (out / "plots" / "loss.png").stat().st_size


def test_progress_line_names_how_the_train_loss_was_measured():
    from dlexp.config import config_from_dict
    from dlexp.experiments.tables import comparison_loss_name, run_line
    record = {"status": "completed", "final_train_loss": 0.25, "best_val_acc": 0.9}

    def cfg(train_eval: str | None = None, l2: float = 0.0):
        training = {"train_eval": train_eval} if train_eval else {}
        return config_from_dict({"training": training, "regularization": {"l2": l2}})
    assert comparison_loss_name([cfg("full")]) == "train loss (whole set)"
    assert comparison_loss_name([cfg("running")]) == "train loss since last eval"
    name = comparison_loss_name([cfg("full", l2=0.1)])
    assert name == "train objective (whole set)"
    assert comparison_loss_name([cfg()]) == "train loss (whole set)"          # the default
    assert run_line(record, name).startswith("completed  train objective (whole set) 0.25")


# --- 3. the output's extension picks the format; bad paths are one line ---------------

def test_plot_writes_the_format_of_the_extension(cli, tmp_path):
    run = fake_run(tmp_path / "run")
    magic = {"x.pdf": b"%PDF", "x.PNG": b"\x89PNG", "x.png": b"\x89PNG"}
    for name, start in magic.items():
        result = cli("plot", run, "-o", tmp_path / name)
        assert result.exit_code == 0, result.output
        assert (tmp_path / name).read_bytes().startswith(start), name
    assert cli("plot", run, "-o", tmp_path / "x.svg").exit_code == 0
    svg = (tmp_path / "x.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg


@pytest.mark.parametrize("name", ["x.txt", "x"])
def test_plot_refuses_an_unsupported_extension(cli, tmp_path, name):
    run = fake_run(tmp_path / "run")
    line = cli.one_line_error(cli("plot", run, "-o", tmp_path / name))
    assert ".png, .pdf, .svg" in line and str(tmp_path / name) in line
    assert not (tmp_path / name).exists()


def test_plot_under_a_file_says_so(cli, tmp_path):
    run = fake_run(tmp_path / "run")
    (tmp_path / "afile").write_text("x")
    line = cli.one_line_error(cli("plot", run, "-o", tmp_path / "afile" / "sub" / "x.png"))
    assert f"{tmp_path / 'afile'} is a file, not a folder" in line
    assert "File exists" not in line


# --- 2. dlexp runs never wraps a folder name --------------------------------------------

@pytest.mark.parametrize("columns", ["30", "80"])
def test_runs_keeps_each_folder_name_on_one_line(cli, tmp_path, monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", columns)                  # narrow, and the pipe default
    root = tmp_path / "runs"
    names = ["baseline-20261128-035033",
             "compare-weight-decay-lambda-sweep-with-a-long-name-20261128-041212"]
    for name in names:
        fake_run(root / name)
        (root / name / "meta.json").write_text(json.dumps(
            {"started": "2026-11-28T03:50:33+0000"}))
        (root / name / "summary.json").write_text(json.dumps(
            {"status": "completed", "best_val_acc": 0.9712, "test_acc": 0.9698}))
    result = cli("runs", "--runs-dir", root)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    for name in names:
        row = [line for line in lines if name in line]
        assert len(row) == 1, result.stdout                 # whole, on one line
        cells = row[0].split()
        assert cells[0] == name and cells[1] == "train" and cells[3:] == [
            "completed", "0.971", "0.97"]                    # 3 figures, no trailing 0


# --- 5. the batch-norm grid: no title or legend over a panel -----------------------------

def fake_batchnorm(out: Path, scales: int) -> Path:
    from dlexp.io import write_csv
    summary, curves = [], []
    for i in range(scales):
        w = 10.0 ** (-i)
        for side, bn in (("bn", "true"), ("plain", "false")):
            label = f"{side}-w{w:g}"
            summary.append({"variant": label, "model.init_std": w, "model.batchnorm": bn,
                            "status": "diverged" if (i, side) == (0, "plain") else
                            "completed"})
            curves += [{"label": label, "step": e, "epoch": e, "n": 1, "mean": e / 10,
                        "std": 0, "min": e / 10, "max": e / 10} for e in range(1, 6)]
    write_csv(out / "summary.csv", summary)
    write_csv(out / "train_accuracy.csv", curves)
    return out


@pytest.mark.parametrize("scales", [1, 2, 4, 5])
def test_batchnorm_grid_titles_and_legend_stay_off_the_panels(tmp_path, monkeypatch,
                                                               scales):
    from dlexp.plots import base, overfit
    boxes = {}

    def capture(fig, path, dpi=110):
        fig.canvas.draw()
        r = fig.canvas.get_renderer()
        shown = [ax for ax in fig.axes if ax.get_visible()]
        boxes["suptitle"] = fig._suptitle.get_window_extent(r)
        boxes["legend"] = fig.legends[0].get_window_extent(r)
        boxes["titles"] = [ax.title.get_window_extent(r) for ax in shown]
        boxes["panels"] = [ax.get_window_extent(r) for ax in shown]
        boxes["size"] = fig.bbox
        return base.save_figure(fig, path, dpi)

    monkeypatch.setattr(overfit, "save_figure", capture)
    path = overfit.plot_bn_grid(fake_batchnorm(tmp_path, scales))
    assert path.read_bytes()[:4] == b"\x89PNG" and len(boxes["panels"]) == scales
    for box in boxes["titles"] + boxes["panels"]:
        assert not boxes["suptitle"].overlaps(box)
        assert not boxes["legend"].overlaps(box)
    for name in ("suptitle", "legend"):                     # and inside the figure
        assert boxes["size"].x0 <= boxes[name].x0 and boxes[name].x1 <= boxes["size"].x1


def test_legend_shows_first_what_sets_each_run_apart(tmp_path):
    """Four runs, each differing from the others in a different setting: every label
    leads with its own, not with the first keys where most runs agree."""
    from dlexp.plots.runs import legend_labels
    dirs = []
    for k, (key, value) in enumerate([("l1", 0.0), ("l1", 0.5), ("l2", 0.3),
                                      ("decay_all", True)]):
        d = fake_run(tmp_path / f"r{k}")
        cfg = yaml.safe_load((d / "config.yaml").read_text())
        cfg["regularization"] = {"l2": 0.0, "l1": 0.0, "decay_all": False, key: value}
        cfg["training"]["epochs"] = 3 + k
        (d / "config.yaml").write_text(yaml.safe_dump(cfg))
        dirs.append(d)
    labels = legend_labels(dirs, most=1)
    assert labels[dirs[1]] == "r1: regularization.l1=0.5, …"
    assert labels[dirs[2]] == "r2: regularization.l2=0.3, …"
    assert labels[dirs[3]] == "r3: regularization.decay_all=true, …"


def test_plot_names_a_damaged_metrics_file(cli, tmp_path):
    """Bytes that are not UTF-8 and lines that are not JSON objects are skipped when
    reading; a file with nothing readable left is named as damaged, not as 'no epoch yet'."""
    from dlexp.io import read_jsonl
    good = fake_run(tmp_path / "good")
    bad = fake_run(tmp_path / "bad")
    (bad / "metrics.jsonl").write_bytes(b"\x00\xff\xfe garbage\n3\n[1, 2]\n{oops\n")
    assert read_jsonl(bad / "metrics.jsonl") == []
    result = cli("plot", good, bad, "-o", tmp_path / "x.png")
    assert result.exit_code == 2
    assert "metrics.jsonl: no readable record (the file is damaged)" in result.output
    assert "Traceback" not in result.output
    live = fake_run(tmp_path / "live")                   # first record half written
    (live / "metrics.jsonl").write_text('{"epoch": 1, "step": 5, "train_lo')
    result = cli("plot", good, live, "-o", tmp_path / "y.png")
    assert result.exit_code == 0 and "live" in result.output   # left out, not damaged


def test_a_comparison_names_its_runs_training_loss_one_way():
    """λ = 0 and λ = 0.1 in one comparison: every run line says 'train objective', not
    'train loss' for one and 'train objective' for the other."""
    from dlexp.config import config_from_dict
    from dlexp.experiments.tables import comparison_loss_name
    plain, decayed = (config_from_dict({"training": {"train_eval": "running"},
                                        "regularization": {"l2": l2}}) for l2 in (0.0, 0.1))
    assert comparison_loss_name([plain, decayed]) == "train objective since last eval"
    assert comparison_loss_name([plain]) == "train loss since last eval"


@pytest.mark.parametrize("bn_epochs", ["", "3"])
def test_batchnorm_summary_says_when_no_scale_reached_the_target(tmp_path, monkeypatch,
                                                                 bn_epochs):
    from dlexp.io import write_csv
    from dlexp.plots import base, overfit
    out = tmp_path / "bn"
    out.mkdir()
    (out / "summary.json").write_text(json.dumps({"batchnorm": {"target": 0.9}}))
    write_csv(out / "batchnorm.csv", [
        {"init_std": w, "bn_final_acc": 0.5, "bn_epochs": bn_epochs, "bn_status": "completed",
         "plain_final_acc": 0.2, "plain_epochs": "", "plain_status": "completed"}
        for w in (0.01, 1.0)])
    seen = {}
    monkeypatch.setattr(overfit, "save_figure",
                        lambda fig, path: seen.setdefault("fig", fig) and base.save_figure(
                            fig, path))
    assert overfit.plot_bn_summary(out).is_file()
    ep_ax = seen["fig"].axes[1]
    notes = [t.get_text() for t in ep_ax.texts]
    legend = [t.get_text() for t in ep_ax.get_legend().get_texts()] if bn_epochs else []
    assert ep_ax.get_ylabel() == "epochs to reach τ = 0.9"
    if bn_epochs:                  # batch norm did, the plain network did not: its legend says
        assert notes == [] and legend == ["batch norm", "without: none reached τ"]
        assert ep_ax.get_ylim()[1] >= 3
    else:
        assert notes == ["none reached τ = 0.9"] and ep_ax.get_ylim() == (0, 1)


def test_search_methods_figure_legend_stays_off_the_bars(tmp_path, monkeypatch):
    from dlexp.io import write_csv
    from dlexp.plots import base, chapter
    out = tmp_path / "sm"
    out.mkdir()
    summary = {m: {"searches": 2, "trials": 4, "importance_method": "ped-anova",
                   "best_mean": 0.7, "distinct": {"optimizer.lr": d, "regularization.l2": d},
                   "importances": {"optimizer.lr": 0.9, "regularization.l2": 0.1}}
               for m, d in (("grid", 2.0), ("random", 4.0), ("tpe", 4.0))}
    (out / "search_methods.json").write_text(json.dumps(summary))
    write_csv(out / "best_so_far.csv", [{"method": m, "trial": t, "mean": 0.1 * t,
                                         "min": 0.1 * t, "max": 0.1 * t}
                                        for m in summary for t in range(1, 5)])
    boxes = {}

    def capture(fig, path, dpi=110):
        fig.canvas.draw()
        r = fig.canvas.get_renderer()
        boxes["legends"] = [leg.get_window_extent(r) for ax in fig.axes
                            for leg in [ax.get_legend()] if leg and ax is not fig.axes[0]]
        boxes["legends"] += [leg.get_window_extent(r) for leg in fig.legends]
        boxes["bars"] = [p.get_window_extent(r) for ax in fig.axes[1:] for p in ax.patches]
        return base.save_figure(fig, path, dpi)

    monkeypatch.setattr(chapter, "save_figure", capture)
    assert chapter.plot_search_methods(out).is_file()
    assert boxes["legends"] and len(boxes["bars"]) == 2 * 2 * 3
    assert not any(leg.overlaps(bar) for leg in boxes["legends"] for bar in boxes["bars"])
