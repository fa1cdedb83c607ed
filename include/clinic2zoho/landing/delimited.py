"""Land one delimited file (Synthea or generic CSV) into its raw table with DuckDB's reader.

DuckDB parses the file (parallel, streaming); rows it cannot parse (too many or too few fields,
invalid UTF-8, unterminated quotes, over-long records) go to its rejects table, from which they are
copied to raw.raw_rejects with row, field and reason."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

import duckdb

from .names import quote_ident, sql_string
from .result import FileLoad
from .sniff import CsvShape, transcode_to_utf8
from .store import Batch, land_relation, record_file_load, record_rejects
from .utf8 import file_has_multibyte

MAX_LINE_BYTES = 64 << 20  # a record (not a field limit): long rich-text notes fit easily
_REJECTS = "_landing_csv_rejects"
_REJECT_SCANS = "_landing_csv_reject_scans"


def read_csv_sql(path: Path, shape: CsvShape) -> str:
    columns = "{" + ", ".join(f"{sql_string(c)}: 'VARCHAR'" for c in shape.columns) + "}"
    return (
        f"read_csv({sql_string(str(path))}, header = true, columns = {columns}, auto_detect = false, "
        f"delim = {sql_string(shape.delimiter)}, quote = '\"', escape = '\"', strict_mode = true, "
        f"null_padding = false, max_line_size = {MAX_LINE_BYTES}, store_rejects = true, "
        f"rejects_table = '{_REJECTS}', rejects_scan = '{_REJECT_SCANS}')"
    )


def land_delimited(con: duckdb.DuckDBPyConnection, shape: CsvShape, entity: str, table: str,
                   batch: Batch, workdir: Path, key: str | None = None) -> FileLoad:
    """`key`: the record-key column (None: the row is its own key), see store.land_relation."""
    source_file = str(shape.path)
    good, landed, unchanged, rejected = _land_once(con, shape, table, batch, workdir, key)
    if rejected and not shape.needs_transcoding and _encoding_rejects(con) and not file_has_multibyte(shape.path):
        # The sample looked like UTF-8 (plain ASCII), but later bytes are not UTF-8 and nothing in
        # the file is UTF-8 beyond ASCII: it is a cp1252/latin-1 file. Land it again, transcoded.
        con.execute(f"DELETE FROM {table} WHERE _batch_id = ? AND _source_file = ?", [batch.batch_id, source_file])
        con.execute("DELETE FROM raw.raw_rejects WHERE batch_id = ? AND source_file = ?",
                    [batch.batch_id, source_file])
        shape = replace(shape, encoding="cp1252")
        good, landed, unchanged, rejected = _land_once(con, shape, table, batch, workdir, key)
    load = FileLoad(entity=entity, file=source_file, table=table, read=good + rejected, landed=landed,
                    unchanged=unchanged, rejected=rejected)
    record_file_load(con, batch, entity, source_file, load.read, landed, unchanged, rejected)
    return load


def _land_once(con: duckdb.DuckDBPyConnection, shape: CsvShape, table: str, batch: Batch,
               workdir: Path, key: str | None) -> tuple[int, int, int, int]:
    source_file = str(shape.path)
    read_path = shape.path
    if shape.needs_transcoding:
        read_path = transcode_to_utf8(shape, Path(tempfile.mkstemp(suffix=".csv", dir=workdir)[1]))
    con.execute(f"DROP TABLE IF EXISTS {_REJECTS}; DROP TABLE IF EXISTS {_REJECT_SCANS}")
    cols = ", ".join(quote_ident(c) for c in shape.columns)
    select_sql = f"SELECT {cols}, row_number() OVER () AS _rn FROM {read_csv_sql(read_path, shape)}"
    try:
        good, landed, unchanged = land_relation(con, table, shape.columns, select_sql, source_file, batch, key)
        rejected = _collect_rejects(con, table, source_file, batch)
    finally:
        if read_path != shape.path:
            read_path.unlink(missing_ok=True)
    return good, landed, unchanged, rejected


def _encoding_rejects(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute(f"SELECT count(*) FROM {_REJECTS} WHERE error_type LIKE 'INVALID %'").fetchone()[0] > 0


# DuckDB says "This file is not utf-8 encoded"; the file is read as UTF-8 on purpose (utf8.py)
_INVALID_UTF8 = ("invalid encoding: the row holds bytes that are not UTF-8, in a file read as UTF-8 (it has a "
                 "UTF-8 BOM or UTF-8 characters elsewhere); fix the row's bytes or export the file as UTF-8 again")



def _collect_rejects(con: duckdb.DuckDBPyConnection, table: str, source_file: str, batch: Batch) -> int:
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND temporary",
                         [_REJECTS]).fetchone()[0]
    if not exists or not con.execute(f"SELECT count(*) FROM {_REJECTS}").fetchone()[0]:
        return 0
    # DuckDB's `line` counts records with the header as line 1
    rejects_sql = (f"SELECT line - 1 AS source_row, column_name AS field, "
                   f"CASE WHEN error_type = 'INVALID ENCODING' THEN {sql_string(_INVALID_UTF8)} "
                   f"ELSE lower(error_type) || ': ' || error_message END AS reason, csv_line AS raw_record "
                   f"FROM {_REJECTS}")
    rejected = record_rejects(con, rejects_sql, source_file, batch)
    # row_number() counted only the good rows; shift each past the rejected records before it.
    # With rejected records r_1 < r_2 < ..., good row n sits after r_j exactly when r_j - j < n.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _landing_reject_rows AS
        SELECT r - row_number() OVER (ORDER BY r) AS threshold
        FROM (SELECT DISTINCT line - 1 AS r FROM {_REJECTS})""")
    con.execute(f"""
        UPDATE {table} SET _source_row = _source_row +
            (SELECT count(*) FROM _landing_reject_rows j WHERE j.threshold < {table}._source_row)
        WHERE _batch_id = ? AND _source_file = ?""", [batch.batch_id, source_file])
    con.execute("DROP TABLE _landing_reject_rows")
    return rejected
