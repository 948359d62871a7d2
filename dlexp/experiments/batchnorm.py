"""The ``batchnorm`` preset (§6.3): at each weight scale w (default ``logspace(0, -4,
16)``) all weights start as N(0, w²), once with batch norm (``bn-w<w>``) and once without
(``plain-w<w>``), on ``configs/batchnorm.yaml`` (1,000 images, 5×100 ReLU, 20 epochs).

With a_e the training accuracy after epoch e (mean over seeds) and a target τ,

    E(τ) = min{ e : a_e ≥ τ }          (None: not within the run)
    speed-up(w) = E_plain(τ) / E_bn(τ)  where both reach τ
    fastest speed-up = min_w E_plain(τ) / min_w E_bn(τ)   (each at its own best scale)

batchnorm.csv has one row per scale, both networks side by side; summary.json the counts
and median speed-up under ``"batchnorm"``. A plain network diverging at a large scale is
a result here (an expected status), not a failure.
"""

from __future__ import annotations

import functools
from typing import Mapping, Sequence

import numpy as np

from dlexp import book
from dlexp.errors import ConfigError
from dlexp.experiments.aggregate import CompareResult, extend_summary, write_table
from dlexp.experiments.sweep import Sweep
from dlexp.experiments.variants import Variant, seeded
from dlexp.experiments.tables import print_rows
from dlexp.fmt import fmt
from dlexp.io import read_csv, read_json

NAME = "batchnorm"
EXPECTED = ("diverged",)                     # statuses that are a result, not a failure
TABLE_COLUMNS = ["init_std", "bn_final_acc", "plain_final_acc", "bn_epochs",
                 "plain_epochs", "speedup", "bn_status", "plain_status"]


def weight_scales(n: int = book.WEIGHT_SCALES, high: float = book.HIGH_STD,
                  low: float = book.LOW_STD) -> list[float]:
    """``n`` scales evenly spaced in log from ``high`` down to ``low`` (the book's 16)."""
    if n < 1 or not 0 < low <= high:
        raise ConfigError(f"weight scales: need n ≥ 1 and 0 < low ≤ high, got n={n}, "
                          f"low={low}, high={high}")
    return [float(w) for w in np.logspace(np.log10(high), np.log10(low), n)]


def scale_texts(scales: Sequence[float]) -> list[str]:
    """The scales written with the fewest significant digits (≥ 3) that keep them apart."""
    for digits in range(3, 17):
        texts = [f"{w:.{digits}g}" for w in scales]
        if len(set(texts)) == len(texts):
            return texts
    raise ConfigError("weight scales: two scales are equal; give distinct values")


def bn_variants(scales: Sequence[float], seeds: Sequence[int] | None) -> list[Variant]:
    """With and without batch norm at each scale (in the order given) × seeds."""
    return seeded({f"{'bn' if bn else 'plain'}-w{text}": {
        "model.initializer": "normal", "model.init_std": w, "model.batchnorm": bn}
        for w, text in zip(scales, scale_texts(scales)) for bn in (True, False)}, seeds)


def plan(base: Mapping, seeds: Sequence[int] | None, scales: int = book.WEIGHT_SCALES,
         high: float = book.HIGH_STD, low: float = book.LOW_STD,
         target: float = book.BN_TARGET) -> Sweep:
    """The preset's sweep with its speed-up analysis, figures and printed table."""
    if not 0 < target <= 1:
        raise ConfigError(f"--target {target}: an accuracy in (0, 1]")
    return Sweep(NAME, bn_variants(weight_scales(scales, high, low), seeds),
                analyse=(functools.partial(report_speedup, target=target),),
                figures=("batchnorm",),        # no loss.png: 32 curves would show nothing
                columns=(), report=print_speedup, expected=EXPECTED)


def epochs_to_reach(epochs: Sequence[int], acc: Sequence[float], target: float) -> int | None:
    """The first epoch whose accuracy is ≥ ``target`` (None: never)."""
    hits = [e for e, a in zip(epochs, acc) if a >= target]
    return int(hits[0]) if hits else None


