"""Source row numbers of the good rows of a file that also had rejected records.

The landing numbers only the rows DuckDB's reader returns (their place among them,
delimited.read_numbered); its rejects come out after the scan, with their record numbers. A good
row's number in the file is its number among the good rows plus the rejected records before it.
With rejected records r_1 < r_2 < ..., good row n sits after r_j exactly when r_j - j < n (the
threshold of r_j), so its shift is how many thresholds are below n.

That count is written as a binary search unrolled into nested CASE expressions over the sorted
thresholds: a handful of comparisons per row, in the query that lands the rows (shifted_sql) or in
one UPDATE of the rows past the first threshold. A join of every row against the thresholds (or a
correlated count) costs several times the scan of the file itself."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

# Thresholds per UPDATE: the CASE tree's size grows with them (its depth only with their log), and
# DuckDB binds a tree of ~1,000 leaves in milliseconds. More rejects than this take several passes.
THRESHOLDS_PER_PASS = 1024


def thresholds(rejected_records: Sequence[int]) -> list[int]:
    """r_j - j for the distinct rejected record numbers r_1 < r_2 < ... (non-decreasing)."""
    return [r - j for j, r in enumerate(sorted(set(rejected_records)), start=1)]


def count_below_sql(column: str, sorted_values: Sequence[int], lo: int = 0, hi: int | None = None) -> str:
    """SQL for how many of `sorted_values` are below `column`, searching only [lo, hi): every value
    before lo is known to be below it and none from hi on."""
    hi = len(sorted_values) if hi is None else hi
    if lo >= hi:
        return str(lo)
    mid = (lo + hi) // 2
    return (f"CASE WHEN {column} > {int(sorted_values[mid])} THEN {count_below_sql(column, sorted_values, mid + 1, hi)} "
            f"ELSE {count_below_sql(column, sorted_values, lo, mid)} END")


def passes(row_thresholds: Sequence[int]) -> list[list[int]]:
    """The sorted thresholds in parts of THRESHOLDS_PER_PASS, the highest part first: a row shifted
    by a higher pass was already above every lower threshold, and stays above them, so each pass
    counts against the row's value as it stands."""
    ordered = sorted(row_thresholds)
    return [ordered[max(0, end - THRESHOLDS_PER_PASS):end] for end in range(len(ordered), 0, -THRESHOLDS_PER_PASS)]


def shifted_sql(select_sql: str, row_thresholds: Sequence[int], column: str = "_rn") -> str:
    """`select_sql` with `column` (the row number among the good rows) shifted past the rejected
    records before it: the passes as layers of one query (the innermost the first pass), so the
    rows are numbered as they are read and no table is updated afterwards."""
    for part in passes(row_thresholds):
        select_sql = (f"SELECT * REPLACE ({column} + {count_below_sql(column, part)} AS {column}) "
                      f"FROM ({select_sql})")
    return select_sql


def shift_source_rows(con: duckdb.DuckDBPyConnection, table: str, where: str, row_thresholds: Sequence[int],
                      column: str = "_source_row") -> None:
    """Add to `column` (the row number) of the rows matching `where` how many of `row_thresholds`
    are below it: one UPDATE per pass."""
    for part in passes(row_thresholds):
        con.execute(f"UPDATE {table} SET {column} = {column} + {count_below_sql(column, part)} "
                    f"WHERE {column} > {int(part[0])} AND {where}")
