"""The duplicate patient pairs of the Data Quality Report, kept in the warehouse as
`quality.duplicate_candidates` so the dbt gate reads the very pairs the clinic was shown (one
source of truth: splink scores them once, in the quality step, and nothing else does).

Columns: source_format, patient_id_1 < patient_id_2, match_probability, match_weight,
needs_decision (match_probability >= the decision threshold: the gate fails until a person
decides the pair), linked_records_1/2 (records of the export hanging under each patient, what a
person weighs when choosing the survivor), same_birth_date (both known and equal; no value kept),
scored_at. Every report replaces the whole table:
pairs of an earlier export do not linger."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import duckdb

from clinic2zoho.quality.checks import Landed
from clinic2zoho.quality.sources import SourceSpec
from clinic2zoho.quality.sql import quote

SCHEMA, TABLE = "quality", "duplicate_candidates"
COLUMNS = ("source_format VARCHAR, patient_id_1 VARCHAR, patient_id_2 VARCHAR, match_probability DOUBLE, "
           "match_weight DOUBLE, needs_decision BOOLEAN, linked_records_1 BIGINT, linked_records_2 BIGINT, "
           "same_birth_date BOOLEAN, scored_at TIMESTAMPTZ")


def linked_records(con: duckdb.DuckDBPyConnection, spec: SourceSpec, landed: Landed, ids: set[str]) -> dict[str, int]:
    """Per patient id, the landed records that reference it (appointments, claims, notes, ...)."""
    counts = dict.fromkeys(ids, 0)
    if not ids:
        return counts
    for ref in spec.references:
        if ref.target != spec.people_entity or not landed.has(ref.entity, ref.column):
            continue
        column = quote(ref.column)
        rows = con.execute(f"SELECT {column}, count(*) FROM {quote('q_' + ref.entity)} "
                           f"WHERE {column} IN (SELECT unnest(?)) GROUP BY 1", [sorted(ids)]).fetchall()
        for patient_id, n in rows:
            counts[patient_id] += n
    return counts


def store(warehouse: Path, sources: list[dict]) -> int:
    """Replace `quality.duplicate_candidates` with the pairs of every source's report section."""
    now = datetime.now(timezone.utc)
    rows = []
    for source in sources:
        for item in ((source.get("duplicates") or {}).get("items") or []):
            rows.append((source["format"], item["id_1"], item["id_2"], item["match_probability"],
                         item["match_weight"], item["needs_decision"], item["linked_records_1"],
                         item["linked_records_2"], item["same_birth_date"], now))
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        con.execute(f"CREATE OR REPLACE TABLE {SCHEMA}.{TABLE} ({COLUMNS})")
        if rows:
            con.executemany(f"INSERT INTO {SCHEMA}.{TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return len(rows)


def read(warehouse: Path, *, needing_decision: bool = False) -> list[dict]:
    """The stored pairs, best first (none when the quality step never ran on this warehouse)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        found = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? "
                            "AND table_name = ?", [SCHEMA, TABLE]).fetchone()[0]
        if not found:
            return []
        cur = con.execute(f"SELECT * FROM {SCHEMA}.{TABLE}{' WHERE needs_decision' if needing_decision else ''} "
                          "ORDER BY match_probability DESC, patient_id_1, patient_id_2")
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]
