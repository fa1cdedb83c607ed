"""Land one delimited file (Synthea or generic CSV) into its raw table with DuckDB's reader.

DuckDB parses the file (parallel, streaming); rows it cannot parse (too many or too few fields,
invalid UTF-8, unterminated quotes, over-long records) go to its rejects table, from which they are
copied to raw.raw_rejects with row, field and reason."""

from __future__ import annotations

import mmap
import os
import re
import tempfile
from dataclasses import replace
from pathlib import Path

import duckdb

from .errors import LandingError
from .lines import blank_records, first_change_of_ending, rewrite_record_ends
from .names import quote_ident, sql_string
from .result import FileLoad
from .row_numbers import shifted_sql, thresholds
from .sniff import CsvShape, transcode_to_utf8
from .store import Batch, land_relation, record_file_load, record_rejects
from .utf8 import file_has_multibyte

MAX_LINE_BYTES = 64 << 20  # a record (not a field limit): long rich-text notes fit easily
# DuckDB's reader buffer: by default 16 record limits (1 GiB), so a file of up to 1 GiB was one
# buffer, read by one thread. Twice the limit keeps a record within a buffer and lets both cores
# read (bench/land.py).
BUFFER_BYTES = 2 * MAX_LINE_BYTES
_READ = "_landing_read"  # the file's rows as read, in file order (read_numbered numbers them)
_REJECTS = "_landing_csv_rejects"
_REJECT_SCANS = "_landing_csv_reject_scans"


def read_csv_sql(path: Path, shape: CsvShape) -> str:
    columns = "{" + ", ".join(f"{sql_string(c)}: 'VARCHAR'" for c in shape.columns) + "}"
    # One column: a blank line reads as a NULL row, so `""` must read as '' to stay apart from it
    quoted_nulls = "false" if len(shape.columns) == 1 else "true"
    return (
        f"read_csv({sql_string(str(path))}, header = true, columns = {columns}, auto_detect = false, "
        f"delim = {sql_string(shape.delimiter)}, quote = '\"', escape = '\"', strict_mode = true, "
        f"null_padding = false, allow_quoted_nulls = {quoted_nulls}, max_line_size = {MAX_LINE_BYTES}, "
        f"buffer_size = {BUFFER_BYTES}, "
        f"store_rejects = true, rejects_table = '{_REJECTS}', rejects_scan = '{_REJECT_SCANS}')"
    )


def read_sql(path: Path, shape: CsvShape) -> str:
    """The content columns of the rows DuckDB reads, in file order."""
    if len(shape.columns) == 1:
        # a blank line is not a record (DuckDB skips it only when there are several columns)
        column = quote_ident(shape.columns[0])
        return (f"SELECT nullif({column}, '') AS {column} "
                f"FROM {read_csv_sql(path, shape)} WHERE {column} IS NOT NULL")
    cols = ", ".join(quote_ident(c) for c in shape.columns)
    return f"SELECT {cols} FROM {read_csv_sql(path, shape)}"


