"""JSON expressions over NDJSON lines, evaluated a bounded number of bytes at a time.

DuckDB's JSON functions parse the document again at every call site, and each call site holds its
parses of a whole vector (2048 rows, one per thread) until the next one; a parse takes a few times
the text's size. FHIR flattening (~25 call sites) over one 40 MB line, or over a vector of 5 MB
lines, ran out of memory and failed the whole landing naming no file or row. So:

- a file whose every vector fits the budget is evaluated in one statement, as before (the usual
  case: Synthea's lines are a few KB);
- otherwise lines go in batches of consecutive lines of at most `batch_bytes()`, one statement per
  batch, and a line longer than that alone, one column at a time;
- a line too long to parse within the memory limit even so is a reject with its row and length.

The budget follows DuckDB's memory limit (CLINIC2ZOHO_DUCKDB_MEMORY, 3 GB by default: batches of
~15 MB, lines up to ~120 MB; a larger limit lands longer lines)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

from .names import quote_ident, sql_string
from .store import Batch, record_rejects

# Measured with DuckDB 2.0 (two threads): 40 MB of 10 KB lines in flight under FHIR flattening's 25
# call sites peaked at 1.8 GB, ~1.8 bytes per byte per call site; one 120 MB line landed on its own
# peaked at 1.6 GB, ~12 bytes per byte with every copy (line, resource, decoded note). Both are
# kept within half the memory limit.
PARSE_FACTOR = 3  # bytes one call site holds per byte of JSON text in flight
CALL_SITES = 32  # JSON call sites in one statement (FHIR flattening has up to ~25)
LONG_LINE_FACTOR = 12  # bytes per byte of a line landed on its own, one column at a time
VECTOR_ROWS = 2048
_UNITS = {"bytes": 1, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
          "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}


def memory_limit(con: duckdb.DuckDBPyConnection) -> int:
    text = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    match = re.fullmatch(r"\s*([\d.]+)\s*([A-Za-z]+)\s*", str(text))
    if not match or match.group(2).lower() not in _UNITS:
        return 1 << 30  # unknown: assume 1 GiB
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def batch_bytes(con: duckdb.DuckDBPyConnection) -> int:
    """Bytes of JSON one statement may have in flight: every call site's parses in half the limit."""
    return max(1 << 16, memory_limit(con) // (2 * CALL_SITES * PARSE_FACTOR))


def max_line_bytes(con: duckdb.DuckDBPyConnection) -> int:
    """The longest line that can be evaluated (one column at a time) within half the memory limit."""
    return memory_limit(con) // (2 * LONG_LINE_FACTOR)


@dataclass(frozen=True)
class Span:
    first: int  # first and last line number (`ln`) of a run of consecutive lines
    last: int
    long: bool  # one line longer than the batch size, evaluated one column at a time


def spans(con: duckdb.DuckDBPyConnection, table: str, where: str = "true") -> list[Span]:
    """The lines of `table` (columns `line`, `ln`) that match `where`, as runs to evaluate: one run
    when no vector can hold more than its share of `batch_bytes`, else runs of about that size."""
    size = batch_bytes(con)
    threads = int(con.execute("SELECT current_setting('threads')").fetchone()[0])
    lines = f"SELECT ln, strlen(line) AS n FROM {table} WHERE {where}"
    # a vector of 2048 rows spans at most three blocks of 1024 line numbers
    first, last, fullest = con.execute(f"""
        SELECT min(first), max(last), max(s3) FROM (
            SELECT first, last, sum(s) OVER (ORDER BY g ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS s3
            FROM (SELECT ln // {VECTOR_ROWS // 2} AS g, min(ln) AS first, max(ln) AS last, sum(n) AS s
                  FROM ({lines}) GROUP BY g))""").fetchone()
    if first is None:
        return []
    if fullest * threads <= size:
        return [Span(first, last, False)]
    rows = con.execute(f"""
        SELECT min(ln), max(ln), bool_or(long) FROM (
            SELECT ln, long, CASE WHEN long THEN ln END AS own,
                   sum(CAST(long AS INTEGER)) OVER w AS longs,
                   sum(CASE WHEN long THEN 0 ELSE n END) OVER w // {size} AS part
            FROM (SELECT ln, n, n > {size} AS long FROM ({lines}))
            WINDOW w AS (ORDER BY ln ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW))
        GROUP BY own, longs, part ORDER BY 1""").fetchall()
    return [Span(first, last, bool(long)) for first, last, long in rows]


def reject_long_lines(con: duckdb.DuckDBPyConnection, table: str, source_file: str, batch: Batch) -> int:
    """Reject (and take out of `table`) the lines too long to parse within the memory limit; the
    reject keeps the line's first KiB."""
    limit = max_line_bytes(con)
    where = f"strlen(line) > {limit}"
    if not con.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()[0]:
        return 0
    setting = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    reason = sql_string(f" MiB: longer than the {limit / (1 << 20):.1f} MiB a line can be to be parsed within "
                        f"the memory limit ({setting}); raise CLINIC2ZOHO_DUCKDB_MEMORY to land it")
    rejected = record_rejects(
        con, f"SELECT ln AS source_row, NULL AS field, "
             f"'line too long: ' || round(strlen(line) / {1 << 20}, 1) || {reason} AS reason, "
             f"left(line, 1024) || ' [...]' AS raw_record FROM {table} WHERE {where}", source_file, batch)
    con.execute(f"DELETE FROM {table} WHERE {where}")
    return rejected


def add_columns(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, tuple[str, str]],
                runs: list[Span]) -> None:
    """Add `columns` (name -> (SQL expression, type)) to `table`, one column and one run per
    statement; an expression may use the columns listed before it."""
    for name, (expr, kind) in columns.items():
        con.execute(f"ALTER TABLE {table} ADD COLUMN {quote_ident(name)} {kind}")
        for run in runs:
            con.execute(f"UPDATE {table} SET {quote_ident(name)} = {expr} WHERE ln BETWEEN {run.first} AND {run.last}")


