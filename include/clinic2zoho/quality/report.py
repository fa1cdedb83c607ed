"""`build_quality_report`: profile whatever is landed in `raw` and write the Data Quality Report
(reports/data_quality.html for the clinic, data_quality.json for the tools).

The JSON (and the returned dict): `summary` (formats, grade, records, duplicate_pairs,
duplicate_pairs_to_decide, providers_missing_email, invalid_values, orphans, documents_over_limit, notes_over_limit,
rejected_records), `rejects` ({records, groups: [{source_file, reason, records, rejections,
first_row}]}), and `sources`, one per landed format: `entities` [{entity, table, records,
rows_landed, key}], `providers` {total, has_email_column, missing_email {count, owning_records,
items}, unmatched_in_zoho (when raw.zoho_users is landed)}, `duplicates` {threshold, decision_threshold, count, to_decide,
items: [{id_1, id_2, match_probability, match_weight, needs_decision, linked_records_1/2, same_birth_date,
name_1, name_2, ...}]} (also written to the warehouse, quality.duplicate_candidates), `documents` {total,
limit_bytes, over_limit {count, items}, missing_file}, `notes` {over_limit, ...},
`invalid_values` and `orphans` [{entity, column, kind|target, count, items: [{record_id, value}]}],
`unparsed_values` [{entity, field, expected_type, count, items: [{source_file, source_row,
record_id, value}]}] (values the mapping cannot read and leaves empty, see quality.unparsed),
`complexity` {grade, objects: [{object, zoho, records, grade, reasons}]}. Lists are capped; counts
are complete. Logs carry record ids only; the files carry data, for the clinic."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from clinic2zoho import settings
from clinic2zoho.quality import candidates, complexity
from clinic2zoho.quality.checks import Landed, rejects_by_reason
from clinic2zoho.quality.duplicates import DECISION_THRESHOLD, DEFAULT_THRESHOLD, score_duplicates
from clinic2zoho.quality.sources import SPECS, SourceSpec
from clinic2zoho.quality.sql import quote
from clinic2zoho.quality.unparsed import unparsed_values
from clinic2zoho.zoho.facts import ATTACHMENT_MAX_BYTES, NOTE_CONTENT_MAX_CHARS

log = logging.getLogger(__name__)

MAX_DUPLICATES = 50_000  # pairs listed in the JSON (the clinic picks merges from them)
_NOTE_COLUMN = {"generic": ("clinical_notes", "content"), "fhir": ("documentreference", "note_text")}


class QualityError(Exception):
    """The report cannot be built (no warehouse, nothing landed)."""


def _duplicates(con: duckdb.DuckDBPyConnection, spec: SourceSpec, landed: Landed, threshold: float,
                decision_threshold: float) -> dict | None:
    if not spec.people_sql or spec.people_entity not in landed.columns:
        return None
    try:
        people = con.execute(spec.people_sql).df()
    except duckdb.Error as exc:
        log.warning("duplicate check skipped for %s: %s", spec.fmt, exc)
        return None
    # every pair that needs a decision is listed, whatever the listing threshold
    pairs = score_duplicates(people, min(threshold, decision_threshold))
    shown = people.set_index("unique_id")
    listed = pairs.head(MAX_DUPLICATES)
    history = candidates.linked_records(con, spec, landed, set(listed.unique_id_l) | set(listed.unique_id_r))
    items = []
    for row in listed.itertuples(index=False):
        left, right = shown.loc[row.unique_id_l], shown.loc[row.unique_id_r]
        items.append({
            "id_1": row.unique_id_l, "id_2": row.unique_id_r,
            "match_probability": round(float(row.match_probability), 6),
            "match_weight": round(float(row.match_weight), 2),
            "needs_decision": bool(row.match_probability >= decision_threshold),
            "name_1": left["display_name"], "name_2": right["display_name"],
            "birth_date_1": left["display_birth_date"], "birth_date_2": right["display_birth_date"],
            "status_1": left["status"], "status_2": right["status"],
            "linked_records_1": history[row.unique_id_l], "linked_records_2": history[row.unique_id_r],
            "same_birth_date": bool(left["birth_date"] is not None and left["birth_date"] == right["birth_date"]),
        })
    log.info("duplicates %s: %d candidate pairs (ids %s)", spec.fmt, len(pairs),
             [(i["id_1"], i["id_2"]) for i in items[:20]])
    return {"method": "splink 5 (DuckDB), fixed m/u probabilities, blocking on phone, email, "
                      "birth date + postal code, birth date + last name",
            "threshold": threshold, "decision_threshold": decision_threshold, "patients_compared": len(people),
            "count": len(pairs), "to_decide": sum(1 for i in items if i["needs_decision"]), "items": items}


def _notes(con: duckdb.DuckDBPyConnection, fmt: str, landed: Landed) -> dict | None:
    entity, column = _NOTE_COLUMN.get(fmt, (None, None))
    if not entity or not landed.has(entity, column):
        return None
    view = quote("q_" + entity)
    total, over, longest = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE length({quote(column)}) > {NOTE_CONTENT_MAX_CHARS}), "
        f"coalesce(max(length({quote(column)})), 0) FROM {view}").fetchone()
    formats = {}
    if landed.has(entity, "content_format"):
        formats = dict(con.execute(f"SELECT coalesce(content_format, '(none)'), count(*) FROM {view} "
                                   f"GROUP BY ALL ORDER BY 1").fetchall())
    return {"total": total, "limit_chars": NOTE_CONTENT_MAX_CHARS, "over_limit": over, "longest_chars": longest,
            "formats": formats}


def _zoho_emails(con: duckdb.DuckDBPyConnection, tables: set[str]) -> set[str] | None:
    if "zoho_users" not in tables:
        return None
    return {r[0] for r in con.execute(
        "SELECT DISTINCT lower(trim(email)) FROM raw.zoho_users WHERE email IS NOT NULL").fetchall()}


def _profile(con: duckdb.DuckDBPyConnection, spec: SourceSpec, tables: set[str], limit: int,
             threshold: float, decision_threshold: float) -> dict:
    landed = Landed(con, spec, tables)
    source: dict = {"format": spec.fmt, "label": spec.label, "entities": landed.counts()}
    source["missing_entities"] = [e for e in spec.required_entities if e not in landed.columns]
    source["providers"] = landed.providers(_zoho_emails(con, tables))
    source["duplicates"] = _duplicates(con, spec, landed, threshold, decision_threshold)
    source["documents"] = landed.documents(limit)
    source["notes"] = _notes(con, spec.fmt, landed)
    source["invalid_values"] = landed.invalid_values(spec.value_checks)
    source["unparsed_values"] = unparsed_values(con, spec.fmt, landed.columns)
    source["orphans"] = landed.orphans(spec.references)
    source["complexity"] = complexity.grade_source(spec.fmt, source)
    return source


def _summary(sources: list[dict], rejects: dict | None) -> dict:
    def total(fn) -> int:
        return sum(fn(s) or 0 for s in sources)

    return {
        "formats": [s["format"] for s in sources],
        "grade": max((s["complexity"]["grade"] for s in sources if s["complexity"]["grade"]), default=None),
        "records": total(lambda s: sum(e["records"] for e in s["entities"])),
        "providers_missing_email": total(lambda s: (s["providers"] or {}).get("missing_email", {}).get("count")),
        "duplicate_pairs": total(lambda s: (s["duplicates"] or {}).get("count")),
        "duplicate_pairs_to_decide": total(lambda s: (s["duplicates"] or {}).get("to_decide")),
        "documents_over_limit": total(lambda s: (s["documents"] or {}).get("over_limit", {}).get("count")),
        "notes_over_limit": total(lambda s: (s["notes"] or {}).get("over_limit")),
        "invalid_values": total(lambda s: sum(f["count"] for f in s["invalid_values"])),
        "unparsed_values": total(lambda s: sum(f["count"] for f in s["unparsed_values"])),
        "orphans": total(lambda s: sum(f["count"] for f in s["orphans"])),
        "rejected_records": (rejects or {}).get("records", 0),
    }


def build_quality_report(warehouse: Path | None = None, out_dir: Path | None = None,
                         attachment_limit_bytes: int = ATTACHMENT_MAX_BYTES,
                         duplicate_threshold: float = DEFAULT_THRESHOLD,
                         decision_threshold: float = DECISION_THRESHOLD) -> dict:
    """Profile every landed format in the warehouse and write data_quality.html and .json to
    `out_dir` (default: the reports folder), and the duplicate pairs to the warehouse's
    `quality.duplicate_candidates` (the dbt gate's input). Returns the report as a dict, with its
    paths under "paths"."""
    warehouse = Path(warehouse) if warehouse else settings.warehouse_path()
    if not warehouse.is_file():
        raise QualityError(f"warehouse {warehouse} does not exist: land an export first (clinic2zoho land)")
    out_dir = Path(out_dir) if out_dir else settings.reports_dir()
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error as exc:
        raise QualityError(f"cannot open warehouse {warehouse} read-only: {exc}") from exc
    try:
        tables = {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw'").fetchall()}
        formats = [f for f in SPECS if any(t.startswith(f + "__") for t in tables)]
        if not formats:
            raise QualityError(f"warehouse {warehouse} holds no landed export (no raw.<format>__<entity> tables)")
        sources = [_profile(con, SPECS[f], tables, attachment_limit_bytes, duplicate_threshold, decision_threshold)
                   for f in formats]
        rejects = rejects_by_reason(con) if "raw_rejects" in tables else None
        batches = []
        if "_batches" in tables:
            batches = [{"batch_id": r[0], "format": r[1], "source": r[2], "finished_at": str(r[3])}
                       for r in con.execute("SELECT batch_id, format, source, finished_at FROM raw._batches "
                                            "ORDER BY finished_at").fetchall()]
    finally:
        con.close()
    try:
        candidates.store(warehouse, sources)
    except duckdb.Error as exc:
        raise QualityError(f"cannot write the duplicate candidates to {warehouse}: {exc}") from exc

    report = {
        "title": "Data Quality Report",
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "warehouse": str(warehouse),
        "attachment_limit_bytes": attachment_limit_bytes,
        "grades": complexity.GRADES,
        "summary": _summary(sources, rejects),
        "batches": batches,
        "rejects": rejects,
        "sources": sources,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out_dir / "data_quality.json", out_dir / "data_quality.html"
    json_path.write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
    from clinic2zoho.quality.render import render_html

    html_path.write_text(render_html(report), encoding="utf-8")
    report["paths"] = {"json": str(json_path), "html": str(html_path)}
    log.info("data quality report written: %s", html_path)
    return report
