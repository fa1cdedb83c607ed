"""The raw schema in DuckDB: bookkeeping tables, raw tables, and the one way rows get in.

Every entity table holds VARCHAR content columns plus the lineage columns. Rows are compared
with what is already landed before they go in: for an entity with a record key, a record whose
rows in this file equal its LATEST landed version is unchanged, anything else lands as a new
version (so A -> B -> A lands three versions and "latest per key" gives A); for an entity without
a key the row is its own key, so a row whose content hash is already in the table is unchanged.
All set-based, in DuckDB SQL."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from .errors import LandingError
from .names import quote_ident

LINEAGE_COLUMNS = ("_source_file", "_source_row", "_batch_id", "_loaded_at", "_row_hash")
_LINEAGE_DDL = ("_source_file VARCHAR, _source_row BIGINT, _batch_id VARCHAR, "
                "_loaded_at TIMESTAMPTZ, _row_hash UBIGINT")

_BOOKKEEPING = """
CREATE SCHEMA IF NOT EXISTS raw;
CREATE TABLE IF NOT EXISTS raw._batches (
    batch_id VARCHAR PRIMARY KEY, format VARCHAR, source VARCHAR,
    started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ);
CREATE TABLE IF NOT EXISTS raw._file_loads (
    batch_id VARCHAR, entity VARCHAR, source_file VARCHAR, rows_read BIGINT, rows_landed BIGINT,
    rows_unchanged BIGINT, rows_rejected BIGINT,
    CHECK (rows_read = rows_landed + rows_unchanged + rows_rejected));
CREATE TABLE IF NOT EXISTS raw.raw_rejects (
    batch_id VARCHAR, source_file VARCHAR, source_row BIGINT, field VARCHAR, reason VARCHAR,
    raw_record VARCHAR, rejected_at TIMESTAMPTZ);
