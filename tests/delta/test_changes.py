"""Change detection on an export folder and the row watermark over real landings."""

from __future__ import annotations

import csv
import os
from datetime import timedelta

import duckdb
import pytest

from clinic2zoho.delta.changes import detect_changes, scan_source, watched_files
from clinic2zoho.delta.watermark import batches_past, latest_batch_at, rows_past_watermark
from clinic2zoho.landing import land_export


def _write(path, text, mtime_ns=None):
    path.write_text(text, encoding="utf-8")
    if mtime_ns is not None:
        os.utime(path, ns=(mtime_ns, mtime_ns))


@pytest.fixture
def export(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    _write(folder / "patients.csv", "patient_id,phone\nPT1,555 0100\n")
    _write(folder / "appointments.csv", "appointment_id,patient_id\nAP1,PT1\n")
    (folder / "files").mkdir()
    (folder / "files" / "DOC1.pdf").write_bytes(b"%PDF")
    _write(folder / ".hidden.csv", "x\n")
    return folder


def test_only_top_level_data_files_are_watched(export):
    assert [p.name for p in watched_files(export)] == ["appointments.csv", "patients.csv"]
    with pytest.raises(FileNotFoundError, match="export folder not found"):
        watched_files(export / "missing")


def test_nothing_changed_reads_no_file_and_reports_nothing(export, monkeypatch):
    recorded = scan_source(export)
    import clinic2zoho.delta.changes as changes

    def no_read(path):
        raise AssertionError(f"{path} read although its size and mtime are as recorded")

    monkeypatch.setattr(changes, "file_sha256", no_read)
    found = detect_changes(export, recorded)
    assert not found.any and found.summary() == {"new": [], "changed": [], "removed": []}
    assert found.current == recorded


def test_a_changed_row_a_new_file_and_a_removed_file_are_told_apart(export):
    recorded = scan_source(export)
    _write(export / "patients.csv", "patient_id,phone\nPT1,555 0199\n")  # same size, new bytes
    _write(export / "treatments.csv", "treatment_id\nTR1\n")
    (export / "appointments.csv").unlink()
    found = detect_changes(export, recorded)
    assert found.any
    assert found.summary() == {"new": ["treatments.csv"], "changed": ["patients.csv"], "removed": ["appointments.csv"]}
    assert found.files() == ["patients.csv", "treatments.csv"]
    assert found.current["patients.csv"].sha256 != recorded["patients.csv"].sha256


def test_a_touched_file_with_the_same_bytes_is_no_change(export):
    recorded = scan_source(export)
    st = (export / "patients.csv").stat()
    os.utime(export / "patients.csv", ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    found = detect_changes(export, recorded)
    assert not found.any
    # the new mtime is recorded, so the next look does not hash the file again
    assert found.current["patients.csv"].mtime_ns == st.st_mtime_ns + 5_000_000_000


def test_only_removed_files_are_no_delta(export):
    recorded = scan_source(export)
    (export / "appointments.csv").unlink()
    found = detect_changes(export, recorded)
    assert found.removed == ("appointments.csv",) and not found.any


def _generic_export(folder):
    from clinic2zoho.generator import generate_export

    generate_export(folder, 3, seed=1, with_files=False, defects=False)
    return folder / "export"


def test_rows_landed_past_the_watermark_are_counted_per_raw_table(tmp_path):
    export = _generic_export(tmp_path / "gen")
    warehouse = tmp_path / "wh.duckdb"
    first = land_export(export, "generic", warehouse)
    with duckdb.connect(str(warehouse)) as con:
        watermark = latest_batch_at(con)
        assert watermark is not None
        assert rows_past_watermark(con, watermark) == 0
        everything = batches_past(con, None)
        assert [b.batch_id for b in everything] == [first.batch_id]
        assert everything[0].rows_landed == first.totals()["landed"]
        assert rows_past_watermark(con, watermark - timedelta(days=1)) == first.totals()["landed"]

    land_export(export, "generic", warehouse)  # unchanged: a batch, but no row past the watermark
    with duckdb.connect(str(warehouse)) as con:
        assert rows_past_watermark(con, watermark) == 0
        assert len(batches_past(con, watermark)) == 1

    with open(export / "patients.csv", newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields, rows = reader.fieldnames, list(reader)
    rows[0]["city"] = "Springfield" if rows[0]["city"] != "Springfield" else "Salem"
    with open(export / "patients.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    land_export(export, "generic", warehouse)
    with duckdb.connect(str(warehouse)) as con:
        past = batches_past(con, watermark)
        assert rows_past_watermark(con, watermark) == 1
        assert past[-1].tables == ("raw.generic__patients",)


def test_an_empty_warehouse_has_no_watermark(tmp_path):
    with duckdb.connect(str(tmp_path / "empty.duckdb")) as con:
        assert latest_batch_at(con) is None
        assert batches_past(con, None) == [] and rows_past_watermark(con, None) == 0
