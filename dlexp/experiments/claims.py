"""The claims of chapter 6 in the chapter's order, each with the experiment that tests it
and its checks ``{what it asks: test of the numbers measure reads from the folder}``; the
rule the report prints is made of the checks' words. A verdict is ``holds``, ``partly`` or
``differs``, with the numbers compared and, unless it holds, why not."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from dlexp.book import BN_TARGET
from dlexp.fmt import fmt
from dlexp.io import read_csv, read_json


def grade(checks: Sequence[tuple[bool, str]], measured: str) -> dict[str, str]:
    """The verdict: ``holds`` when every ``(passed, what it asks)`` check passes,
    ``differs`` when none does, else ``partly``; the numbers compared, in words
    (``measured``); the reason lists the checks that failed ("" when it holds)."""
    failed = [what for ok, what in checks if not ok]
    verdict = "holds" if not failed else "differs" if len(failed) == len(checks) else "partly"
    return {"verdict": verdict, "measured": measured,
            "reason": "; ".join(f"not so: {w}" for w in failed)}


@dataclass(frozen=True)
class Claim:
    section: str
    sentence: str                        # what the chapter says
    measure: Callable[[Path], tuple[Any, str]]     # folder → (numbers, them in words)
    checks: Mapping[str, Callable[[Any], bool]]    # what each check asks → its test

    @property
    def rule(self) -> str:
        """How the verdict is decided, in the checks' words."""
        n = len(self.checks)
        return (f"holds if {'both' if n == 2 else 'each'} of these: {'; '.join(self.checks)}"
                f" — partly if {'one' if n == 2 else 'some'}")

    def judge(self, folder: Path) -> dict[str, str]:
        numbers, measured = self.measure(folder)
        return grade([(bool(test(numbers)), what) for what, test in self.checks.items()],
                     measured)


def listed(values: Mapping[str, float | None], digits: int = 3) -> str:
    """``a 0.12, b 0.34`` (None: ``—``)."""
    return ", ".join(f"{k} {fmt(v, digits)}" for k, v in values.items())


def _paths(d: Path) -> tuple[dict, str]:
    turns = {}
    for name in ("sgd", "momentum", "adagrad", "adam"):
        ys = [float(r["y"]) for r in read_csv(d / "paths.csv") if r["optimizer"] == name]
        turns[name] = int(np.sum(np.diff(np.sign(ys)) != 0))      # y crossing the valley
    return turns, "times y changes sign in 30 updates: " + listed(turns, 0)


def _optimizers(d: Path) -> tuple[dict, str]:
    """Per label, the first update whose mean smoothed loss is below 0.5 (inf: never)."""
    rows = read_csv(d / "loss.csv")
    steps = {"sgd": math.inf, **{r["label"]: math.inf for r in rows}}
    for r in reversed(rows):                        # the earliest such update is kept
        if float(r["smooth"]) < 0.5:
            steps[r["label"]] = int(r["step"])
    return steps, "updates until the smoothed loss < 0.5: " + listed(steps, 0).replace(
        "inf", "never")


def _adam_bias(d: Path) -> tuple[dict, str]:
    info = read_json(d / "adam_bias.json")
    ratio = {src: by["uncorrected"]["early_step"] / by["corrected"]["early_step"]
             for src, by in info.items()}
    first = info["surface"]["corrected"]["first_step_over_lr"]
    m = {k: v["mean_loss"] for k, v in info["mnist"].items()}
    return {**ratio, "first": first}, (
        f"first step on the bowl / η (corrected): {first:.3f}; uncorrected / corrected "
        f"median step over the first 10 updates: MNIST {ratio['mnist']:.2f}×, bowl "
        f"{ratio['surface']:.2f}×; MNIST mean loss over the first "
        f"{info['mnist']['corrected']['updates']} updates: " + listed(m))


def _lr_decay(d: Path) -> tuple[dict, str]:
    """Per optimiser, constant's lowest final loss − the best decaying schedule's highest."""
    loss: dict[str, list[float]] = {}
    for r in read_csv(d / "runs.csv"):
        if r["status"] == "completed" and r["final_train_loss"]:
            loss.setdefault(r["label"], []).append(float(r["final_train_loss"]))
    out, parts = {}, []
    for opt in sorted({k.split("_")[0] for k in loss}):
        const = loss.get(f"{opt}_constant", [])
        best = min((k for k in loss if k.startswith(f"{opt}_") and k != f"{opt}_constant"),
                   key=lambda k: np.mean(loss[k]))
        out[opt] = min(const) - max(loss[best]) if const else -math.inf   # > 0: apart
        parts.append(f"{opt}: constant {np.mean(const):.4f}, best "
                     f"{best.split('_', 1)[1]} {np.mean(loss[best]):.4f}")
    return out, "final loss (mean of seeds): " + "; ".join(parts)


BIG, SMALL, XAVIER = "normal(std=1)", "normal(std=0.01)", "lecun_normal"


