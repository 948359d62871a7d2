"""The claims of chapter 6, each with the experiment that tests it, the rule that decides
its verdict (stated in words here, applied by :attr:`Claim.judge` to the folder the
experiment wrote) and the figure that shows it, in the chapter's order. A verdict is
``holds``, ``partly`` or ``differs``, with the numbers it compared and, unless it holds,
why not; nothing is written by hand after a run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from dlexp.fmt import fmt
from dlexp.io import read_csv, read_json


@dataclass(frozen=True)
class Verdict:
    verdict: str                        # holds, partly or differs
    measured: str                       # the numbers the rule compared, in words
    reason: str = ""                    # why it does not hold ("" when it does)


def grade(checks: Sequence[tuple[bool, str]], measured: str) -> Verdict:
    """``holds`` when every ``(passed, what it asks)`` check passes, ``differs`` when none
    does, else ``partly``; the reason lists the checks that failed."""
    failed = [what for ok, what in checks if not ok]
    verdict = "holds" if not failed else "differs" if len(failed) == len(checks) else "partly"
    return Verdict(verdict, measured, "; ".join(f"not so: {w}" for w in failed))


def summary_rows(folder: Path) -> dict[str, dict[str, str]]:
    """summary.csv of a comparison, by label (its first column)."""
    return {r[next(iter(r))]: r for r in read_csv(folder / "summary.csv")}


def num(value: str | float | None) -> float | None:
    """A CSV cell as a float (None when empty)."""
    return None if value in (None, "") else float(value)


def steps_below(folder: Path, level: float) -> dict[str, int | None]:
    """Per label, the first update whose mean smoothed loss is below ``level``."""
    out: dict[str, int | None] = {}
    for r in read_csv(folder / "loss.csv"):
        out.setdefault(r["label"], None)
        if out[r["label"]] is None and float(r["smooth"]) < level:
            out[r["label"]] = int(r["step"])
    return out


def run_values(folder: Path, key: str) -> dict[str, list[float]]:
    """Per label, ``key`` of every completed sub-run's summary.json (one per seed)."""
    out: dict[str, list[float]] = {}
    for r in read_csv(folder / "runs.csv"):
        if r["status"] == "completed":
            s = read_json(folder / r["run"] / "summary.json")
            if s.get(key) is not None:
                out.setdefault(r["label"], []).append(float(s[key]))
    return out


def listed(values: Mapping[str, float | None], digits: int = 3) -> str:
    """``a 0.12, b 0.34``."""
    return ", ".join(f"{k} {fmt(v, digits) if v is not None else '—'}"
                     for k, v in values.items())


@dataclass(frozen=True)
class Claim:
    section: str
    experiment: str                      # the sub-folder (reproduce.EXPERIMENTS)
    sentence: str                        # what the chapter says
    rule: str                            # how the verdict is decided
    judge: Callable[[Path], Verdict]


def _paths(d: Path) -> Verdict:
    turns = {}
    for name in ("sgd", "momentum", "adagrad", "adam"):
        ys = [float(r["y"]) for r in read_csv(d / "paths.csv") if r["optimizer"] == name]
        turns[name] = int(np.sum(np.diff(np.sign(ys)) != 0))      # y crossing the valley
    return grade([(turns["sgd"] >= 10, "SGD's y changes sign at ≥ 10 of its updates"),
                  (all(turns["sgd"] > turns[k] for k in ("adagrad", "adam")),
                   "SGD's y changes sign more often than AdaGrad's and Adam's")],
                 "times y changes sign in 30 updates: " + listed(turns, 0))


def _optimizers(d: Path) -> Verdict:
    steps = steps_below(d, 0.5)
    sgd = steps.pop("sgd", None) or math.inf
    others = {k: v or math.inf for k, v in steps.items()}
    return grade([(all(sgd >= 2 * v and v < math.inf for v in others.values()),
                   "SGD needs ≥ 2× the updates of every other method"),
                  (all(sgd >= v for v in others.values()), "SGD is the slowest")],
                 "updates until the smoothed loss < 0.5: " + listed(
                     {"sgd": sgd, **others}, 0).replace("inf", "never"))


