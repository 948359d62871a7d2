"""The report of ``dlexp reproduce``, written from the folder's reproduce.json,
verdicts.json and figure files only: ``report.html`` (one self-contained page, every figure
embedded as a base64 PNG) and ``report.md`` (the same text, figures linked)."""

from __future__ import annotations

import base64
from html import escape as e
from pathlib import Path

from dlexp.io import atomic_write_text, read_json

COLOURS = {"holds": "#1a7f37", "partly": "#9a6700", "differs": "#cf222e"}
STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#1f2328;line-height:1.45}h1{margin-bottom:.2em}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #d0d7de;padding:.3em .6em;
text-align:left;vertical-align:top}.v{color:#fff;border-radius:4px;padding:.1em .5em;
font-weight:600}section{border-top:1px solid #d0d7de;margin-top:1.5em}img{max-width:100%;
border:1px solid #eee}code{background:#f6f8fa;padding:.1em .3em;border-radius:3px}
.note{color:#59636e}"""


def write_report(out: Path) -> list[Path]:
    """report.html and report.md of the reproduce folder ``out``."""
    out = Path(out)
    rows = read_json(out / "verdicts.json")
    for r in rows:                     # a preset run again in the book's setup (--book)
        if r.get("setup") == "book":
            r["claim"] += " — in the book's script setup (--book)"
    quick = read_json(out / "reproduce.json")["mode"] == "quick"
    title = "Chapter 6, claim by claim" + (" — QUICK run (smaller budgets, same rules)"
                                           if quick else "")
    seconds = sum({r["experiment"]: r["seconds"] or 0 for r in rows}.values())  # each once
    counts = ", ".join(f"{sum(r['verdict'] == v for r in rows)} {v}" for v in COLOURS)
    book = sum(r.get("setup") == "book" for r in rows)
    claims = f"{len(rows) - book} claims" + (f" and {book} again in the book's setup"
                                             if book else "")
    intro = (f"{claims}: {counts}. The experiments ran {seconds:.0f} s. Each "
             "verdict is computed from the run's files by the rule stated under it.")
    return [_html(out, rows, title, intro), _markdown(out, rows, title, intro)]


def _html(out: Path, rows: list[dict], title: str, intro: str) -> Path:
    def badge(verdict: str) -> str:
        return (f'<span class="v" style="background:{COLOURS.get(verdict, "#555")}">'
                f"{e(verdict)}</span>")

    def img(path: Path) -> str:
        if not path.is_file():
            return f'<p class="note">figure missing: {e(path.name)}</p>'
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f'<img alt="{e(path.name)}" src="data:image/png;base64,{data}">'

    parts = [f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>{e(title)}"
             f"</title><style>{STYLE}</style></head><body>",
             f"<h1>{e(title)}</h1><p>{e(intro, quote=False)}</p>"
             "<table><tr><th>§</th><th>claim</th><th>verdict</th></tr>"]
    parts += [f'<tr><td>{e(r["section"])}</td><td><a href="#c{k}">{e(r["claim"])}</a></td>'
              f"<td>{badge(r['verdict'])}</td></tr>" for k, r in enumerate(rows)]
    parts.append("</table>")
    for k, r in enumerate(rows):
        reason = f"<p><b>Why not:</b> {e(r['reason'])}</p>" if r["reason"] else ""
        parts.append(
            f'<section id="c{k}"><h2>{e(r["section"])}: {e(r["claim"])}</h2>'
            f"<p>Verdict: {badge(r['verdict'])}</p><p><b>Measured:</b> {e(r['measured'])}"
            f"</p><p><b>Rule:</b> {e(r['rule'])}</p>{reason}<p><b>Rerun:</b> "
            f"<code>{e(r['command'])}</code> <span class=note>({r['seconds'] or 0:.0f} s "
            f"here)</span></p>{''.join(img(out / f) for f in r['figures'])}</section>")
    atomic_write_text(out / "report.html", "\n".join([*parts, "</body></html>\n"]))
    return out / "report.html"


def _markdown(out: Path, rows: list[dict], title: str, intro: str) -> Path:
    lines = [f"# {title}", "", intro, "", "| § | claim | verdict |", "|---|---|---|"]
    lines += [f"| {r['section']} | {r['claim']} | **{r['verdict']}** |" for r in rows]
    for r in rows:
        lines += ["", f"## {r['section']}: {r['claim']}", "", f"Verdict: **{r['verdict']}**",
                  "", f"Measured: {r['measured']}", "", f"Rule: {r['rule']}", ""]
        lines += [f"Why not: {r['reason']}", ""] if r["reason"] else []
        lines += [f"Rerun: `{r['command']}` ({r['seconds'] or 0:.0f} s here)", ""]
        lines += [f"![{Path(f).name}]({f})" for f in r["figures"]]
    atomic_write_text(out / "report.md", "\n".join(lines) + "\n")
    return out / "report.md"