def report_speedup(result: CompareResult, target: float = book.BN_TARGET) -> CompareResult:
    """Write the speed-up numbers (module docstring) into the files."""
    curves: dict[str, list[tuple[int, float]]] = {}
    for r in read_csv(result.dir / "train_accuracy.csv"):
        curves.setdefault(r["label"], []).append((int(r["epoch"]), float(r["mean"])))
    columns = {}
    for label, points in curves.items():
        epochs, acc = zip(*points)
        columns[label] = {"final_train_acc": acc[-1],
                          "epochs_to_target": epochs_to_reach(epochs, acc, target)}
    table = paired_rows(result.summary, columns)
    write_table(result.dir / "batchnorm.csv", table, TABLE_COLUMNS)
    return extend_summary(result, columns, {"batchnorm": speedup_overall(table, target)})


def paired_rows(summary: Sequence[dict], columns: dict[str, dict]) -> list[dict]:
    """One row per weight scale: the BN and the plain variant's numbers side by side."""
    by_scale: dict[float, dict] = {}
    for r in summary:
        side = "bn" if r["model.batchnorm"] else "plain"
        own = columns.get(r["variant"], {})
        row = by_scale.setdefault(float(r["model.init_std"]),
                                  {"init_std": float(r["model.init_std"])})
        row.update({f"{side}_final_acc": own.get("final_train_acc"),
                    f"{side}_epochs": own.get("epochs_to_target"),
                    f"{side}_status": r["status"]})
    for row in by_scale.values():
        bn, plain = row.get("bn_epochs"), row.get("plain_epochs")
        row["speedup"] = plain / bn if bn and plain else None
    return list(by_scale.values())


def speedup_overall(table: Sequence[dict], target: float) -> dict:
    """How many scales each network reached ``target`` at; the median speed-up where both
    did; and each network at its own fastest scale, min_w E(τ), with their ratio."""
    both = [r["speedup"] for r in table if r["speedup"] is not None]
    out: dict = {"target": target, "scales": len(table)}
    for side in ("bn", "plain"):
        reached = [(r[f"{side}_epochs"], r["init_std"]) for r in table
                   if r.get(f"{side}_epochs")]
        epochs, scale = min(reached) if reached else (None, None)
        out.update({f"{side}_reached": len(reached), f"{side}_fastest_epochs": epochs,
                    f"{side}_fastest_scale": scale})
    bn, plain = out["bn_fastest_epochs"], out["plain_fastest_epochs"]
    out.update({"both_reached": len(both),
                "median_speedup": float(np.median(both)) if both else None,
                "fastest_speedup": plain / bn if bn and plain else None,
                "only_bn_reached": sum(1 for r in table if r.get("bn_epochs")
                                       and not r.get("plain_epochs"))})
    return out


def print_speedup(result: CompareResult) -> None:
    """The per-scale table (batchnorm.csv's numbers) and the speed-up lines of summary.json."""
    s = read_json(result.dir / "summary.json")["batchnorm"]
    rows = [{**r, "speedup": _speedup(r), "note": ", ".join(
        f"{side} {r[f'{side}_status']}" for side in ("bn", "plain")
        if r[f"{side}_status"] != "completed")}
        for r in paired_rows(result.summary, {r["variant"]: r for r in result.summary})]
    print_rows(rows, [*TABLE_COLUMNS[:6], "note"], title=f"training accuracy per weight "
               f"scale: final, and epochs to {fmt(s['target'])} (— never)", headers={
                   "init_std": "w", "bn_final_acc": "bn acc", "plain_final_acc": "plain acc",
                   "speedup": "speed-up"})
    speed = (f"; where both did, batch norm needed {fmt(s['median_speedup'], 2)}× fewer "
             "epochs (median)" if s["median_speedup"] else "")
    print(f"reached {fmt(s['target'])}: batch norm at {s['bn_reached']} of {s['scales']} "
          f"scales, without at {s['plain_reached']}{speed}")
    if s["fastest_speedup"]:
        print(f"at each one's best scale: batch norm {s['bn_fastest_epochs']} epochs "
              f"(w={fmt(s['bn_fastest_scale'], 3)}), without {s['plain_fastest_epochs']} "
              f"(w={fmt(s['plain_fastest_scale'], 3)}): {fmt(s['fastest_speedup'], 2)}× fewer")


def _speedup(r: dict) -> str:
    """``2.5×`` where both reached the target; else which one did (never a bare —)."""
    if r["speedup"]:
        return f"{r['speedup']:.1f}×"
    reached = [side for side in ("bn", "plain") if r[f"{side}_epochs"]]
    return f"{reached[0]} only" if len(reached) == 1 else "neither"