def _step_fade(d: Path) -> Verdict:
    info = read_json(d / "step_fade.json")
    fades = {f"{src} {k}": v["fade"] for src, by in info.items() for k, v in by.items()}
    return grade([(by["adagrad"]["fade"] < 0.5 * by["rmsprop"]["fade"],
                   f"on {src}, AdaGrad's late/early ratio is below half of RMSProp's")
                  for src, by in info.items()],
                 "late/early step ratio (MNIST: ‖Δθ‖; x²/20+y²: η/√h): " + listed(fades))


def _adam_bias(d: Path) -> Verdict:
    info = read_json(d / "adam_bias.json")
    ratio = {src: by["uncorrected"]["early_step"] / by["corrected"]["early_step"]
             for src, by in info.items()}
    first = info["surface"]["corrected"]["first_step_over_lr"]
    m = info["mnist"]
    return grade([(abs(first - 1) < 0.01, "corrected, the first step is η per coordinate"),
                  (ratio["mnist"] >= 2, "uncorrected, MNIST's first 10 steps are ≥ 2× larger"),
                  (ratio["surface"] >= 2, "uncorrected, the bowl's first 10 steps are ≥ 2× "
                   "larger")],
                 f"first step on the bowl / η (corrected): {first:.3f}; uncorrected / "
                 f"corrected median step over the first 10 updates: MNIST {ratio['mnist']:.2f}×, "
                 f"bowl {ratio['surface']:.2f}×; MNIST mean loss over the first "
                 f"{m['corrected']['updates']} updates: corrected "
                 f"{m['corrected']['mean_loss']:.3f}, uncorrected "
                 f"{m['uncorrected']['mean_loss']:.3f}")


def _lr_decay(d: Path) -> Verdict:
    loss = run_values(d, "final_train_loss")
    checks, parts = [], []
    for opt in sorted({k.split("_")[0] for k in loss}):
        const = loss.get(f"{opt}_constant", [])
        decays = {k: v for k, v in loss.items() if k.startswith(opt + "_") and v and
                  not k.endswith("_constant")}
        best = min(decays, key=lambda k: np.mean(decays[k]))
        checks.append((bool(const) and max(decays[best]) < min(const),
                       f"for {opt}, a decaying schedule ends below constant, seed ranges "
                       "apart"))
        parts.append(f"{opt}: constant {np.mean(const):.4f}, best {best.split('_', 1)[1]} "
                     f"{np.mean(decays[best]):.4f}")
    return grade(checks, "final loss (mean of seeds): " + "; ".join(parts))


def _activations(d: Path) -> Verdict:
    by: dict[str, dict[str, list[float]]] = {}
    for r in read_csv(d / "stats.csv"):
        own = by.setdefault(r["init"], {"sat": [], "std": []})
        own["sat"].append(float(r["saturated_or_zero"]))
        own["std"].append(float(r["act_std"]))
    sat = {k: float(np.mean(v["sat"])) for k, v in by.items()}
    std = {k: float(np.mean(v["std"])) for k, v in by.items()}
    big, small, xavier = "normal(std=1)", "normal(std=0.01)", "lecun_normal"
    return grade([(sat[big] > 0.3, "std 1 saturates > 30 % of the sigmoid outputs"),
                  (std[small] < 0.05, "std 0.01 bunches them at 0.5 (std < 0.05)"),
                  (sat[xavier] < 0.05 and std[xavier] > 2 * std[small],
                   "Xavier saturates < 5 % and spreads them > 2× as wide as std 0.01")],
                 "mean over 5 layers, saturated share / std of h: " + "; ".join(
                     f"{k} {sat[k]:.3f} / {std[k]:.3f}" for k in (big, small, xavier)))