def _activations(d: Path) -> tuple[dict, str]:
    """Per initialiser, (saturated share, std of h), means over the layers."""
    by: dict[str, list[tuple[float, float]]] = {}
    for r in read_csv(d / "stats.csv"):
        by.setdefault(r["init"], []).append((float(r["saturated_or_zero"]), float(r["act_std"])))
    means = {k: tuple(np.mean(v, axis=0).tolist()) for k, v in by.items()}
    return means, "mean over 5 layers, saturated share / std of h: " + "; ".join(
        f"{k} {means[k][0]:.3f} / {means[k][1]:.3f}" for k in (BIG, SMALL, XAVIER))


def _inits(d: Path) -> tuple[dict, str]:
    loss = {r["init"]: float(r["final_smoothed_loss"]) if r["final_smoothed_loss"] else None
            for r in read_csv(d / "summary.csv")}
    return {k: v or math.inf for k, v in loss.items()}, "final smoothed loss: " + listed(loss)


def _batchnorm(d: Path) -> tuple[dict, str]:
    s = read_json(d / "summary.json")["batchnorm"]
    speed = "—" if s["median_speedup"] is None else f"{s['median_speedup']:.2f}×"
    return s, (f"scales reaching {s['target']:g} training accuracy: batch norm "
               f"{s['bn_reached']}, plain {s['plain_reached']} of {s['scales']}; median "
               f"speed-up {speed}")


def _narrows(plain: str, treated: str) -> dict[str, Callable[[dict], bool]]:
    return {f"{treated}'s gap is smaller than {plain}'s":
            lambda g: g[treated]["gap_val"] < g[plain]["gap_val"],
            f"{treated}'s gap is at most half of {plain}'s":
            lambda g: g[treated]["gap_val"] <= 0.5 * g[plain]["gap_val"]}


def _ensemble(d: Path) -> tuple[dict, str]:
    e = read_json(d / "summary.json")["ensemble"]["plain"]
    e["mean"] = next(float(r["test_acc"]) for r in read_csv(d / "summary.csv")
                     if r["variant"] == "plain")
    return e, (f"test accuracy: {e['members']} networks averaged "
               f"{e['ensemble_test_acc']:.4f}; members mean {e['mean']:.4f}, best "
               f"{e['member_test_max']:.4f}")


def _gaps(d: Path) -> tuple[dict, str]:
    gaps = read_json(d / "summary.json")["gaps"]
    return gaps, "train − validation accuracy gap / validation accuracy: " + "; ".join(
        f"{k} {g['gap_val']:.3f} / {g['final_val_acc']:.3f}" for k, g in gaps.items())


def _search(d: Path) -> tuple[dict, str]:
    s = read_json(d / "search_methods.json")
    imp = s["random"]["importances"]
    top = max(imp, key=imp.get)
    return {**s, "top": top}, (
        "best validation accuracy (mean of searches): "
        + listed({m: v["best_mean"] for m, v in s.items()})
        + f"; distinct {top} values: " + listed({m: v["distinct"][top] for m, v in s.items()}, 0)
        + f"; importance ({s['random']['importance_method']}, random search): "
        + listed(imp, 2))


def _step_fade(d: Path) -> tuple[dict, str]:
    info = read_json(d / "step_fade.json")
    fades = {f"{src} {k}": v["fade"] for src, by in info.items() for k, v in by.items()}
    return fades, "late/early step ratio (MNIST: ‖Δθ‖; x²/20+y²: η/√h): " + listed(fades)


