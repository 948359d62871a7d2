"""The activation-distribution experiment: statistics that show the book's points."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from typer.testing import CliRunner

from dlexp.cli import app
from dlexp.experiments.activations import (HIST_BINS, InitChoice, histogram_rows, layer_stats,
                                           trace_layers)


def _stats(activation, name, std=None):
    return layer_stats(trace_layers(activation, InitChoice(name, std), samples=500, seed=1))


def test_trace_shapes_and_order():
    t = trace_layers("tanh", InitChoice("glorot_normal"), samples=30, units=8, layers=4)
    assert len(t.outputs) == len(t.grads) == 4
    assert all(h.shape == (30, 8) for h in t.outputs + t.grads)


def test_delta_is_the_chain_rule_of_the_forward_pass():
    # δ_k = (δ_{k+1} W_{k+1}ᵀ) ⊙ σ'(a_k) with σ' = h(1−h): recover W_{k+1} from a fresh draw.
    seed, units = 3, 6
    t = trace_layers("sigmoid", InitChoice("normal", 0.5), samples=10, units=units, layers=3,
                     seed=seed)
    rng = np.random.default_rng(seed)
    rng.standard_normal((10, units))                          # the inputs
    Ws = [rng.standard_normal((units, units)) * 0.5 for _ in range(3)]
    for k in range(2):
        h = t.outputs[k]
        expected = (t.grads[k + 1] @ Ws[k + 1].T) * h * (1 - h)
        np.testing.assert_allclose(t.grads[k], expected, rtol=1e-12, atol=1e-15)


def test_sigmoid_std1_saturates_and_std001_collapses():
    big = _stats("sigmoid", "normal", 1.0)
    small = _stats("sigmoid", "normal", 0.01)
    assert all(r["saturated_or_zero"] > 0.3 for r in big)
    assert all(r["act_std"] < 0.05 for r in small)            # everything near 0.5
    assert small[0]["delta_abs_mean"] < 1e-3 * small[-1]["delta_abs_mean"]   # vanishing


def test_relu_he_keeps_scale_where_std001_shrinks():
    he = _stats("relu", "he_normal")
    tiny = _stats("relu", "normal", 0.01)
    assert 0.5 < he[-1]["act_std"] / he[0]["act_std"] < 2.0
    assert tiny[-1]["act_std"] < 1e-3 * tiny[0]["act_std"]


def test_zeros_gives_all_dead_relu_units():
    assert all(r["saturated_or_zero"] == 1.0 for r in _stats("relu", "zeros"))


def test_cli_grid_writes_stats_histograms_and_plots(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    res = CliRunner().invoke(app, ["activations", "--grid", "--activation", "tanh",
                                   "--samples", "50", "--units", "20", "--layers", "2",
                                   "--runs-dir", str(tmp_path)])
    assert res.exit_code == 0, res.output
    (run,) = tmp_path.iterdir()
    rows = list(csv.DictReader(open(run / "stats.csv")))
    assert len(rows) == 6 * 2
    assert "saturated" in res.output and "…" not in res.output
    assert all(len(line) <= 80 for line in res.output.splitlines()[1:-1])
    hist = list(csv.DictReader(open(run / "histograms.csv")))
    assert len(hist) == 6 * 2 * 2 * HIST_BINS                 # inits × kinds × layers × bins
    layer1 = [h for h in hist if (h["init"], h["kind"], h["layer"]) == ("glorot_normal",
                                                                        "outputs", "1")]
    assert sum(int(h["count"]) for h in layer1) == 50 * 20   # every unit of every input
    assert (float(layer1[0]["low"]), float(layer1[-1]["high"])) == (-1.0, 1.0)
    for png in ("activations.png", "gradients.png"):
        assert (run / "plots" / png).stat().st_size > 0
        (run / "plots" / png).unlink()
    from dlexp.plots.chapter import plot_activations
    assert [p.name for p in plot_activations(run)] == ["activations.png", "gradients.png"]
    assert (run / "plots" / "gradients.png").stat().st_size > 0      # redrawn from the files


def test_histogram_rows_count_the_trace():
    t = trace_layers("relu", InitChoice("he_normal"), samples=20, units=6, layers=2, seed=2)
    rows = histogram_rows(t, bins=4)
    grads2 = [r for r in rows if r["kind"] == "grads" and r["layer"] == 2]
    counts, edges = np.histogram(t.grads[1], bins=4)
    assert [r["count"] for r in grads2] == counts.tolist()
    assert [r["low"] for r in grads2] + [grads2[-1]["high"]] == edges.tolist()


@pytest.mark.parametrize("args", [["--activation", "relux"], ["--init", "he"],
                                  ["--init", "he_normal", "--std", "2"],
                                  ["--std", "nan"], ["--std", "inf"], ["--std", "0"],
                                  ["--std", "-1"], ["--grid", "--std", "0.1"],
                                  ["--grid", "--init", "he_normal"]])
def test_cli_bad_names_exit_2(tmp_path, args):
    res = CliRunner().invoke(app, ["activations", *args, "--runs-dir", str(tmp_path)])
    assert res.exit_code == 2
    assert "error:" in res.output and "Traceback" not in res.output
    assert not any(tmp_path.iterdir())


def test_every_activation_says_which_units_are_inactive_and_its_histogram_range():
    from dlexp.experiments.activations import HIST_RANGE, INACTIVE
    from dlexp.nn.layers import ACTIVATIONS
    assert set(INACTIVE) == set(HIST_RANGE) == set(ACTIVATIONS)
    h = np.array([0.0, 0.005, 0.5, 0.995, -0.995])
    assert list(INACTIVE["relu"](h)) == [True, False, False, False, False]
    assert list(INACTIVE["sigmoid"](h)) == [True, True, False, True, True]
    assert list(INACTIVE["tanh"](h)) == [False, False, False, True, True]


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_every_histogram_panel_spans_its_own_values(tmp_path, monkeypatch, activation):
    """No panel looks empty: ReLU's std 0.01 layer 5 (values ~1e-6) spans its own range,
    std 1 layer 1 shows its zeros (about half) as a tall first bar; sigmoid outputs keep
    0…1 in every panel, so saturation and the collapse to 0.5 read as in the book."""
    from dlexp.experiments.activations import run_activations
    from dlexp.plots import chapter
    figures = {}
    monkeypatch.setattr(chapter, "save_figure",
                        lambda fig, path: figures.setdefault(path.name, fig) and path)
    run = run_activations(activation, "normal", grid=True, samples=200, units=50,
                          runs_root=tmp_path)[0]
    chapter.plot_activations(run)
    hist = list(csv.DictReader(open(run / "histograms.csv")))
    for name, kind in (("activations.png", "outputs"), ("gradients.png", "grads")):
        fig = figures[name]
        assert ("own min…max" in fig._suptitle.get_text()) == (
            activation == "relu" or kind == "grads")
        for r, init in enumerate(["normal(std=1)", "normal(std=0.01)"]):
            for k in range(1, 6):
                bins = [h for h in hist if (h["kind"], h["init"], h["layer"]) ==
                        (kind, init, str(k))]
                ax = fig.axes[r * 6 + k - 1]
                assert ax.get_xlim() == pytest.approx((float(bins[0]["low"]),
                                                       float(bins[-1]["high"])))
                if activation == "sigmoid" and kind == "outputs":
                    assert ax.get_xlim() == (0.0, 1.0)
    first = max(figures["activations.png"].axes[0].patches[0].get_path().vertices[:, 1])
    if activation == "relu":                           # the zeros of layer 1, ~half
        assert 0.45 < first <= 1.0
