"""The checks of the Data Quality Report, each one SQL over the landed `raw` tables."""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb

from clinic2zoho.loader import documents
from clinic2zoho.quality.sources import Reference, SourceSpec, ValueCheck
from clinic2zoho.quality.sql import MAX_EXAMPLES, MAX_ITEMS, quote
from clinic2zoho.quality.unparsed import mapped_relation

log = logging.getLogger(__name__)


def _valid_expr(kind: str, v: str, date_style: str) -> str:
    """SQL that is true when the non-empty value `v` is valid."""
    if kind == "email":
        return rf"regexp_full_match({v}, '[A-Za-z0-9._%+''-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{{2,}}')"
    if kind == "phone":
        d = f"regexp_replace({v}, '[^0-9]', '', 'g')"
        return (rf"(regexp_full_match(trim({v}), '[0-9 ()+.\-]+') AND "
                rf"(regexp_full_match({d}, '[2-9][0-9]{{2}}[2-9][0-9]{{6}}') "
                rf"OR regexp_full_match({d}, '1[2-9][0-9]{{2}}[2-9][0-9]{{6}}')))")
    if date_style == "strict":
        if kind == "date":
            return rf"(regexp_full_match({v}, '\d{{4}}-\d{{2}}-\d{{2}}') AND try_strptime({v}, '%Y-%m-%d') IS NOT NULL)"
        return (rf"(regexp_full_match({v}, '\d{{4}}-\d{{2}}-\d{{2}} \d{{2}}:\d{{2}}(:\d{{2}})?') AND "
                rf"try_strptime({v}, ['%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M']) IS NOT NULL)")
    # ISO 8601 as FHIR and Synthea write it; FHIR dates may be partial (YYYY, YYYY-MM)
    iso_date = (rf"(regexp_full_match({v}, '\d{{4}}(-\d{{2}}(-\d{{2}})?)?') AND try_cast(CASE length({v}) "
                rf"WHEN 4 THEN {v} || '-01-01' WHEN 7 THEN {v} || '-01' ELSE {v} END AS DATE) IS NOT NULL)")
    if kind == "date":
        return iso_date
    return rf"({iso_date} OR (regexp_full_match({v}, '\d{{4}}-\d{{2}}-\d{{2}}[T ].*') AND try_cast({v} AS TIMESTAMPTZ) IS NOT NULL))"


