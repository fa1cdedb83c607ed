"""A UTF-8 file with a few bad bytes lands as UTF-8 with those rows rejected, and the Data Quality
Report's reject groups say which file and rows (the corpus holds the byte-level cases)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from clinic2zoho.landing import land_export
from clinic2zoho.quality.checks import rejects_by_reason

from .conftest import query, write_generic_export


def test_bad_bytes_in_a_utf8_file_are_listed_in_the_quality_report(tmp_path: Path) -> None:
    content = "id,b\n1,María\n2,José\n".encode() + b"3,Fran\xe7ois\n4,ok\n5,\xff\n"
    export = write_generic_export(tmp_path / "export", {"t.csv": content})
    warehouse = tmp_path / "w.duckdb"
    (load,) = land_export(export, warehouse=warehouse).files
    assert (load.read, load.landed, load.rejected) == (5, 3, 2)
    assert query(warehouse, "SELECT id, b FROM raw.generic__t ORDER BY id") == [("1", "María"), ("2", "José"),
                                                                               ("4", "ok")]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        report = rejects_by_reason(con)
    finally:
        con.close()
    assert report["records"] == 2
    (group,) = report["groups"]
    assert group["source_file"].endswith("t.csv")
    assert (group["reason"], group["records"], group["first_row"]) == ("invalid encoding", 2, 3)
