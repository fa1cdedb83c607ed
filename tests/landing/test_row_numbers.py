"""Source row numbers of good rows in a file with rejects: the shift past the rejected records is
one layer of the landing's query per THRESHOLDS_PER_PASS rejects (landing/row_numbers.py), checked
here against row numbers counted in Python from the file as written."""

from __future__ import annotations

import bisect
import random
from pathlib import Path

import duckdb
import pytest

from clinic2zoho.landing import land_export, row_numbers
from tests.landing.conftest import query, write_generic_export


def test_the_case_tree_counts_values_below_as_bisect_does() -> None:
    rng = random.Random(7)
    con = duckdb.connect()
    for size in (1, 2, 3, 8, 33):
        values = sorted(rng.choices(range(40), k=size))  # with repeats, as consecutive rejects give
        got = con.execute(f"SELECT n, {row_numbers.count_below_sql('n', values)} FROM range(-1, 42) t(n) "
                          "ORDER BY n").fetchall()
        assert got == [(n, bisect.bisect_left(values, n)) for n in range(-1, 42)], values


def _file_with_rejects(records: int, bad: set[int], blank_after: set[int]) -> tuple[bytes, dict[str, int]]:
    """A two-column CSV whose records in `bad` have a third field (rejected), with a blank line after
    the records in `blank_after`; returns it and id -> record number of the good records."""
    lines, good = [b"id,b"], {}
    for n in range(1, records + 1):
        lines.append(b"%d,v%d,extra" % (n, n) if n in bad else b"%d,v%d" % (n, n))
        if n not in bad:
            good[str(n)] = n
        if n in blank_after:
            lines.append(b"")
    return b"\n".join(lines) + b"\n", good


@pytest.mark.parametrize("per_pass", [1, 3, 1024])
def test_good_rows_keep_their_record_numbers_past_many_rejects(per_pass: int, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(row_numbers, "THRESHOLDS_PER_PASS", per_pass)
    rng = random.Random(per_pass)
    bad = set(rng.sample(range(1, 2001), 60)) | {1, 2, 3, 1000, 1001, 2000}  # runs, first and last record
    content, good = _file_with_rejects(2000, bad, blank_after={5, 6, 500, 1500})
    _lands_with_record_numbers(tmp_path, content, 2000, good, bad)


def _lands_with_record_numbers(tmp_path: Path, content: bytes, records: int, good: dict[str, int],
                               bad: set[int]) -> None:
    """Landed, each good row has its record number and each reject its own."""
    export = write_generic_export(tmp_path / "export", {"t.csv": content})
    warehouse = tmp_path / "w.duckdb"
    (load,) = land_export(export, warehouse=warehouse).files
    assert (load.read, load.landed, load.rejected) == (records, len(good), len(bad))
    assert dict(query(warehouse, "SELECT id, _source_row FROM raw.generic__t")) == good
    assert [r for (r,) in query(warehouse, "SELECT source_row FROM raw.raw_rejects ORDER BY 1")] == sorted(bad)


def test_a_key_below_the_blank_prefilter_that_is_not_blank_lands(tmp_path: Path) -> None:
    # the empty-key check first keeps keys sorting below '!'; of those only blank ones are rejects
    export = write_generic_export(tmp_path / "export", {"t.csv": b"id,b\n\x01,a\n ,b\n!,c\n"})
    warehouse = tmp_path / "w.duckdb"
    (load,) = land_export(export, warehouse=warehouse).files
    assert (load.read, load.landed, load.rejected) == (3, 2, 1)
    assert query(warehouse, "SELECT id, _source_row FROM raw.generic__t ORDER BY 2") == [("\x01", 1), ("!", 3)]
    assert query(warehouse, "SELECT source_row, field FROM raw.raw_rejects") == [(2, "id")]


class _Statements:
    """A connection that keeps the SQL it is given."""

    def __init__(self, con: duckdb.DuckDBPyConnection, seen: list[str]) -> None:
        self._con, self._seen = con, seen

    def execute(self, sql: str, *args: object) -> duckdb.DuckDBPyConnection:
        self._seen.append(sql)
        return self._con.execute(sql, *args)

    def __getattr__(self, name: str) -> object:
        return getattr(self._con, name)


def test_a_file_with_rejects_and_empty_keys_is_written_to_its_raw_table_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rejects are known before the rows land, so each row goes in with its record number: no
    UPDATE or DELETE of the raw table afterwards, which would rewrite its columns at the commit."""
    from clinic2zoho.landing import api, store

    seen: list[str] = []
    monkeypatch.setattr(api, "connect", lambda warehouse: _Statements(store.connect(warehouse), seen))
    content = b"id,b\n1,a\n2,b,extra\n ,c\n4,d\n\n5,e,extra\n6,f\n"
    export = write_generic_export(tmp_path / "export", {"t.csv": content})
    warehouse = tmp_path / "w.duckdb"
    (load,) = land_export(export, warehouse=warehouse).files
    assert (load.read, load.landed, load.rejected) == (6, 3, 3)
    assert query(warehouse, "SELECT id, _source_row FROM raw.generic__t ORDER BY 2") == [("1", 1), ("4", 4), ("6", 6)]
    assert query(warehouse, "SELECT source_row FROM raw.raw_rejects ORDER BY 1") == [(2,), (3,), (5,)]
    writes = [sql.split("(")[0].strip() for sql in seen if "raw.generic__t" in sql and not sql.startswith("SELECT")]
    assert writes == ["CREATE TABLE raw.generic__t", "INSERT INTO raw.generic__t"]


@pytest.mark.parametrize(("content", "up_to", "expected"), [
    (b"id\n1\n\n2\n", 6, True), (b"id\n1\n\n2\n", 5, False),  # the pair must end within `up_to` bytes
    (b"id\r\n1\r\n\r\n2\r\n", 9, True), (b"id\r\n1\r\n2\r\n", 99, False), (b"id\r1\r\r2\r", 7, True),
    (b"id\n1\n2\n", 99, False), (b"", 5, False)])
def test_blank_lines_are_looked_for_only_up_to_the_last_reject(content: bytes, up_to: int, expected: bool,
                                                               tmp_path: Path) -> None:
    from clinic2zoho.landing.delimited import _may_hold_blank_lines

    path = tmp_path / "t.csv"
    path.write_bytes(content)
    assert _may_hold_blank_lines(path, up_to) is expected


def test_a_file_read_in_many_buffers_by_several_threads_keeps_each_rows_record_number(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB reads a file of several buffers on several threads (delimited.BUFFER_BYTES): the rows
    are numbered by their place among the rows read, in file order, and the rejects keep their
    lines. Small buffers here make a 2 MB file what a 1M-patient export's largest file is."""
    from clinic2zoho.landing import delimited

    monkeypatch.setattr(delimited, "MAX_LINE_BYTES", 16 << 10)
    monkeypatch.setattr(delimited, "BUFFER_BYTES", 32 << 10)
    rng = random.Random(11)
    bad = set(rng.sample(range(1, 150_001), 200)) | {1, 150_000}
    content, good = _file_with_rejects(150_000, bad, blank_after={10, 70_000})
    assert len(content) > 60 * delimited.BUFFER_BYTES
    _lands_with_record_numbers(tmp_path, content, 150_000, good, bad)