CLAIMS: dict[str, Claim] = {                  # by experiment (reproduce.EXPERIMENTS)
    "optimizer-paths": Claim("6.1.2 SGD", "On f = x²/20 + y², SGD zig-zags across the "
          "valley; AdaGrad and Adam head along it.", _paths, {
              "SGD's y changes sign at ≥ 10 of its 30 updates": lambda t: t["sgd"] >= 10,
              "SGD's y changes sign more often than AdaGrad's and Adam's":
                  lambda t: t["sgd"] > max(t["adagrad"], t["adam"])}),
    "compare-optimizers": Claim("6.1.7 MNIST", "On MNIST, SGD learns slowest; Momentum, "
          "AdaGrad, RMSProp and Adam learn faster.", _optimizers, {
              "SGD's seed-mean smoothed loss needs ≥ 2× the updates of every other method "
              "to fall below 0.5": lambda s: all(
                  s["sgd"] >= 2 * v and v < math.inf for k, v in s.items() if k != "sgd"),
              "SGD is the slowest": lambda s: s["sgd"] == max(s.values())}),
    "step-fade": Claim("6.1.5 AdaGrad", "Learning on, AdaGrad's updates fade to 0; "
          "RMSProp forgets old gradients and keeps stepping.", _step_fade, {
              "on MNIST, AdaGrad's late/early ratio (medians of the last and first 10 % of "
              "updates) is below half of RMSProp's":
                  lambda f: f["mnist adagrad"] < 0.5 * f["mnist rmsprop"],
              "on x²/20 + y², AdaGrad's late/early ratio is below half of RMSProp's":
                  lambda f: f["surface adagrad"] < 0.5 * f["surface rmsprop"]}),
    "adam-bias": Claim("6.1.6 Adam", "Adam corrects the bias of its moment estimates, "
          "which start at 0: with the correction its first step is η per coordinate, "
          "without it the first steps are mis-scaled.", _adam_bias, {
              "corrected, the first step on x²/20 + y² is η within 1 %":
                  lambda r: abs(r["first"] - 1) < 0.01,
              "uncorrected, the median step over MNIST's first 10 updates is ≥ 2× the "
              "corrected one": lambda r: r["mnist"] >= 2,
              "uncorrected, the median step over the bowl's first 10 updates is ≥ 2× the "
              "corrected one": lambda r: r["surface"] >= 2}),
    "lr-decay": Claim("6.1.5 lr decay", "Decaying the learning rate (large first, then "
          "smaller) trains better than a constant rate.", _lr_decay, {
              "for SGD, the best decaying schedule's final loss is below constant's with "
              "the seeds' ranges apart": lambda apart: apart["sgd"] > 0,
              "for Momentum, the best decaying schedule's final loss is below constant's "
              "with the seeds' ranges apart": lambda apart: apart["momentum"] > 0}),
    "activations": Claim("6.2.2 activations", "With sigmoid, std-1 weights push the "
          "activations to 0 and 1, std 0.01 bunches them at 0.5, and Xavier spreads them.",
          _activations, {
              "averaged over the 5 layers, std 1 saturates > 30 % of the outputs "
              "(h < 0.01 or > 0.99)": lambda m: m[BIG][0] > 0.3,
              "std 0.01's outputs have std < 0.05": lambda m: m[SMALL][1] < 0.05,
              "Xavier saturates < 5 % with a std > 2× std 0.01's":
                  lambda m: m[XAVIER][0] < 0.05 and m[XAVIER][1] > 2 * m[SMALL][1]}),
    "compare-inits": Claim("6.2.3 ReLU init", "With ReLU, He initialisation learns "
          "fastest; std 0.01 barely learns and all-zero weights do not learn.", _inits, {
              "He's final smoothed loss ≤ Xavier's":
                  lambda e: e["he_normal"] <= e["lecun_normal"],
              "He's and Xavier's < half of std 0.01's":
                  lambda e: max(e["he_normal"], e["lecun_normal"]) < 0.5 * e["std=0.01"],
              "zeros' > 2.0 (near chance)": lambda e: e["zeros"] > 2.0}),
    "batchnorm": Claim("6.3.2 batch norm", "Batch norm speeds learning up and makes it "
          "depend less on the initial weight scale.", _batchnorm, {
              f"batch norm reaches {BN_TARGET * 100:g} % training accuracy at more weight scales "
              "than plain": lambda s: s["bn_reached"] > s["plain_reached"],
              "where both reach it, batch norm needs no more epochs (median)":
                  lambda s: s["median_speedup"] is None or s["median_speedup"] >= 1}),
    "batchnorm-overfit": Claim("6.3.1 batch norm", "Batch norm suppresses overfitting.",
          _gaps, {
              "on 300 images, batch norm's train − validation gap is smaller than plain's":
                  lambda g: g["bn"]["gap_val"] < g["plain"]["gap_val"],
              "batch norm's validation accuracy is higher than plain's":
                  lambda g: g["bn"]["final_val_acc"] > g["plain"]["final_val_acc"]}),
    "overfit-weight-decay": Claim("6.4.2 weight decay", "Weight decay (λ = 0.1) "
          "narrows the gap between training and held-out accuracy.", _gaps,
          _narrows("l2=0", "l2=0.1")),
    "overfit-dropout": Claim("6.4.3 dropout", "Dropout (p = 0.2) narrows the gap "
          "between training and held-out accuracy.", _gaps,
          _narrows("dropout=0", "dropout=0.2")),
    "ensemble": Claim("6.4.3 ensembles", "Averaging the outputs of several networks "
          "recognises better than one network.", _ensemble, {
              "the average beats the mean member": lambda e: e["ensemble_test_acc"] > e["mean"],
              "the average beats the best member":
                  lambda e: e["ensemble_test_acc"] > e["member_test_max"]}),
    "search-methods": Claim("6.5.2 search", "Random search beats grid search at equal "
          "budget, because hyperparameters differ in how much they matter.", _search, {
              "random search's best (mean over searches) ≥ grid's":
                  lambda s: s["random"]["best_mean"] >= s["grid"]["best_mean"],
              "random search tried more values of the most important parameter":
                  lambda s: s["random"]["distinct"][s["top"]] > s["grid"]["distinct"][s["top"]],
              "the most important parameter's importance > 0.5":
                  lambda s: s["random"]["importances"][s["top"]] > 0.5}),
}