"""


def connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse))
    # the bench target is < 4 GB for the whole process; DuckDB spills beyond this
    con.execute(f"SET memory_limit = '{os.environ.get('CLINIC2ZOHO_DUCKDB_MEMORY', '3GB')}'")
    con.execute("SET preserve_insertion_order = true")  # rows kept, and numbered, in file order (delimited.read_numbered)
    con.execute(_BOOKKEEPING)
    return con


def table_name(fmt: str, entity: str) -> str:
    return f"raw.{fmt}__{entity}"


def _table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str] | None:
    schema, name = table.split(".", 1)
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
        "ORDER BY ordinal_position", [schema, name]).fetchall()
    return [r[0] for r in rows] or None


def ensure_table(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> bool:
    """Create the table, or add the columns a newer export brought. Returns True when the table
    already holds rows (so new rows must be compared with existing hashes)."""
    existing = _table_columns(con, table)
    if existing is None:
        content = ", ".join(f"{quote_ident(c)} VARCHAR" for c in columns)
        con.execute(f"CREATE TABLE {table} ({content}, {_LINEAGE_DDL})")
        return False
    for column in columns:
        if column not in existing:
            con.execute(f"ALTER TABLE {table} ADD COLUMN {quote_ident(column)} VARCHAR")
    return con.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()[0]


def row_hash_sql(columns: list[str], alias: str = "") -> str:
    """Hash of the content columns in name order, so a reordered export hashes the same."""
    prefix = f"{alias}." if alias else ""
    return "hash(" + ", ".join(f"{prefix}{quote_ident(c)}" for c in sorted(columns)) + ")"


@dataclass(frozen=True)
class Batch:
    batch_id: str
    loaded_at: datetime


def land_relation(con: duckdb.DuckDBPyConnection, table: str, columns: list[str], select_sql: str,
                  source_file: str, batch: Batch, key: str | None = None) -> tuple[int, int, int]:
    """Insert the rows of `select_sql` (content columns plus `_rn`, the source row number) into
    `table`. `key` names the record-key column (None: the row is its own key). Returns (good rows
    read, landed, unchanged)."""
    has_rows = ensure_table(con, table, columns)
    cols = ", ".join(quote_ident(c) for c in columns)
    target = f"{cols}, _source_file, _source_row, _batch_id, _loaded_at, _row_hash"
    params = [source_file, batch.batch_id, batch.loaded_at]
    if not has_rows:
        # first landing: nothing to compare with, a single streaming pass
        landed = con.execute(
            f"INSERT INTO {table} ({target}) SELECT {cols}, ?, _rn, ?, ?, {row_hash_sql(columns)} "
            f"FROM ({select_sql})", params).fetchone()[0]
        return landed, landed, 0
    if key is None:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _landing_stage AS "
                    f"SELECT *, {row_hash_sql(columns)} AS _h FROM ({select_sql})")
        # keyless: a row equal to any landed row is that record (its content is its identity)
        con.execute(f"CREATE OR REPLACE TEMP TABLE _landing_unchanged AS "
                    f"SELECT DISTINCT _h AS _k FROM _landing_stage WHERE _h IN (SELECT _row_hash FROM {table})")
        match = "_h"
    else:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _landing_stage AS SELECT *, {_record_key_sql(key, '_h')} AS _k "
                    f"FROM (SELECT *, {row_hash_sql(columns)} AS _h FROM ({select_sql}))")
        con.execute(f"CREATE OR REPLACE TEMP TABLE _landing_unchanged AS {_unchanged_keys_sql(table, key)}")
        match = "_k"
    good, unchanged = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE {match} IN (SELECT _k FROM _landing_unchanged)) "
        f"FROM _landing_stage").fetchone()
    landed = con.execute(
        f"INSERT INTO {table} ({target}) SELECT {cols}, ?, _rn, ?, ?, _h FROM _landing_stage s "
        f"WHERE NOT EXISTS (SELECT 1 FROM _landing_unchanged u WHERE u._k = s.{match})", params).fetchone()[0]
    con.execute("DROP TABLE _landing_stage; DROP TABLE _landing_unchanged")
    if good != landed + unchanged:
        raise LandingError(f"internal check failed: {good} rows read but {landed} landed and "
                           f"{unchanged} unchanged", file=source_file)
    return good, landed, unchanged


def _record_key_sql(key: str, hash_column: str) -> str:
    """The record key as a UBIGINT hash (joins on it are as cheap as on the row hash). A row with
    no key value is its own key (its content hash), so it behaves as a keyless row. Two keys that
    collide only make one group: the comparison below also checks the content hashes, which
    include the key, so a collision can land an extra version but never hide a change."""
    return f"CASE WHEN {quote_ident(key)} IS NULL THEN {hash_column} ELSE hash({quote_ident(key)}) END"


def _unchanged_keys_sql(table: str, key: str) -> str:
    """Keys of `_landing_stage` whose rows equal the record's latest landed version.

    A record's version in one file is its rows there: normally one, several when a key repeats
    inside the file (they land and compare together, and the later row is the one staging keeps).
    Two versions are equal when they have the same number of rows, the same last row and the same
    rows (compared by the sum of their hashes) - plain hash aggregates, no ordered lists or window
    functions, which cost several times more. The latest landed version is what the record's latest
    `_loaded_at` holds, per source file (several files of one entity in one batch, e.g. FHIR
    Patient.000/.001, each keep their own rows)."""
    return f"""
        WITH incoming AS (
            SELECT _k, count(*) AS n, arg_max(_h, _rn) AS last, sum(CAST(_h AS HUGEINT)) AS total
            FROM _landing_stage GROUP BY _k),
        versions AS (
            SELECT {_record_key_sql(key, '_row_hash')} AS _k, _loaded_at, count(*) AS n,
                   arg_max(_row_hash, _source_row) AS last, sum(CAST(_row_hash AS HUGEINT)) AS total
            FROM {table} GROUP BY _k, _loaded_at, _source_file),
        latest AS (SELECT _k, max(_loaded_at) AS at FROM versions GROUP BY _k)
        SELECT i._k FROM incoming i SEMI JOIN (
            SELECT v.* FROM versions v SEMI JOIN latest l ON l._k = v._k AND l.at = v._loaded_at) v
        ON v._k = i._k AND v.n = i.n AND v.last = i.last AND v.total = i.total"""


def record_rejects(con: duckdb.DuckDBPyConnection, rejects_sql: str, source_file: str, batch: Batch) -> int:
    """Insert rejects (columns source_row, field, reason, raw_record) and return how many source
    rows they cover (a row with two problems counts once)."""
    con.execute(
        "INSERT INTO raw.raw_rejects SELECT ?, ?, source_row, field, reason, raw_record, ? "
        f"FROM ({rejects_sql})", [batch.batch_id, source_file, batch.loaded_at])
    return con.execute(f"SELECT count(DISTINCT source_row) FROM ({rejects_sql})").fetchone()[0]


def record_file_load(con: duckdb.DuckDBPyConnection, batch: Batch, entity: str, source_file: str,
                     read: int, landed: int, unchanged: int, rejected: int) -> None:
    if read != landed + unchanged + rejected:
        raise LandingError(f"row conservation failed: read {read} != landed {landed} + unchanged "
                           f"{unchanged} + rejected {rejected}", file=source_file)
    con.execute("INSERT INTO raw._file_loads VALUES (?, ?, ?, ?, ?, ?, ?)",
                [batch.batch_id, entity, source_file, read, landed, unchanged, rejected])