def read_numbered(con: duckdb.DuckDBPyConnection, path: Path, shape: CsvShape) -> str:
    """Read the file into `_READ`; SQL for its content columns plus `_rn`, the record's number
    among the rows DuckDB read. The rows are numbered by their place in `_READ` (its rowid, dense
    and in file order: the connection preserves insertion order), not by `row_number() OVER ()`
    in the read: that window runs on one thread, and with it the whole read. The first rowid is
    read, not assumed 0: a table created inside a transaction (landing's) numbers from 2^55."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_READ} AS {read_sql(path, shape)}")
    first = con.execute(f"SELECT min(rowid) FROM {_READ}").fetchone()[0] or 0
    return f"SELECT *, rowid - {int(first)} + 1 AS _rn FROM {_READ}"


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


def _empty_key_sql(key: str) -> str:
    # `< '!'`: a key that is empty or only blanks sorts below '!' (0x21); that comparison alone
    # settles almost every row, so the trim runs only on the few keys below it
    column = quote_ident(key)
    return f"(({column} IS NULL OR {column} < '!') AND coalesce(trim({column}, ' \t\r\n') = '', true))"


def _reject_empty_keys(con: duckdb.DuckDBPyConnection, numbered_sql: str, key: str, shape: CsvShape,
                       batch: Batch) -> int:
    """A row whose record key is empty (or only spaces) cannot be told apart from the other rows
    without one - staging keeps one row per key - so it is a reject, not a landed row. The raw
    record is the row written back as a CSV line. `numbered_sql`: the file's rows as read."""
    empty = f"SELECT * FROM ({numbered_sql}) WHERE {_empty_key_sql(key)}"
    if not con.execute(f"SELECT count(*) FROM ({empty})").fetchone()[0]:
        return 0
    needs_quotes = sql_string('["' + shape.delimiter + '\r\n]')
    fields = [f"CASE WHEN {quote_ident(c)} IS NULL THEN '' WHEN regexp_matches({quote_ident(c)}, {needs_quotes}) "
              f"THEN '\"' || replace({quote_ident(c)}, '\"', '\"\"') || '\"' ELSE {quote_ident(c)} END"
              for c in shape.columns]
    record = f" || {sql_string(shape.delimiter)} || ".join(fields)
    record = f"CASE WHEN {record} = '' THEN '\"\"' ELSE {record} END"  # a one-column `""` row
    header_key = shape.header[shape.columns.index(key)] if key in shape.columns else key
    reason = f"the record key {header_key.strip()!r} is empty: the record cannot be identified"
    return record_rejects(
        con, f"SELECT _rn AS source_row, {sql_string(key)} AS field, {sql_string(reason)} AS reason, "
             f"{record} AS raw_record FROM ({empty})", str(shape.path), batch)


def _land_once(con: duckdb.DuckDBPyConnection, shape: CsvShape, table: str, batch: Batch,
               workdir: Path, key: str | None) -> tuple[int, int, int, int]:
    source_file = str(shape.path)
    read_path = shape.path
    if shape.needs_transcoding:
        read_path = transcode_to_utf8(shape, Path(tempfile.mkstemp(suffix=".csv", dir=workdir)[1]))
    if shape.needs_rewriting:
        rewritten = rewrite_record_ends(read_path, Path(tempfile.mkstemp(suffix=".csv", dir=workdir)[1]),
                                        shape.delimiter)
        if read_path != shape.path:
            read_path.unlink(missing_ok=True)
        read_path = rewritten
    con.execute(f"DROP TABLE IF EXISTS {_REJECTS}; DROP TABLE IF EXISTS {_REJECT_SCANS}")
    try:
        numbered = read_numbered(con, read_path, shape)
        # rejects first: the rows land numbered in the file, and nothing is written to the raw
        # table twice (an UPDATE or DELETE there rewrites its column segments at the commit)
        rejected, row_thresholds = _collect_rejects(con, source_file, batch, read_path, shape.delimiter)
        numbered = shifted_sql(numbered, row_thresholds)
        if key is not None and (keyless := _reject_empty_keys(con, numbered, key, shape, batch)):
            rejected += keyless
            numbered = f"SELECT * FROM ({numbered}) WHERE NOT {_empty_key_sql(key)}"
        good, landed, unchanged = land_relation(con, table, shape.columns, numbered, source_file, batch, key)
        con.execute(f"DROP TABLE {_READ}")
    except duckdb.InvalidInputException as exc:
        raise _unreadable(shape, read_path, exc) from None
    finally:
        if read_path != shape.path:
            read_path.unlink(missing_ok=True)
    return good, landed, unchanged, rejected


def _unreadable(shape: CsvShape, read_path: Path, exc: duckdb.Error) -> LandingError:
    """DuckDB's reader gave up on the whole file. Its message may quote a record, so it is not
    passed on; the error says what was found wrong instead."""
    change = first_change_of_ending(read_path, shape.delimiter)
    if change:
        row, before, after = change
        return LandingError(f"line endings are mixed: records end in {before}, then in {after} from this record "
                            "on; save the file again with one kind of line ending", file=shape.path, row=row - 1)
    kind = type(exc).__name__.removesuffix("Exception")
    return LandingError(f"the CSV reader could not parse the file ({kind} error); check its quoting and line "
                        "endings", file=shape.path)