class Landed:
    """The raw tables of one format, with a view `q_<entity>` per table holding the latest
    landed version of each record."""

    def __init__(self, con: duckdb.DuckDBPyConnection, spec: SourceSpec, tables: set[str]) -> None:
        self.con = con
        self.spec = spec
        prefix = f"{spec.fmt}__"
        self.entities = sorted(t[len(prefix):] for t in tables if t.startswith(prefix))
        self.columns: dict[str, list[str]] = {}
        self.keys: dict[str, str | None] = {}
        for entity in self.entities:
            table = f"raw.{quote(prefix + entity)}"
            cols = [r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'raw' "
                "AND table_name = ? ORDER BY ordinal_position", [prefix + entity]).fetchall()]
            if mapped := mapped_relation(con, spec.fmt, entity):  # another layout: as staging reads it
                table, cols = mapped
            self.columns[entity] = cols
            key = spec.keys.get(entity) or ("id" if "id" in cols else None)
            key = key if key in cols else None
            self.keys[entity] = key
            if key and "_loaded_at" in cols:
                # rows without a key are kept apart: each is its own record
                partition = f"coalesce({quote(key)}, '#' || _source_file || ':' || _source_row)"
                body = (f"SELECT * FROM {table} QUALIFY row_number() OVER (PARTITION BY {partition} "
                        f"ORDER BY _loaded_at DESC, _source_row DESC) = 1")
            else:
                body = f"SELECT * FROM {table}"
            con.execute(f"CREATE OR REPLACE TEMP VIEW {quote('q_' + entity)} AS {body}")

    def has(self, entity: str, *columns: str) -> bool:
        return entity in self.columns and all(c in self.columns[entity] for c in columns)

    def counts(self) -> list[dict]:
        out = []
        for entity in self.entities:
            table = f"raw.{quote(self.spec.fmt + '__' + entity)}"
            rows = self.con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            records = self.con.execute(f"SELECT count(*) FROM {quote('q_' + entity)}").fetchone()[0]
            out.append({"entity": entity, "table": f"raw.{self.spec.fmt}__{entity}", "rows_landed": rows,
                        "records": records, "key": self.keys[entity]})
        return out

    def invalid_values(self, checks: list[ValueCheck]) -> list[dict]:
        out = []
        for check in checks:
            if not self.has(check.entity, check.column):
                continue
            key = self.keys[check.entity] or "_source_row"
            v = f"trim({quote(check.column)})"
            where = (f"{quote(check.column)} IS NOT NULL AND {v} <> '' "
                     f"AND NOT coalesce({_valid_expr(check.kind, v, self.spec.date_style)}, false)")
            count, items = self._failing(quote("q_" + check.entity), quote(key), quote(check.column), where)
            if not count:
                continue
            log.info("invalid %s in %s.%s: %d (ids %s)", check.kind, check.entity, check.column, count,
                     [i["record_id"] for i in items[:MAX_EXAMPLES]])
            out.append({"entity": check.entity, "column": check.column, "kind": check.kind, "count": count,
                        "items": items})
        return out

    def orphans(self, references: list[Reference]) -> list[dict]:
        out = []
        for ref in references:
            if not self.has(ref.entity, ref.column):
                continue
            key = self.keys[ref.entity] or "_source_row"
            targets = [c for c in ref.target_columns if self.has(ref.target, c)]
            col = f"s.{quote(ref.column)}"
            if targets:
                known = " OR ".join(f"t.{quote(c)} = {col}" for c in targets)
                missing = f"NOT EXISTS (SELECT 1 FROM {quote('q_' + ref.target)} t WHERE {known})"
            else:
                missing = "true"  # the target entity was not landed at all
            where = f"{col} IS NOT NULL AND trim({col}) <> '' AND {missing}"
            count, items = self._failing(f"{quote('q_' + ref.entity)} s", f"s.{quote(key)}", col, where)
            if not count:
                continue
            log.info("orphans %s.%s -> %s: %d (ids %s)", ref.entity, ref.column, ref.target, count,
                     [i["record_id"] for i in items[:MAX_EXAMPLES]])
            out.append({"entity": ref.entity, "column": ref.column, "target": ref.target,
                        "target_landed": bool(targets), "count": count, "items": items})
        return out

    def _failing(self, view: str, key: str, column: str, where: str) -> tuple[int, list[dict]]:
        """The records of `view` that `where` picks: how many, and the first MAX_ITEMS by key as their
        record id and value of `column`."""
        rows = self.con.execute(f"SELECT CAST({key} AS VARCHAR), {column}, count(*) OVER () FROM {view} "
                                f"WHERE {where} ORDER BY 1 LIMIT {MAX_ITEMS}").fetchall()
        return (rows[0][2] if rows else 0), [{"record_id": r[0], "value": r[1]} for r in rows]

    def providers(self, zoho_emails: set[str] | None) -> dict | None:
        spec = self.spec
        if not self.spec.providers_sql or spec.provider_entity not in self.columns:
            return None
        email_col = "p.email" if self.has(spec.provider_entity, "email") else "CAST(NULL AS VARCHAR)"
        try:
            rows = self.con.execute(spec.providers_sql.replace("{email}", email_col) + " ORDER BY 1").fetchall()
        except duckdb.CatalogException as exc:
            log.warning("provider check skipped for %s: %s", spec.fmt, exc)
            return None
        names = ["provider_id", "name", "email", "npi", "status", "owned_records"]
        providers = [dict(zip(names, r)) for r in rows]
        missing = [p for p in providers if not (p["email"] or "").strip()]
        result = {
            "total": len(providers),
            "has_email_column": email_col == "p.email",
            "missing_email": {"count": len(missing),
                              "owning_records": sum(1 for p in missing if p["owned_records"]),
                              "items": [_provider_item(p) for p in missing[:MAX_ITEMS]]},
        }
        if zoho_emails is not None:
            unmatched = [p for p in providers if (p["email"] or "").strip()
                         and p["email"].strip().lower() not in zoho_emails]
            result["unmatched_in_zoho"] = {"count": len(unmatched),
                                           "items": [_provider_item(p) for p in unmatched[:MAX_ITEMS]]}
        log.info("providers %s: %d, missing email %d (ids %s)", spec.fmt, len(providers), len(missing),
                 [p["provider_id"] for p in missing[:MAX_EXAMPLES]])
        return result

    def documents(self, limit_bytes: int) -> dict | None:
        spec = self.spec
        if not spec.documents_sql or spec.document_entity not in self.columns:
            return None
        base = f"SELECT * FROM ({spec.documents_sql})"
        total, size_total = self.con.execute(f"SELECT count(*), coalesce(sum(size_bytes), 0) FROM ({base})").fetchone()
        over_where = f"size_bytes > {int(limit_bytes)}"
        over_count = self.con.execute(f"SELECT count(*) FROM ({base}) WHERE {over_where}").fetchone()[0]
        over = self.con.execute(f"SELECT document_id, patient_id, name, size_bytes FROM ({base}) "
                                f"WHERE {over_where} ORDER BY size_bytes DESC, document_id LIMIT {MAX_ITEMS}").fetchall()
        unknown_size = self.con.execute(f"SELECT count(*) FROM ({base}) WHERE size_bytes IS NULL").fetchone()[0]
        result = {
            "total": total, "total_bytes": int(size_total), "limit_bytes": int(limit_bytes),
            "unknown_size": unknown_size,
            "over_limit": {"count": over_count, "items": [
                {"document_id": r[0], "patient_id": r[1], "name": r[2], "size_bytes": r[3]} for r in over]},
        }
        # Files listed by path (generic exports): is each one there, inside the export folder? The
        # loader's own rule decides, so a path leaving the folder is never looked at, only reported.
        paths = self.con.execute(f"SELECT document_id, source_file, file_path FROM ({base}) "
                                 f"WHERE file_path IS NOT NULL ORDER BY 1").fetchall()
        if paths:
            refused = {documents.NOT_FOUND: [], documents.OUTSIDE: []}
            for d, src, p in paths:
                try:
                    documents.locate(p, Path(src).parent)
                except documents.DocumentRefused as exc:
                    refused.setdefault(exc.code, []).append((d, p))
            missing, outside = refused[documents.NOT_FOUND], refused[documents.OUTSIDE]
            result["missing_file"] = {"count": len(missing), "checked": len(paths),
                                      "items": [{"document_id": d, "file_path": p} for d, p in missing[:MAX_ITEMS]]}
            result["outside_export"] = {"count": len(outside), "items": [{"document_id": d, "file_path": p}
                                                                         for d, p in outside[:MAX_ITEMS]]}
        log.info("documents %s: %d, over %d bytes: %d (ids %s)", spec.fmt, total, limit_bytes, over_count,
                 [r[0] for r in over[:MAX_EXAMPLES]])
        return result


def _provider_item(p: dict) -> dict:
    return {k: p[k] for k in ("provider_id", "name", "email", "npi", "status", "owned_records")}


def rejects_by_reason(con: duckdb.DuckDBPyConnection) -> dict:
    """raw.raw_rejects grouped by file and by the reason's kind (the text before the first colon)."""
    rows = con.execute("""
        SELECT source_file, trim(split_part(reason, ':', 1)) AS kind, count(DISTINCT source_row) AS records,
               count(*) AS rejections, min(source_row) AS first_row
        FROM raw.raw_rejects GROUP BY ALL ORDER BY records DESC, source_file, kind""").fetchall()
    groups = [{"source_file": r[0], "reason": r[1], "records": r[2], "rejections": r[3], "first_row": r[4]}
              for r in rows]
    records = con.execute("SELECT count(*) FROM (SELECT DISTINCT source_file, source_row FROM raw.raw_rejects)"
                          ).fetchone()[0]
    return {"records": records, "groups": groups}
