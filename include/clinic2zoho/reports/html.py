"""Plain HTML a clinic admin can open from disk: one file, no script, summary first."""

from __future__ import annotations

from html import escape
from typing import Any, Iterable, Sequence

STYLE = """
body{font-family:system-ui,Segoe UI,Arial,sans-serif;margin:2em;color:#222;max-width:1400px}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f2f2f2}td.n{text-align:right}
.pass{color:#0a6b0a;font-weight:bold}.fail{color:#b00020;font-weight:bold}.warn{color:#9a6700;font-weight:bold}
tr.bad td{background:#fdecee}tr.warn td{background:#fff8e1}
.summary{border:1px solid #ccc;padding:.8em 1.2em;background:#fafafa}
code{background:#f2f2f2;padding:0 .3em}
"""


def cell(value: Any) -> str:
    if value is None:
        return "<td></td>"
    if isinstance(value, bool):
        return f'<td class="{"pass" if value else "fail"}">{"yes" if value else "NO"}</td>'
    if isinstance(value, (int, float)):
        return f'<td class="n">{value:,}</td>'
    return f"<td>{escape(str(value))}</td>"


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], row_class: Iterable[str] | None = None) -> str:
    classes = list(row_class) if row_class is not None else None
    body = []
    for i, row in enumerate(rows):
        cls = classes[i] if classes and i < len(classes) and classes[i] else ""
        body.append(f'<tr class="{cls}">' + "".join(cell(v) for v in row) + "</tr>")
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    if not body:
        return "<p>None.</p>"
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def status_word(ok: bool) -> str:
    return '<span class="pass">PASSED</span>' if ok else '<span class="fail">FAILED</span>'


def page(title: str, summary_html: str, sections: list[tuple[str, str]]) -> str:
    parts = [f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)}</title>"
             f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>",
             f'<div class="summary">{summary_html}</div>']
    for heading, content in sections:
        parts.append(f"<h2>{escape(heading)}</h2>{content}")
    parts.append("</body></html>")
    return "\n".join(parts)


def paragraph(text: str) -> str:
    return f"<p>{escape(text)}</p>"
