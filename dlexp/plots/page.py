"""The report of ``dlexp reproduce``: ``report.html`` (one self-contained page, every
figure embedded as a base64 PNG) and ``report.md`` (the same text, figures linked),
written from the folder's reproduce.json, verdicts.json and figure files only.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Sequence

from dlexp.io import atomic_write_text, read_json

RULES = "Each verdict is computed from the run's files by the rule stated under it."
COLOURS = {"holds": "#1a7f37", "partly": "#9a6700", "differs": "#cf222e"}
STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#1f2328;line-height:1.45}h1{margin-bottom:.2em}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #d0d7de;padding:.3em .6em;
text-align:left;vertical-align:top}.v{color:#fff;border-radius:4px;padding:.1em .5em;
font-weight:600}section{border-top:1px solid #d0d7de;margin-top:1.5em}img{max-width:100%;
border:1px solid #eee}code{background:#f6f8fa;padding:.1em .3em;border-radius:3px}
.note{color:#59636e}"""


def _badge(verdict: str) -> str:
    return (f'<span class="v" style="background:{COLOURS.get(verdict, "#555")}">'
            f"{html.escape(verdict)}</span>")


def _img(path: Path) -> str:
    if not path.is_file():
        return f'<p class="note">figure missing: {html.escape(path.name)}</p>'
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(path.name)}" src="data:image/png;base64,{data}">'


def _title(quick: bool) -> str:
    return ("Chapter 6, claim by claim" +
            (" — QUICK run (smaller budgets, same rules)" if quick else ""))


def _counts(rows: Sequence[dict]) -> str:
    return ", ".join(f"{sum(r['verdict'] == v for r in rows)} {v}" for v in COLOURS)


def _seconds(rows: Sequence[dict]) -> float:
    """The experiments' seconds, each counted once."""
    return sum({r["experiment"]: r["seconds"] or 0 for r in rows}.values())


def write_html(out: Path, rows: Sequence[dict], quick: bool) -> Path:
    e = html.escape
    parts = [f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>"
             f"{e(_title(quick))}</title><style>{STYLE}</style></head><body>",
             f"<h1>{e(_title(quick))}</h1><p>{len(rows)} claims: {e(_counts(rows))}. "
             f"The experiments ran {_seconds(rows):.0f} s. {RULES}</p>"
             "<table><tr><th>§</th><th>claim</th><th>verdict</th>"
             "</tr>"]
    parts += [f'<tr><td>{e(r["section"])}</td><td><a href="#c{k}">{e(r["claim"])}</a></td>'
              f"<td>{_badge(r['verdict'])}</td></tr>" for k, r in enumerate(rows)]
    parts.append("</table>")
    for k, r in enumerate(rows):
        reason = f"<p><b>Why not:</b> {e(r['reason'])}</p>" if r["reason"] else ""
        figs = "".join(_img(out / f) for f in r["figures"])
        parts.append(
            f'<section id="c{k}"><h2>{e(r["section"])}: {e(r["claim"])}</h2>'
            f"<p>Verdict: {_badge(r['verdict'])}</p><p><b>Measured:</b> {e(r['measured'])}"
            f"</p><p><b>Rule:</b> {e(r['rule'])}</p>{reason}<p><b>Rerun:</b> "
            f"<code>{e(r['command'])}</code> "
            f"<span class=note>({r['seconds'] or 0:.0f} s here)</span></p>"
            f"{figs}</section>")
    parts.append("</body></html>\n")
    path = out / "report.html"
    atomic_write_text(path, "\n".join(parts))
    return path


def write_markdown(out: Path, rows: Sequence[dict], quick: bool) -> Path:
    lines = [f"# {_title(quick)}", "", f"{len(rows)} claims: {_counts(rows)}. The "
             f"experiments ran {_seconds(rows):.0f} s. {RULES}", "",
             "| § | claim | verdict |", "|---|---|---|"]
    lines += [f"| {r['section']} | {r['claim']} | **{r['verdict']}** |" for r in rows]
    for r in rows:
        lines += ["", f"## {r['section']}: {r['claim']}", "",
                  f"Verdict: **{r['verdict']}**", "", f"Measured: {r['measured']}", "",
                  f"Rule: {r['rule']}", ""]
        if r["reason"]:
            lines += [f"Why not: {r['reason']}", ""]
        lines += [f"Rerun: `{r['command']}` ({r['seconds'] or 0:.0f} s here)",
                  ""]
        lines += [f"![{Path(f).name}]({f})" for f in r["figures"]]
    path = out / "report.md"
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path


def write_report(out: Path) -> list[Path]:
    """report.html and report.md of the reproduce folder ``out``."""
    out = Path(out)
    rows = read_json(out / "verdicts.json")
    quick = read_json(out / "reproduce.json")["mode"] == "quick"
    return [write_html(out, rows, quick), write_markdown(out, rows, quick)]