def _encoding_rejects(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute(f"SELECT count(*) FROM {_REJECTS} WHERE error_type LIKE 'INVALID %'").fetchone()[0] > 0


# DuckDB says "This file is not utf-8 encoded"; the file is read as UTF-8 on purpose (utf8.py)
_INVALID_UTF8 = ("invalid encoding: the row holds bytes that are not UTF-8, in a file read as UTF-8 (it has a "
                 "UTF-8 BOM or UTF-8 characters elsewhere); fix the row's bytes or export the file as UTF-8 again")


def _collect_rejects(con: duckdb.DuckDBPyConnection, source_file: str, batch: Batch, read_path: Path,
                     delimiter: str) -> tuple[int, list[int]]:
    """Record the reader's rejects; return how many records they are, and the thresholds that
    shift the good rows' numbers past them (row_numbers.thresholds)."""
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND temporary",
                         [_REJECTS]).fetchone()[0]
    if not exists or not con.execute(f"SELECT count(*) FROM {_REJECTS}").fetchone()[0]:
        return 0, []
    _skip_blank_lines(con, read_path, delimiter)
    # DuckDB's `line` counts records with the header as line 1
    rejects_sql = (f"SELECT line - 1 AS source_row, column_name AS field, "
                   f"CASE WHEN error_type = 'INVALID ENCODING' THEN {sql_string(_INVALID_UTF8)} "
                   f"ELSE lower(error_type) || ': ' || error_message END AS reason, csv_line AS raw_record "
                   f"FROM {_REJECTS}")
    rejected = record_rejects(con, rejects_sql, source_file, batch)
    # the reader numbered only the good rows; each shifts past the rejected records before it
    rejected_records = [r for (r,) in con.execute(f"SELECT DISTINCT line - 1 FROM {_REJECTS}").fetchall()]
    return rejected, thresholds(rejected_records)


_BLANK_LINE = tuple(re.compile(re.escape(two)) for two in (b"\n\n", b"\n\r\n", b"\r\r"))  # two breaks in a row


def _skip_blank_lines(con: duckdb.DuckDBPyConnection, read_path: Path, delimiter: str) -> None:
    """DuckDB's reject `line` counts blank lines, which are not records: take the blank lines
    before each reject out of its number. Only the bytes up to the last reject are looked at, and
    only when they hold two line breaks in a row is the file scanned record by record."""
    last_line, last_byte = con.execute(f"SELECT max(line), max(line_byte_position) FROM {_REJECTS}").fetchone()
    if not _may_hold_blank_lines(read_path, last_byte + 2):
        return
    blanks = blank_records(read_path, delimiter, last_line)
    if blanks:
        con.execute("CREATE OR REPLACE TEMP TABLE _landing_blank_lines (line UBIGINT)")
        con.executemany("INSERT INTO _landing_blank_lines VALUES (?)", [[b] for b in blanks])
        con.execute(f"UPDATE {_REJECTS} SET line = line - "
                    f"(SELECT count(*) FROM _landing_blank_lines b WHERE b.line < {_REJECTS}.line)")
        con.execute("DROP TABLE _landing_blank_lines")


def _may_hold_blank_lines(path: Path, up_to: int) -> bool:
    """Whether two line breaks in a row occur in the first `up_to` bytes. The file is mapped, not
    copied, and searched with literal regular expressions, which run several times faster than
    bytes.find on text with a line break every hundred bytes or so."""
    with path.open("rb") as handle:
        end = min(up_to, os.fstat(handle.fileno()).st_size)
        if end <= 0:
            return False
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            # without a CR only LF LF can make a blank line
            patterns = _BLANK_LINE if data.find(b"\r", 0, end) >= 0 else _BLANK_LINE[:1]
            return any(pattern.search(data, 0, end) for pattern in patterns)
