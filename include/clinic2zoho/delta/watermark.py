"""The row watermark: the time of the last landing batch a delta run (or the cutover) has taken
into account. Rows landed after it — by the delta DAG itself or by anyone running
`clinic2zoho land` — are "past the watermark" and make the next delta run pick them up.

Read from the landing bookkeeping (`raw._batches`, `raw._file_loads`), never from row data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from clinic2zoho.landing.store import table_name


@dataclass(frozen=True)
class LandedBatch:
    batch_id: str
    format: str
    finished_at: datetime
    rows_landed: int
    tables: tuple[str, ...]  # raw tables that received new rows (new records or new versions)


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
                            [schema, name]).fetchone()[0])


def latest_batch_at(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """When the last landing batch finished (None before anything landed)."""
    if not _has_table(con, "raw", "_batches"):
        return None
    return con.execute("SELECT max(finished_at) FROM raw._batches").fetchone()[0]


def batches_past(con: duckdb.DuckDBPyConnection, watermark_at: datetime | None) -> list[LandedBatch]:
    """Batches finished after the watermark, with the raw tables each one added rows to."""
    if not _has_table(con, "raw", "_batches"):
        return []
    rows = con.execute(
        """SELECT b.batch_id, b.format, b.finished_at, coalesce(sum(f.rows_landed), 0),
                  list(DISTINCT f.entity ORDER BY f.entity) FILTER (f.rows_landed > 0)
           FROM raw._batches b LEFT JOIN raw._file_loads f USING (batch_id)
           WHERE ? IS NULL OR b.finished_at > ?
           GROUP BY ALL ORDER BY b.finished_at""", [watermark_at, watermark_at]).fetchall()
    return [LandedBatch(batch_id, fmt, finished, int(landed), tuple(table_name(fmt, e) for e in (entities or ())))
            for batch_id, fmt, finished, landed, entities in rows]


def rows_past_watermark(con: duckdb.DuckDBPyConnection, watermark_at: datetime | None) -> int:
    """How many rows were landed (new records or new versions) after the watermark."""
    return sum(b.rows_landed for b in batches_past(con, watermark_at))


def rows_past_watermark_in(warehouse: str, watermark_at: datetime | None) -> int | None:
    """The same from a warehouse file opened read-only; None when the file is busy (another
    process is writing it): the caller looks again later."""
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        return None
    try:
        return rows_past_watermark(con, watermark_at)
    finally:
        con.close()