def select(con: duckdb.DuckDBPyConnection, source_sql: str, columns: dict[str, str], runs: list[Span],
           target: str) -> str:
    """SQL for `columns` (name -> VARCHAR expression over the columns of `source_sql`) plus `_rn`
    (the source's `ln`). One short run: the plain SELECT, for the caller to stream. Else the runs
    are evaluated into temp table `target` first (the caller drops it) and the SQL reads it."""
    exprs = ", ".join(f"{expr} AS {quote_ident(name)}" for name, expr in columns.items())
    if len(runs) <= 1 and not any(run.long for run in runs):
        return f"SELECT {exprs}, ln AS _rn FROM ({source_sql})"
    defs = ", ".join(f"{quote_ident(name)} VARCHAR" for name in columns)
    names = ", ".join(quote_ident(name) for name in columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {target} ({defs}, _rn BIGINT)")
    for run in runs:
        rows = f"SELECT * FROM ({source_sql}) WHERE ln BETWEEN {run.first} AND {run.last}"
        if not run.long:
            con.execute(f"INSERT INTO {target} SELECT {exprs}, ln FROM ({rows})")
            continue
        # one long line: a statement per column, so only one column's parses are held at a time
        con.execute(f"CREATE OR REPLACE TEMP TABLE _landing_long_line AS {rows}")
        for name, expr in columns.items():
            con.execute(f"ALTER TABLE _landing_long_line ADD COLUMN {quote_ident(name)} VARCHAR")
            con.execute(f"UPDATE _landing_long_line SET {quote_ident(name)} = {expr}")
        con.execute(f"INSERT INTO {target} SELECT {names}, ln FROM _landing_long_line")
        con.execute("DROP TABLE _landing_long_line")
    return f"SELECT {names}, _rn FROM {target}"
