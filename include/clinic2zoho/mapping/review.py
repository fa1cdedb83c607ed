"""The review page: every choice of a proposal, low confidence first, with its reasons,
alternatives and value maps. Sample values are never shown, only their shape, so no patient
data reaches the report."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from clinic2zoho.mapping import layout_mandatory
from clinic2zoho.mapping.propose import LOW_CONFIDENCE

_STYLE = """body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse;width:100%}
td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top;font-size:13px}th{background:#eee}
tr.low{background:#fff2e0}tr.new td.t{font-style:italic}.flag{color:#b00;font-weight:bold}"""


def _rows(mapping: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for ent in mapping["entities"]:
        if ent["kind"] != "module":
            rows.append({"where": ent["entity"], "target": ent["kind"].replace("_", " ") +
                         (f" → {ent['module']}.{ent.get('field')}" if ent["kind"] == "value_list" else ""),
                         "confidence": ent["confidence"], "reasons": ent["reasons"], "extra": ""})
            continue
        for f in ent["fields"]:
            extra = []
            if f.get("new_field"):
                extra.append(f"new {f.get('data_type')} field" + (f" ({f['length']})" if f.get("length") else ""))
            if f.get("disagreement"):
                extra.append(f"<span class=flag>disagrees: {escape(f['disagreement'])}</span>")
            elif f.get("mapped_by"):
                extra.append(f"mapped by {escape(f['mapped_by'])}")
            for alt in f.get("alternatives") or []:
                extra.append(f"alt {escape(alt['field'])} {alt['score']}")
            vm = f.get("value_map") or []
            if vm:
                extra.append("values: " + ", ".join(
                    f"{escape(v['source'])} → {escape(v['zoho'])}{' <span class=flag>new</span>' if v.get('new') else ''}"
                    for v in vm[:15]) + (" …" if len(vm) > 15 else ""))
            rows.append({"where": f"{ent['entity']}.{f['column']}", "target": f["target"], "confidence": f["confidence"],
                         "reasons": f["reasons"], "extra": "<br>".join(extra), "new": f.get("new_field"),
                         "flag": bool(f.get("disagreement"))})
    rows.sort(key=lambda r: (not r.get("flag"), r["confidence"]))
    return rows


def accounting_section(accounting: list[Any] | None) -> str:
    """Every landed column and what becomes of it (clinic2zoho.mapping.column_accounting), those
    dropped without a reason first: the gate refuses to load while any is left."""
    if accounting is None:
        return ""
    from clinic2zoho.mapping.column_accounting import UNACCOUNTED, ordered, summary

    counts = ", ".join(f"{n} {status}" for status, n in sorted(summary(accounting).items()))
    body = "".join(
        f"<tr class='{'low' if r.status == UNACCOUNTED else ''}'><td>{escape(r.table)}</td><td>{escape(r.column)}</td>"
        f"<td>{'<span class=flag>' + escape(r.status) + '</span>' if r.status == UNACCOUNTED else escape(r.status)}</td>"
        f"<td>{escape(r.target)}</td><td>{escape(r.rule)}</td><td>{escape(r.reason)}</td></tr>"
        for r in ordered(accounting))
    return (f"<h2>Every source column</h2><p>{len(accounting)} landed columns: {escape(counts)}. A column with "
            f"no reason stops the load at the mapping gate until the mapping file migrates it or skips it with "
            f"its reasons.</p><table><tr><th>table</th><th>column</th><th>status</th><th>to</th><th>rule</th>"
            f"<th>reason</th></tr>{body}</table>")


def layout_section(mapping: dict[str, Any]) -> str:
    """The fields the org's layouts make mandatory with no source in the export (mapping's
    `layout_mandatory:`): a rule a person still has to supply comes first, marked NEEDS A PERSON."""
    entries = sorted(mapping.get("layout_mandatory") or [], key=lambda e: layout_mandatory.confirmed(e))
    if not entries:
        return ""
    rows = "".join(
        f"<tr class='{'' if layout_mandatory.confirmed(e) else 'low'}'><td>{escape(str(e.get('module')))}."
        f"{escape(str(e.get('field')))}</td><td>"
        + (f"{escape(str(e['value']))} (confirmed by {escape(str(e.get('confirmed_by')))} at "
           f"{escape(str(e.get('confirmed_at')))})" if layout_mandatory.confirmed(e)
           else f"<b>{layout_mandatory.NEEDS_A_PERSON}</b>")
        + f"</td><td>{escape(str(e.get('why') or ''))}</td><td>{escape(str(e.get('suggestion') or ''))}</td></tr>"
        for e in entries)
    return ("<h2>Mandatory in the org's layouts, no source in the export</h2><p>Each needs a rule a person "
            "supplies under <code>layout_mandatory:</code> (value, confirmed_by, confirmed_at); loading stops while "
            "one is missing.</p><table><tr><th>field</th><th>rule</th><th>why</th><th>suggestion</th></tr>"
            f"{rows}</table>")


def write_review(mapping: dict[str, Any], path: Path, accounting: list[Any] | None = None) -> Path:
    rows = _rows(mapping)
    low = sum(1 for r in rows if r["confidence"] < LOW_CONFIDENCE)
    body = "".join(
        f"<tr class='{'low' if r['confidence'] < LOW_CONFIDENCE else ''} {'new' if r.get('new') else ''}'>"
        f"<td>{escape(r['where'])}</td><td class=t>{escape(str(r['target']))}</td><td>{r['confidence']:.2f}</td>"
        f"<td>{'<br>'.join(escape(x) for x in r['reasons'])}</td><td>{r['extra']}</td></tr>"
        for r in rows)
    html = (f"<!doctype html><html><head><meta charset=utf-8><title>Mapping review: {escape(mapping['format'])}</title>"
            f"<style>{_STYLE}</style></head><body><h1>Mapping review: {escape(mapping['format'])} export</h1>"
            f"<p>{len(rows)} choices, {low} below {LOW_CONFIDENCE:.2f} confidence (listed first). Proposed "
            f"{escape(mapping['proposed_at'])}. Edit <code>dbt_project/mapping/{escape(mapping['format'])}.yml</code>, then run "
            f"<code>clinic2zoho confirm --by NAME</code>.</p><table><tr><th>source</th><th>target</th><th>confidence</th>"
            f"<th>reasons</th><th>notes</th></tr>{body}</table>{layout_section(mapping)}{accounting_section(accounting)}"
            "</body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html)
    return path


def source_map_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every choice of a source map (a file's entity, a header's clinic column), needing review
    first: below LOW_CONFIDENCE, then by confidence."""
    rows = []
    for entity, spec in doc["entities"].items():
        rows.append({"where": spec["file"], "target": f"entity {entity} (key {spec.get('key')})",
                     "confidence": float(spec.get("confidence", 1.0)), "reasons": spec.get("reasons") or [],
                     "extra": ""})
        for col in spec.get("columns") or []:
            column = col.get("column")
            target = " + ".join(column) if isinstance(column, list) else (column or "not in the clinic model")
            extra = [f"parse {col['parse']} {col.get('format') or ''}".strip()] if col.get("parse") not in (None, "text") else []
            if col.get("values"):
                extra.append("values: " + ", ".join(f"{escape(str(k))} → {escape(str(v))}"
                                                    for k, v in list(col["values"].items())[:15]))
            rows.append({"where": f"{spec['file']}: {col['source']}", "target": f"{entity}.{target}",
                         "confidence": float(col.get("confidence", 1.0)), "reasons": col.get("reasons") or [],
                         "extra": "<br>".join(extra)})
    for item in doc.get("unassigned_files") or []:
        rows.append({"where": item.get("file", "?"), "target": "not landed (no clinic entity)",
                     "confidence": float(item.get("confidence", 0.0)), "reasons": item.get("reasons") or [],
                     "extra": ""})
    rows.sort(key=lambda r: r["confidence"])
    return rows


def write_source_map_review(doc: dict[str, Any], map_path: Path, path: Path) -> Path:
    """The review page of a proposed source map: what a person checks before confirming."""
    rows = source_map_rows(doc)
    low = sum(1 for r in rows if r["confidence"] < LOW_CONFIDENCE)
    body = "".join(
        f"<tr class='{'low' if r['confidence'] < LOW_CONFIDENCE else ''}'><td>{escape(r['where'])}</td>"
        f"<td class=t>{escape(r['target'])}</td><td>{r['confidence']:.2f}</td>"
        f"<td>{'<br>'.join(escape(str(x)) for x in r['reasons'])}</td><td>{r['extra']}</td></tr>" for r in rows)
    zone = f"{doc.get('timezone') or 'not decided'} ({doc.get('timezone_reason') or 'no evidence'})"
    title = f"Source map review: {escape(str(doc.get('export')))}"
    html = (f"<!doctype html><html><head><meta charset=utf-8><title>{title}</title><style>{_STYLE}</style></head>"
            f"<body><h1>{title}</h1><p>{len(rows)} choices, {low} below {LOW_CONFIDENCE:.2f} confidence "
            f"(listed first: these need a look). Clinic time zone: {escape(zone)}. Correct "
            f"<code>{escape(map_path.name)}</code> (dbt_project/mapping/sources/), then run "
            f"<code>clinic2zoho confirm --by NAME</code>.</p><table><tr><th>source</th><th>clinic model</th>"
            f"<th>confidence</th><th>reasons</th><th>parse and values</th></tr>{body}</table></body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path