def _inits(d: Path) -> Verdict:
    loss = {k: num(r["final_smoothed_loss"]) for k, r in summary_rows(d).items()}
    he, xavier, small, zeros = (loss.get(k) or math.inf for k in
                                ("he_normal", "lecun_normal", "std=0.01", "zeros"))
    return grade([(he <= xavier, "He ends at or below Xavier"),
                  (max(he, xavier) < 0.5 * small, "He and Xavier end below half of std 0.01"),
                  (zeros > 2.0, "zero weights stay near chance (loss > 2.0)")],
                 "final smoothed loss: " + listed(loss))


def _batchnorm(d: Path) -> Verdict:
    s = read_json(d / "summary.json")["batchnorm"]
    speed = s["median_speedup"]
    return grade([(s["bn_reached"] > s["plain_reached"],
                   "batch norm reaches the target at more weight scales"),
                  (speed is None or speed >= 1, "where both reach it, batch norm is faster")],
                 f"scales reaching {s['target']:g} training accuracy: batch norm "
                 f"{s['bn_reached']}, plain {s['plain_reached']} of {s['scales']}; median "
                 f"speed-up {'—' if speed is None else f'{speed:.2f}×'}")


def _gap_rule(plain: str, treated: str) -> Callable[[Path], Verdict]:
    def judge(d: Path) -> Verdict:
        gaps = {k: g["gap_val"] for k, g in read_json(d / "summary.json")["gaps"].items()}
        a, b = gaps[plain], gaps[treated]
        return grade([(b < a, f"{treated} narrows the gap"),
                      (b <= 0.5 * a, f"{treated} at least halves it")],
                     "train − validation accuracy gap: " + listed(gaps))
    return judge


def _ensemble(d: Path) -> Verdict:
    e = read_json(d / "summary.json")["ensemble"]["plain"]
    mean = num(summary_rows(d)["plain"]["test_acc"])
    return grade([(e["ensemble_test_acc"] > mean, "the average beats the mean member"),
                  (e["ensemble_test_acc"] > e["member_test_max"],
                   "the average beats the best member")],
                 f"test accuracy: {e['members']} networks averaged "
                 f"{e['ensemble_test_acc']:.4f}; members mean {mean:.4f}, best "
                 f"{e['member_test_max']:.4f}")


def _bn_overfit(d: Path) -> Verdict:
    gaps = read_json(d / "summary.json")["gaps"]
    return grade([(gaps["bn"]["gap_val"] < gaps["plain"]["gap_val"],
                   "batch norm's train − validation gap is smaller than plain's"),
                  (gaps["bn"]["final_val_acc"] > gaps["plain"]["final_val_acc"],
                   "batch norm's validation accuracy is higher")],
                 "gap / validation accuracy: " + "; ".join(
                     f"{k} {g['gap_val']:.3f} / {g['final_val_acc']:.3f}"
                     for k, g in gaps.items()))


def _search(d: Path) -> Verdict:
    s = read_json(d / "search_methods.json")
    imp = s["random"]["importances"]
    top = max(imp, key=imp.get)
    return grade([(s["random"]["best_mean"] >= s["grid"]["best_mean"],
                   "random search's best is at least grid's"),
                  (s["random"]["distinct"][top] > s["grid"]["distinct"][top],
                   f"random search tries more values of {top}"),
                  (imp[top] > 0.5, f"one parameter ({top}) carries most importance")],
                 "best validation accuracy (mean of searches): " + listed(
                     {m: v["best_mean"] for m, v in s.items()}) +
                 f"; distinct {top} values: " + listed(
                     {m: v["distinct"][top] for m, v in s.items()}, 0) +
                 f"; importance ({s['random']['importance_method']}, random search): "
                 + listed(imp, 2))


