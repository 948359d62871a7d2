"""Summaries of a benchmark run: medians and ranges, paired ratios, GFLOP/s against the
measured peak, the targets of issue #7 — written as JSON and as a Markdown table.

    ratio per round r = t_dlexp(r) / t_other(r)          (same round, same machine state)
    GFLOP/s = matrix-product work of the pass / median seconds     (see benchmarks.common)
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from benchmarks.common import WORKLOADS, epoch_flops, forward_flops
from dlexp.io import atomic_write_text

N_TRAIN, N_TEST = 60000, 10000
LABELS = {"dlexp": "dlexp", "pytorch": "PyTorch", "pytorch_fused": "PyTorch fused-optim",
          "book": "book-style", "floor": "NumPy floor"}
TARGETS = [  # (key, description, limit)
    ("sgd_vs_pytorch", "workload 1 epoch, dlexp / PyTorch", 0.5),
    ("sgd_vs_book", "workload 1 epoch, dlexp / book-style", 0.33),
    ("bn_adam_vs_pytorch", "workload 2 epoch, dlexp / PyTorch", 0.6),
]


def spread(xs: list[float]) -> dict:
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "n": len(xs)}


def _paired(a: list[float], b: list[float]) -> dict:
    return spread([x / y for x, y in zip(a, b)])


def _peak(run: dict, impl: str) -> float:
    return run["peak_gflops"]["numpy_float64" if impl == "book" else "numpy_float32"]


def summarise(data: dict) -> dict:
    out: dict = {"runs": []}
    tw = WORKLOADS["trial"]                    # 50 × (train 400 images, evaluate 400 + 100)
    trial_flops = tw.epochs * (epoch_flops(tw, 400) + forward_flops(tw, 500))
    for run in data["runs"]:
        s: dict = {"threads": run["threads"]}
        for wl in ("sgd", "bn_adam"):
            secs = {n: [e["seconds"] for e in v] for n, v in run[wl]["epochs"].items()}
            flops = epoch_flops(WORKLOADS[wl], N_TRAIN)
            s[wl] = {n: {**spread(t), "gflops": flops / statistics.median(t) / 1e9,
                         "of_peak": flops / statistics.median(t) / 1e9 / _peak(run, n)}
                     for n, t in secs.items()}
            for other in secs:
                if other != "dlexp":
                    s[wl][f"dlexp/{other}"] = _paired(secs["dlexp"], secs[other])
            if "floor" in secs and "pytorch" in secs:
                s[wl]["floor/pytorch"] = _paired(secs["floor"], secs["pytorch"])
        secs = {n: [e["seconds"] for e in v] for n, v in run["eval"].items()}
        ev_flops = forward_flops(WORKLOADS["sgd"], N_TEST)
        s["eval"] = {n: {**spread(t), "images_per_s": N_TEST / statistics.median(t),
                         "gflops": ev_flops / statistics.median(t) / 1e9}
                     for n, t in secs.items()}
        secs = {n: [e["seconds"] for e in v] for n, v in run["trial"].items()}
        s["trial"] = {n: {**spread(t), "gflops": trial_flops / statistics.median(t) / 1e9}
                      for n, t in secs.items()}
        for wl in ("eval", "trial"):
            for other in secs:
                if other != "dlexp":
                    a = [e["seconds"] for e in run[wl]["dlexp"]]
                    b = [e["seconds"] for e in run[wl][other]]
                    s[wl][f"dlexp/{other}"] = _paired(a, b)
        out["runs"].append(s)
    out["targets"] = _targets(data, out)
    out["agreement"] = agreement(data)
    return out


def _targets(data: dict, summary: dict) -> list[dict]:
    rows = []
    for key, text, limit in TARGETS:
        wl, other = key.split("_vs_")
        variants = [other, "pytorch_fused"] if other == "pytorch" else [other]
        for impl in variants:
            note = " (fused torch.optim)" if impl == "pytorch_fused" else ""
            for s in summary["runs"]:
                r = s[wl].get(f"dlexp/{impl}")
                if r:
                    rows.append({"target": f"{text}{note} ≤ {limit} ({s['threads']} "
                                           "thread(s))",
                                 "measured": round(r["median"], 3),
                                 "met": r["median"] <= limit})
    if "search" in data:
        sec = data["search"]["seconds"]
        ok = sec < 20 and data["search"].get("exit_code", 0) == 0
        rows.append({"target": "100 book search trials, 2 workers < 20 s",
                     "measured": round(sec, 2), "met": ok})
    if "train_memory" in data:
        mb = data["train_memory"]["peak_rss_mb"]
        rows.append({"target": "full-MNIST dlexp train peak memory ≤ 400 MB",
                     "measured": round(mb, 1), "met": mb <= 400})
    if "help" in data:
        sec = data["help"]["median_s"]
        rows.append({"target": "dlexp --help < 0.5 s", "measured": round(sec, 3),
                     "met": sec < 0.5})
    return rows


def _cell(d: dict, digits: int = 3) -> str:
    return f"{d['median']:.{digits}f} ({d['min']:.{digits}f}–{d['max']:.{digits}f})"


def markdown(data: dict, summary: dict) -> str:
    m = data["machine"]
    impls = data["impls"]
    others = [i for i in impls if i != "dlexp"]
    lines = [f"# dlexp speed benchmark, {data['started'][:10]}", "",
             f"Command: `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE {data['command']}`  ",
             f"Machine: {m['cpu']}"
             f"{' (AVX-512)' if 'avx512f' in m.get('cpu_flags', []) else ''}, {m['cores']} "
             f"cores, {m['memory_gib']} GiB; host {m['host']}; Python "
             f"{m['python']}, NumPy {m['numpy']}; load average before/after "
             f"{data['load_before']} / {data['load_after']}", ""]
    for run in data["runs"]:
        blas = "; ".join(f"{p['internal_api']} {p['version']} ({p.get('architecture')} "
                         f"kernel) ×{p['num_threads']}" for p in run["blas"]["numpy"])
        t = run.get("blas_torch", {}).get("torch")
        torch_txt = f"; torch {t['version']} ({t['blas']}) ×{t['num_threads']}" if t else ""
        peaks = ", ".join(f"{k} {v:.0f}" for k, v in run["peak_gflops"].items())
        lines.append(f"- {run['threads']} thread(s): NumPy BLAS {blas}{torch_txt}; "
                     f"matmul peak GFLOP/s: {peaks}")
    head = "| workload | threads | " + " | ".join(LABELS[i] for i in impls) + " | " + \
        " | ".join(f"dlexp/{LABELS[o]}" for o in others) + " | dlexp GFLOP/s (of peak) |"
    lines += ["", "Seconds: median (min–max) over the timed repetitions; ratios paired "
              "per round.", "", head, "|" + "---|" * (head.count("|") - 1)]
    names = {"sgd": "1: SGD epoch (s)", "bn_adam": "2: BN + Adam epoch (s)",
             "trial": "3: book search trial (s)", "eval": "4: evaluate 10k images (s)"}
    for wl in ("sgd", "bn_adam", "trial", "eval"):
        for s in summary["runs"]:
            row = s[wl]
            d = row["dlexp"]
            peak = next(r for r in data["runs"] if r["threads"] == s["threads"])
            gf = f"{d['gflops']:.1f} ({d['gflops'] / _peak(peak, 'dlexp'):.0%})"
            lines.append(f"| {names[wl]} | {s['threads']} | "
                         + " | ".join(_cell(row[i]) for i in impls) + " | "
                         + " | ".join(_cell(row[f'dlexp/{o}'], 2) for o in others)
                         + f" | {gf} |")
    lines += ["", "CPU seconds of the same calls (median; all threads of the process, "
              "spin-waiting included), and the share of the CPUs other processes used during "
              "the kept calls (median / max; a call they disturbed is repeated):", "",
              "| workload | threads | " + " | ".join(LABELS[i] for i in impls)
              + " | others' CPU share | repeated calls |",
              "|---|---|" + "---|" * (len(impls) + 2)]
    for wl in ("sgd", "bn_adam", "trial", "eval"):
        for run in data["runs"]:
            calls = run[wl]["epochs"] if wl in ("sgd", "bn_adam") else run[wl]
            cpu = [statistics.median(e["cpu_seconds"] for e in calls[i]) for i in impls]
            during = [e["others_during"] for i in impls for e in calls[i]
                      if e.get("others_during") is not None]
            share = f"{statistics.median(during):.2f} / {max(during):.2f}" if during else "–"
            repeats = sum(e.get("attempts", 1) - 1 for i in impls for e in calls[i])
            lines.append(f"| {names[wl]} | {run['threads']} | "
                         + " | ".join(f"{c:.3f}" for c in cpu) + f" | {share} | {repeats} |")
    floors = [(s["threads"], s["sgd"]["floor/pytorch"]) for s in summary["runs"]
              if "floor/pytorch" in s["sgd"]]
    if floors:
        lines += ["", "The NumPy floor (the same matrix products and batch gathers, nothing "
                  "else) against PyTorch on workload 1: " + "; ".join(
                      f"{r['median']:.2f} ({r['min']:.2f}–{r['max']:.2f}) at {t} thread(s)"
                      for t, r in floors) + "."]
    lines += ["", "| target | measured | met |", "|---|---|---|"]
    lines += [f"| {t['target']} | {t['measured']} | {'yes' if t['met'] else 'NO'} |"
              for t in summary["targets"]]
    lines += ["", *_agreement_lines(data), *_command_lines(data)]
    return "\n".join(lines) + "\n"


def agreement(data: dict) -> dict:
    """After the first epoch from the same weights and batch order: each implementation's
    mean loss and weight norm ‖W‖, and their relative differences from dlexp float64."""
    run, out = data["runs"][0], {}
    for wl in ("sgd", "bn_adam"):
        first = run[wl]["first_epoch"]
        rows = {"dlexp float32": first["dlexp"], "dlexp float64": data["agreement_f64"][wl],
                "PyTorch float32": first.get("pytorch"), "book-style float64": first["book"]}
        ref = rows["dlexp float64"]
        out[wl] = {k: None if v is None else {
            "loss": v["loss"], "weight_norm": v["weight_norm"],
            "rel_diff_weight_norm": abs(v["weight_norm"] / ref["weight_norm"] - 1)}
            for k, v in rows.items()}
    return out


def _agreement_lines(data: dict) -> list[str]:
    agree = agreement(data)
    names = list(next(iter(agree.values())))
    out = ["Agreement after the first epoch (same initial weights, same batch order): mean "
           "training loss; weight norm ‖W‖ and its relative difference from dlexp float64. "
           "(The book-style loss adds its 1e-7 inside the logarithm.)", "",
           "| workload | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for wl, rows in agree.items():
        cells = ["–" if r is None else f"{r['loss']:.6f}; ‖W‖ {r['weight_norm']:.6f} "
                 f"({r['rel_diff_weight_norm']:.1e})" for r in rows.values()]
        out.append(f"| {wl} | " + " | ".join(cells) + " |")
    return out + [""]


def _command_lines(data: dict) -> list[str]:
    out = []
    if "help" in data:
        h = data["help"]
        out.append(f"- `dlexp --help`: {h['median_s']:.3f} s median ({h['min_s']:.3f}–"
                   f"{h['max_s']:.3f}) over {len(h['runs'])} runs")
    if "train_memory" in data:
        t = data["train_memory"]
        out.append(f"- `{t['command']}`: peak RSS {t['peak_rss_mb']:.0f} MB, "
                   f"{t['seconds']:.1f} s, exit {t['exit_code']}")
    if "search" in data:
        s = data["search"]
        out.append(f"- search: `{s.get('command') or s.get('how')}`: {s['seconds']:.1f} s "
                   f"(exit {s.get('exit_code', 0)})")
    one = next((r for r in data["runs"] if r["threads"] == 1), None)
    if one and "search" in data:
        med = statistics.median(e["seconds"] for e in one["trial"]["dlexp"])
        out.append(f"- training alone in that search: 100 × {med:.3f} s (median dlexp trial, "
                   f"1 thread) / 2 workers = {50 * med:.1f} s")
    return out


def write(data: dict, summary: dict, folder: Path, stamp: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    js, md = folder / f"{stamp}.json", folder / f"{stamp}.md"
    atomic_write_text(js, json.dumps({**data, "summary": summary}, indent=1) + "\n")
    atomic_write_text(md, markdown(data, summary))
    return [js, md]

