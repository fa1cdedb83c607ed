"""Bulk Write files: CSV zips streamed and split at Zoho's limits; result zips parsed per row."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime, timedelta, timezone

import pytest

from clinic2zoho.zoho.bulk_files import format_cell, parse_errors, read_result_zip, write_bulk_zips


def read_zip_rows(path):
    with zipfile.ZipFile(path) as zf:
        (name,) = zf.namelist()
        return list(csv.reader(io.StringIO(zf.read(name).decode("utf-8"))))


def test_rows_stream_into_one_zipped_csv_with_api_names_as_header(tmp_path):
    rows = ({"Last_Name": f"N{i}", "Clinic_Patient_Id": f"P{i}", "Account_Name": {"id": "77"}} for i in range(3))
    (bf,) = write_bulk_zips(rows, ["Last_Name", "Clinic_Patient_Id", "Account_Name"], tmp_path)
    assert (bf.first_row, bf.row_count) == (0, 3)
    assert read_zip_rows(bf.path) == [
        ["Last_Name", "Clinic_Patient_Id", "Account_Name"],
        ["N0", "P0", "77"], ["N1", "P1", "77"], ["N2", "P2", "77"],
    ]


def test_files_split_at_the_row_limit_and_remember_their_first_row(tmp_path):
    files = list(write_bulk_zips(({"A": i} for i in range(7)), ["A"], tmp_path, max_rows=3))
    assert [(f.first_row, f.row_count) for f in files] == [(0, 3), (3, 3), (6, 1)]
    assert [r[0] for f in files for r in read_zip_rows(f.path)[1:]] == [str(i) for i in range(7)]


def test_files_split_before_the_byte_limit(tmp_path):
    files = list(write_bulk_zips(({"A": "x" * 40} for i in range(10)), ["A"], tmp_path, max_bytes=100))
    assert sum(f.row_count for f in files) == 10 and all(f.row_count == 2 for f in files)


def test_a_row_larger_than_the_byte_limit_is_refused(tmp_path):
    with pytest.raises(ValueError, match="bulk row 0 alone exceeds"):
        list(write_bulk_zips([{"A": "x" * 500}], ["A"], tmp_path, max_bytes=100))


def test_column_limits_are_checked(tmp_path):
    with pytest.raises(ValueError, match="at most 200 columns"):
        list(write_bulk_zips([], [f"C{i}" for i in range(201)], tmp_path))
    with pytest.raises(ValueError, match="repeat"):
        list(write_bulk_zips([], ["A", "A"], tmp_path))


def test_cells_are_formatted_as_zoho_reads_them():
    tz = timezone(timedelta(hours=5, minutes=30))
    assert format_cell(None) == ""
    assert format_cell(True) == "true"
    assert format_cell(date(2024, 1, 15)) == "2024-01-15"
    assert format_cell(datetime(2024, 1, 15, 15, 26, 49, tzinfo=tz)) == "2024-01-15T15:26:49+05:30"
    assert format_cell(["A", "B"]) == "A;B"
    with pytest.raises(ValueError, match="without a UTC offset"):
        format_cell(datetime(2024, 1, 15, 15, 26, 49))


def test_a_naive_datetime_names_its_row(tmp_path):
    with pytest.raises(ValueError, match="bulk row 1"):
        list(write_bulk_zips([{"A": "ok"}, {"A": datetime(2024, 1, 1)}], ["A"], tmp_path))


def test_errors_cell_parses_into_code_column_pairs():
    assert parse_errors("MANDATORY_NOT_FOUND-Last_Name:DUPLICATE_DATA-Email") == (
        ("MANDATORY_NOT_FOUND", "Last_Name"), ("DUPLICATE_DATA", "Email"))
    assert parse_errors("") == ()
    assert parse_errors("LIMIT_EXCEEDED") == (("LIMIT_EXCEEDED", None),)


def test_result_zip_is_read_row_by_row(tmp_path):
    path = tmp_path / "result.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("r.csv", "Last_Name,Clinic_Patient_Id,STATUS,RECORD_ID,ERRORS\r\n"
                             "A,P1,ADDED,111,\r\n,P2,Skipped,,MANDATORY_NOT_FOUND-Last_Name\r\n")
    rows = list(read_result_zip(path, first_row=10, key_column="Clinic_Patient_Id"))
    assert [(r.row, r.status, r.record_id, r.key, r.ok) for r in rows] == [
        (10, "added", "111", "P1", True), (11, "skipped", None, "P2", False)]
    assert rows[1].errors == (("MANDATORY_NOT_FOUND", "Last_Name"),)


def test_a_result_without_the_status_columns_is_refused(tmp_path):
    path = tmp_path / "bad.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("r.csv", "A,B\r\n1,2\r\n")
    with pytest.raises(ValueError, match="lacks column"):
        list(read_result_zip(path))