CLAIMS: tuple[Claim, ...] = (
    Claim("6.1.2 SGD", "optimizer-paths", "On f = x²/20 + y², SGD zig-zags across the "
          "valley; AdaGrad and Adam head along it.",
          "holds if SGD's y changes sign at ≥ 10 of its 30 updates and more often than "
          "AdaGrad's and Adam's; partly if one of the two",
          _paths),
    Claim("6.1.7 MNIST", "compare-optimizers", "On MNIST, SGD learns slowest; Momentum, "
          "AdaGrad, RMSProp and Adam learn faster.",
          "holds if SGD's seed-mean smoothed loss needs ≥ 2× the updates of every other "
          "method to fall below 0.5; partly if SGD is merely the slowest", _optimizers),
    Claim("6.1.5 AdaGrad", "step-fade", "Learning on, AdaGrad's updates fade to 0; "
          "RMSProp forgets old gradients and keeps stepping.",
          "holds if on MNIST and on x²/20 + y² AdaGrad's late/early ratio (medians of the "
          "last and first 10 % of updates) is below half of RMSProp's; partly if on one",
          _step_fade),
    Claim("6.1.6 Adam", "adam-bias", "Adam corrects the bias of its moment estimates, "
          "which start at 0: with the correction its first step is η per coordinate, "
          "without it the first steps are mis-scaled.",
          "holds if, corrected, the first step on x²/20 + y² is η within 1 %, and, "
          "uncorrected, the median step over the first 10 updates is ≥ 2× the corrected "
          "one on MNIST and on the bowl; partly if some of these", _adam_bias),
    Claim("6.1.5 lr decay", "lr-decay", "Decaying the learning rate (large first, then "
          "smaller) trains better than a constant rate.",
          "holds if for SGD and for Momentum the best decaying schedule's final loss is "
          "below constant's with the seeds' ranges apart; partly if for one", _lr_decay),
    Claim("6.2.2 activations", "activations", "With sigmoid, std-1 weights push the "
          "activations to 0 and 1, std 0.01 bunches them at 0.5, and Xavier spreads them.",
          "holds if, averaged over the 5 layers, std 1 saturates > 30 % of the outputs "
          "(h < 0.01 or > 0.99), std 0.01's outputs have std < 0.05, and Xavier saturates "
          "< 5 % with a std > 2× std 0.01's; partly if some of these", _activations),
    Claim("6.2.3 ReLU init", "compare-inits", "With ReLU, He initialisation learns "
          "fastest; std 0.01 barely learns and all-zero weights do not learn.",
          "holds if He's final smoothed loss ≤ Xavier's, both < half of std 0.01's, and "
          "zeros' > 2.0; partly if some of these", _inits),
    Claim("6.3.2 batch norm", "batchnorm", "Batch norm speeds learning up and makes it "
          "depend less on the initial weight scale.",
          "holds if batch norm reaches 90 % training accuracy at more weight scales than "
          "plain and, where both do, in no more epochs (median); partly if one",
          _batchnorm),
    Claim("6.3.1 batch norm", "batchnorm-overfit", "Batch norm suppresses overfitting.",
          "holds if on 300 images batch norm's train − validation gap is smaller and its "
          "validation accuracy higher than plain's; partly if one", _bn_overfit),
    Claim("6.4.2 weight decay", "overfit-weight-decay", "Weight decay (λ = 0.1) "
          "narrows the gap between training and held-out accuracy.",
          "holds if λ = 0.1's gap is at most half of λ = 0's; partly if merely smaller",
          _gap_rule("l2=0", "l2=0.1")),
    Claim("6.4.3 dropout", "overfit-dropout", "Dropout (p = 0.2) narrows the gap "
          "between training and held-out accuracy.",
          "holds if p = 0.2's gap is at most half of p = 0's; partly if merely smaller",
          _gap_rule("dropout=0", "dropout=0.2")),
    Claim("6.4.3 ensembles", "ensemble", "Averaging the outputs of several networks "
          "recognises better than one network.",
          "holds if the averaged networks' test accuracy beats their best member; partly "
          "if it beats the members' mean", _ensemble),
    Claim("6.5.2 search", "search-methods", "Random search beats grid search at equal "
          "budget, because hyperparameters differ in how much they matter.",
          "holds if random's best (mean over searches) ≥ grid's, random tried more values "
          "of the most important parameter, and that parameter's importance > 0.5; "
          "partly if some of these", _search),
)
