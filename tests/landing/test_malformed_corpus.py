"""The malformed-input corpus: every case is built here in tmp_path, and each one either lands
with the right values, is rejected row by row with a reason, or fails with a clear error naming
file (and row/field) — and row conservation holds wherever rows were read."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from clinic2zoho.landing import LandingError, land_export

from .conftest import query, write_generic_export


@dataclass
class Case:
    content: bytes
    read: int | None = None  # None: a fatal error is expected
    rejected: int = 0
    values: dict[str, str | None] = field(default_factory=dict)  # id -> expected value of column b
    reasons: list[str] = field(default_factory=list)  # substrings of the reject reasons, by row
    reject_rows: list[int] = field(default_factory=list)
    reject_fields: list[str | None] | None = None
    error: str = ""
    error_row: int | None = None  # the row and field the error names, when it names them
    error_field: str | None = None
    columns: list[str] | None = None  # the raw table's content columns, when the case is about them
    ids_are_rows: bool = True  # each landed id is its record number


HUGE = "x" * (5 << 20)
_ASCII_ROWS = b"".join(b"%d,plain ascii row padding the sample\n" % i for i in range(2, 40001))
# UTF-8 (row 1 holds a UTF-8 character) with one stray cp1252 byte beyond the sniffed sample
LATE_BAD_UTF8 = "id,b\n1,Zoë\n".encode() + _ASCII_ROWS + b"40001,caf\xe9\n40002,ok\n"
# a cp1252 file whose first non-ASCII byte comes after the sniffed sample
LATE_CP1252 = b"id,b\n1,plain\n" + _ASCII_ROWS + "40001,café – 5€\n".encode("cp1252")



def _xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as book:
        book.writestr("[Content_Types].xml", "<Types/>")
        book.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


XLSX = _xlsx()

CASES: dict[str, Case] = {
    "utf8_bom": Case("\ufeffid,b\n1,Zoë\n".encode("utf-8"), read=1, values={"1": "Zoë"}),
    "cp1252_text_is_transcoded": Case("id,b\n1,Zoë “café” – 5€\n".encode("cp1252"), read=1,
                                      values={"1": "Zoë “café” – 5€"}),
    "latin1_undefined_cp1252_byte_kept": Case(b"id,b\n1,caf\xe9\x81\n", read=1, values={"1": "café\x81"}),
    "invalid_utf8_after_the_sample_is_rejected": Case(
        LATE_BAD_UTF8, read=40002, rejected=1, values={"1": "Zoë", "40002": "ok"}, reasons=["invalid encoding"],
        reject_rows=[40001]),
    "cp1252_after_the_sample_is_transcoded": Case(LATE_CP1252, read=40001, values={"40001": "café – 5€"}),
    # a bad byte within the sniffed sample: the file still reads as UTF-8 (it holds UTF-8 characters),
    # only the rows with bad bytes are rejected - never the whole file decoded as cp1252 and garbled
    "invalid_utf8_in_the_sample_rejects_only_that_row": Case(
        "id,b\n1,María\n".encode() + b"2,caf\xe9\n3,Zo\xc3\xab ok\n", read=3, rejected=1,
        values={"1": "María", "3": "Zoë ok"}, reasons=["invalid encoding: the row holds bytes that are not UTF-8"],
        reject_rows=[2], reject_fields=["b"]),
    "invalid_utf8_before_the_first_utf8_character": Case(
        b"id,b\n1,caf\xe9\n2,ok\n3,Mar\xc3\xada\n", read=3, rejected=1, values={"2": "ok", "3": "María"},
        reasons=["invalid encoding"], reject_rows=[1]),
    "utf8_characters_only_after_the_sample_keep_the_file_utf8": Case(
        b"id,b\n1,caf\xe9\n" + _ASCII_ROWS + "40001,Zoë\n".encode(), read=40001, rejected=1,
        values={"2": "plain ascii row padding the sample", "40001": "Zoë"}, reasons=["invalid encoding"],
        reject_rows=[1]),
    # cp1252 byte pairs that look like UTF-8 lead + continuation bytes but are no well-formed sequence
    "cp1252_with_utf8_lookalike_pairs_stays_cp1252": Case(
        "id,b\n1,café’s naïve à€ ô…\n".encode("cp1252"), read=1, values={"1": "café’s naïve à€ ô…"}),
    "too_many_fields": Case(b"id,b\n1,a\n2,b,extra\n3,c\n", read=3, rejected=1, values={"1": "a", "3": "c"},
                            reasons=["too many columns"], reject_rows=[2]),
    "too_few_fields": Case(b"id,b,c\n1,a,x\n2\n3,c,z\n", read=3, rejected=1, values={"3": "c"},
                           reasons=["missing columns"], reject_rows=[2], reject_fields=["b", "c"]),
    "quoted_newlines": Case(b'id,b\n1,"line one\nline two"\n2,"a ""quoted"" word"\n', read=2,
                            values={"1": "line one\nline two", "2": 'a "quoted" word'}),
    "crlf_line_endings": Case(b"id,b\r\n1,a\r\n2,b\r\n", read=2, values={"1": "a", "2": "b"}),
    "blank_lines_are_not_records": Case(b"id,b\n1,a\n\n2,b\n", read=2, values={"2": "b"}),
    "empty_file": Case(b"", error="empty"),
    "whitespace_only_file": Case(b"\n\n  \n", error="empty"),
    "header_only": Case(b"id,b\n", read=0),
    "header_only_without_newline": Case(b"id,b", read=0),
    "duplicate_header": Case(b"id,b,B\n1,a,b\n", error="duplicate column", error_row=0, error_field="B"),
    "missing_key_column": Case(b"identifier,b\n1,a\n", error="required column", error_field="id"),
    "unparseable_dates_kept_as_text": Case(b"id,b\n1,2024-13-45\n2,13/07/1982\n3,yesterday\n", read=3,
                                           values={"1": "2024-13-45", "2": "13/07/1982", "3": "yesterday"}),
    "huge_field": Case(f"id,b\n1,{HUGE}\n2,small\n".encode(), read=2, values={"1": HUGE, "2": "small"}),
    "nul_bytes_kept": Case(b"id,b\n1,before\x00after\n", read=1, values={"1": "before\x00after"}),
    "formula_text_kept_plain": Case(b'id,b\n1,"=HYPERLINK(""http://x.example"",""click"")"\n2,+1-2\n3,@SUM(A1)\n',
                                    read=3, values={"1": '=HYPERLINK("http://x.example","click")', "2": "+1-2",
                                                    "3": "@SUM(A1)"}),
    "semicolon_delimiter": Case(b"id;b\n1;a,with comma\n", read=1, values={"1": "a,with comma"}),
    "tab_delimiter": Case(b"id\tb\n1\ta;b\n", read=1, values={"1": "a;b"}),
    "pipe_delimiter": Case(b"id|b\n1|a\n", read=1, values={"1": "a"}),
    "empty_strings_become_null": Case(b'id,b\n1,\n2,""\n', read=2, values={"1": None, "2": None}),
    "unterminated_quote_is_one_reject": Case(b'id,b\n1,ok\n2,"never closed\n3,c\n', read=2, rejected=1,
                                             values={"1": "ok"}, reasons=["unterminated quote"], reject_rows=[2]),
    # --- encodings ---
    "utf16_le_with_bom": Case("id,b\n1,Zoë\n".encode("utf-16-le").join([b"\xff\xfe", b""]), read=1,
                              values={"1": "Zoë"}),
    "utf16_be_with_bom": Case(b"\xfe\xff" + "id,b\n1,Zoë\n".encode("utf-16-be"), read=1, values={"1": "Zoë"}),
    "utf16_le_without_bom": Case("id,b\n1,Zoë\n2,Łódź\n".encode("utf-16-le"), read=2,
                                 values={"1": "Zoë", "2": "Łódź"}),
    "utf16_be_without_bom": Case("id,b\n1,Zoë\n".encode("utf-16-be"), read=1, values={"1": "Zoë"}),
    # a BOM says UTF-8: a cp1252 byte after it is that row's reject, the rest lands as UTF-8
    "utf8_bom_with_a_cp1252_byte": Case(b"\xef\xbb\xbfid,b\n1,caf\xe9\n2,Zo\xc3\xab\n", read=2, rejected=1,
                                        values={"2": "Zoë"}, reasons=["invalid encoding"], reject_rows=[1]),
    # --- line endings ---
    "cr_only_line_endings": Case(b"id,b\r1,a\r2,b\r", read=2, values={"1": "a", "2": "b"}),
    "cr_only_with_a_line_break_in_a_quoted_field": Case(b'id,b\r1,"x\ry"\r2,b\r', read=2,
                                                        values={"1": "x\ry", "2": "b"}),
    "crlf_and_lf_mixed": Case(b"id,b\r\n1,a\n2,b\r\n3,c\n", read=3, values={"1": "a", "2": "b", "3": "c"}),
    "lf_then_cr_mixed": Case(b"id,b\n1,a\r2,b\n", read=2, values={"1": "a", "2": "b"}),
    "mixed_endings_keep_breaks_inside_quotes": Case(b'id,b\r\n1,"x\r\ny"\n2,"p\nq"\r\n3,c\n', read=3,
                                                    values={"1": "x\r\ny", "2": "p\nq", "3": "c"}),
    "lone_cr_inside_a_quoted_field": Case(b'id,b\n1,"a\rb"\n2,c\n', read=2, values={"1": "a\rb", "2": "c"}),
    "crlf_file_with_lf_inside_quotes": Case(b'id,b\r\n1,"a\nb"\r\n2,c\r\n', read=2, values={"1": "a\nb"}),
    "blank_line_in_a_one_column_file": Case(b"id\n1\n\n2\n\n\n3\n", read=3, columns=["id"]),
    "quoted_empty_row_in_a_one_column_file_is_a_reject": Case(
        b'id\n1\n""\n3\n', read=3, rejected=1, reasons=["record key 'id' is empty"], reject_rows=[2],
        reject_fields=["id"]),
    "blank_lines_before_a_reject_keep_its_row": Case(b"id,b\n1,a\n\n\n2,b,extra\n3,c\n", read=3, rejected=1,
                                                     values={"3": "c"}, reasons=["too many columns"],
                                                     reject_rows=[2]),
    "blank_crlf_lines_before_a_reject_keep_its_row": Case(
        b'id,b\r\n\r\n1,"p\r\n\r\nq"\r\n\r\n2\r\n3,c\r\n', read=3, rejected=1,
        values={"1": "p\r\n\r\nq", "3": "c"}, reasons=["missing columns"], reject_rows=[2]),
    "whitespace_only_line_is_a_reject": Case(b"id,b\n1,a\n   \n3,c\n", read=3, rejected=1,
                                             reasons=["missing columns"], reject_rows=[2]),
    # --- delimiters ---
    "semicolon_with_quoted_commas_and_semicolons": Case(b'id;b\n1;"a;b, c"\n2;d,e\n', read=2,
                                                        values={"1": "a;b, c", "2": "d,e"}),
    "a_row_with_another_delimiter_is_a_reject": Case(b"id,b\n1;a\n2,b\n", read=2, rejected=1, values={"2": "b"},
                                                      reasons=["missing columns"], reject_rows=[1],
                                                      reject_fields=["b"]),
    "tab_with_a_quoted_tab": Case(b'id\tb\n1\t"a\tb"\n', read=1, values={"1": "a\tb"}),
    "excel_sep_hint_line": Case(b"sep=;\nid;b\n1;a\n", error="delimiter hint", error_row=0),
    # --- quoting ---
    "stray_quote_inside_an_unquoted_field_is_text": Case(b'id,b\n1,ab"c\n2,5" tall\n', read=2,
                                                         values={"1": 'ab"c', "2": '5" tall'}),
    "backslash_escaped_quote_is_a_reject": Case(b'id,b\n1,"a\\"b"\n2,c\n', read=2, rejected=1,
                                                values={"2": "c"}, reasons=["unquoted value"], reject_rows=[1]),
    "text_after_a_closing_quote_is_a_reject": Case(b'id,b\n1,"a"b\n2,c\n', read=2, rejected=1, values={"2": "c"},
                                                   reasons=["unquoted value"], reject_rows=[1]),
    "quote_at_end_of_file_is_a_reject": Case(b'id,b\n1,a\n2,"', read=2, rejected=1, values={"1": "a"},
                                             reasons=["unterminated quote"], reject_rows=[2]),
    "space_before_an_opening_quote": Case(b'id,b\n1, "a,b"\n', read=1, values={"1": "a,b"}),
    # --- headers ---
    "blank_header_name_gets_a_generated_name": Case(b"id,,b\n1,x,y\n", read=1, values={"1": "y"},
                                                    columns=["id", "column_2", "b"]),
    "whitespace_padded_header_names": Case(b" id ,  b \n1,a\n", read=1, values={"1": "a"}, columns=["id", "b"]),
    "bom_only_file": Case(b"\xef\xbb\xbf", error="empty"),
    "bom_then_a_blank_first_line": Case(b"\xef\xbb\xbf\nid,b\n1,a\n", error="first line is blank", error_row=0),
    "header_of_only_delimiters": Case(b",,,\n1,2,3,4\n", error="no column names", error_row=0),
    "header_names_differing_only_in_case": Case(b"id,Name,name\n1,a,b\n", error="duplicate column",
                                                error_row=0, error_field="name"),
    "header_names_differing_only_in_spacing": Case(b"id,first name,first_name\n1,a,b\n",
                                                   error="duplicate column", error_row=0, error_field="first_name"),
    "very_many_columns": Case(("id,b," + ",".join(f"c{i}" for i in range(1000)) + "\n1,x," +
                               ",".join(str(i) for i in range(1000)) + "\n").encode(), read=1, values={"1": "x"}),
    "non_ascii_header_names": Case("id,b,Prénom,名前\n1,a,c,d\n".encode(), read=1, values={"1": "a"},
                                   columns=["id", "b", "pr_nom", "column_4"]),
    "nul_in_a_header_name": Case(b"id,b\x00c\n1,a\n", error="control character", error_row=0,
                                 error_field="column 2"),
    "line_break_in_a_quoted_header_name": Case(b'id,"b\nc"\n1,a\n', error="control character", error_row=0,
                                               error_field="column 2"),
    # --- rows ---
    "trailing_delimiter_on_every_line": Case(b"id,b,\n1,a,\n", read=1, values={"1": "a"},
                                             columns=["id", "b", "column_3"]),
    "trailing_delimiter_on_the_rows_only": Case(b"id,b\n1,a,\n2,b\n", read=2, values={"1": "a", "2": "b"}),
    "row_of_only_delimiters_is_a_reject": Case(b"id,b\n,\n2,b\n", read=2, rejected=1, values={"2": "b"},
                                               reasons=["record key 'id' is empty"], reject_rows=[1]),
    "control_characters_in_values_kept": Case(b"id,b\n1,a\x07\x1bb\x7f\n", read=1, values={"1": "a\x07\x1bb\x7f"}),
    "ten_thousand_tiny_rows": Case(b"id,b\n" + b"".join(b"%d,\n" % i for i in range(1, 10001)), read=10000,
                                   values={"10000": None}),
    "final_line_without_a_newline": Case(b"id,b\n1,a\n2,b", read=2, values={"2": "b"}),
    "final_line_cut_inside_a_quoted_field": Case(b'id,b\n1,a\n2,"cut he', read=2, rejected=1, values={"1": "a"},
                                                 reasons=["unterminated quote"], reject_rows=[2]),
    # --- keys ---
    "empty_key_is_a_reject": Case(b"id,b\n,a\n2,b\n", read=2, rejected=1, values={"2": "b"},
                                  reasons=["record key 'id' is empty"], reject_rows=[1], reject_fields=["id"]),
    "whitespace_key_is_a_reject": Case(b'id,b\n  ,a\n" \t",b\n3,c\n', read=3, rejected=2, values={"3": "c"},
                                       reasons=["record key 'id' is empty"] * 2, reject_rows=[1, 2]),
    "duplicate_keys_in_a_file_all_land": Case(b"id,b\n1,a\n1,b\n", read=2, ids_are_rows=False),
    "key_with_padding_is_kept_as_written": Case(b"id,b\n 1 ,a\n", read=1, values={" 1 ": "a"}),
    # --- not CSV text at all ---
    "gzip_file_named_csv": Case(gzip.compress(b"id,b\n1,a\n"), error="gzip-compressed"),
    "xlsx_workbook_named_csv": Case(XLSX, error="zip archive"),
    "xls_workbook_named_csv": Case(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), error="Excel .xls"),
    "pdf_named_csv": Case(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", error="PDF"),
    "binary_file_named_csv": Case(bytes(range(256)) * 4, error="control character", error_row=0,
                                  error_field="column 1"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_malformed_csv_case(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    export = write_generic_export(tmp_path / "export", {"t.csv": case.content})
    warehouse = tmp_path / "w.duckdb"
    if case.read is None:
        with pytest.raises(LandingError, match=case.error) as caught:
            land_export(export, warehouse=warehouse)
        assert "t.csv" in str(caught.value)
        assert (caught.value.row, caught.value.field) == (case.error_row, case.error_field)
        return
    result = land_export(export, warehouse=warehouse)
    (load,) = result.files
    assert (load.read, load.rejected) == (case.read, case.rejected)
    assert load.read == load.landed + load.unchanged + load.rejected
    assert query(warehouse, "SELECT rows_read, rows_landed, rows_rejected FROM raw._file_loads") == [
        (load.read, load.landed, load.rejected)]
    assert query(warehouse, "SELECT count(*) FROM raw.generic__t")[0][0] == load.landed
    if case.columns is not None:
        assert query(warehouse, "SELECT column_name FROM information_schema.columns WHERE table_name = 'generic__t' "
                                "AND NOT starts_with(column_name, '_') ORDER BY ordinal_position") == [
            (c,) for c in case.columns]
    for key, value in case.values.items():
        assert query(warehouse, "SELECT b FROM raw.generic__t WHERE id = ?", [key]) == [(value,)], key
    rejects = query(warehouse, "SELECT source_row, field, reason, raw_record FROM raw.raw_rejects "
                               "ORDER BY source_row")
    assert len({r[0] for r in rejects}) == case.rejected
    for reason, row, reject in zip(case.reasons, case.reject_rows, rejects):
        assert reject[0] == row and reason in reject[2] and reject[3]
    if case.reject_fields is not None:
        assert [r[1] for r in rejects] == case.reject_fields
    # the source row of a landed record counts records, not lines, and skips over rejected ones
    rows = query(warehouse, "SELECT id, _source_row FROM raw.generic__t")
    assert all(int(key) == row for key, row in rows) or not case.ids_are_rows


def _ndjson(tmp_path: Path, lines: list[str]) -> tuple[Path, Path]:
    export = tmp_path / "fhir"
    export.mkdir()
    (export / "Patient.000.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (export / "log.ndjson").write_text('{"eventId": "kickoff"}\n', encoding="utf-8")
    return export, tmp_path / "w.duckdb"


def test_malformed_ndjson_line_is_rejected_with_its_line_number(tmp_path: Path) -> None:
    good = [json.dumps({"resourceType": "Patient", "id": f"p{i}", "gender": "female"}) for i in (1, 2, 3)]
    export, warehouse = _ndjson(tmp_path, [good[0], '{"resourceType": "Patient", "id": ', good[1], "",
                                           json.dumps({"resourceType": "Observation", "id": "o1"}),
                                           "[1, 2]", good[2]])
    result = land_export(export, warehouse=warehouse)
    (load,) = result.files
    assert (load.read, load.landed, load.rejected) == (6, 3, 3)
    assert query(warehouse, "SELECT id, _source_row FROM raw.fhir__patient ORDER BY 2") == [
        ("p1", 1), ("p2", 3), ("p3", 7)]
    rejects = query(warehouse, "SELECT source_row, reason FROM raw.raw_rejects ORDER BY 1")
    assert [r[0] for r in rejects] == [2, 5, 6]
    assert "malformed JSON" in rejects[0][1]
    assert "Observation does not match" in rejects[1][1] and "not a JSON object" in rejects[2][1]


def test_ndjson_log_file_is_not_landed_as_resources(tmp_path: Path) -> None:
    export, warehouse = _ndjson(tmp_path, [json.dumps({"resourceType": "Patient", "id": "p1"})])
    result = land_export(export, warehouse=warehouse)
    assert [f.entity for f in result.files] == ["patient"]
    assert query(warehouse, "SELECT count(*) FROM information_schema.tables WHERE table_name LIKE '%log%'")[0][0] == 0


def test_synthea_renamed_and_extra_columns_are_accepted(tmp_path: Path) -> None:
    export = tmp_path / "synthea"
    export.mkdir()
    (export / "patients.csv").write_text("ID,BIRTHDATE,FIRST,LAST,GENDER,INCOME\np1,2000-01-01,A,B,F,1000\n")
    # later Synthea releases: SPECIALTY spelled the US way, PROVIDERID/PATIENTID style keys
    (export / "providers.csv").write_text("Id,ORGANIZATIONID,NAME,SPECIALTY\npr1,o1,Dr X,GENERAL PRACTICE\n")
    (export / "encounters.csv").write_text(
        "Id,START_DATE,PATIENTID,ORGANIZATION,PROVIDERID,ENCOUNTERCLASS,CODE\ne1,2020-01-01,p1,o1,pr1,wellness,1\n")
    warehouse = tmp_path / "w.duckdb"
    result = land_export(export, warehouse=warehouse)
    assert result.format == "synthea" and result.totals()["landed"] == 3
    assert query(warehouse, "SELECT organization, speciality FROM raw.synthea__providers") == [("o1", "GENERAL PRACTICE")]
    assert query(warehouse, "SELECT start, patient, provider FROM raw.synthea__encounters") == [
        ("2020-01-01", "p1", "pr1")]
    assert query(warehouse, "SELECT income FROM raw.synthea__patients") == [("1000",)]


def test_a_later_export_with_a_new_column_extends_the_table(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    land_export(write_generic_export(tmp_path / "a", {"t.csv": b"id,b\n1,a\n"}), warehouse=warehouse)
    second = land_export(write_generic_export(tmp_path / "b", {"t.csv": b"id,b,c\n1,a,new\n"}), warehouse=warehouse)
    assert second.files[0].landed == 1
    assert query(warehouse, "SELECT id, b, c FROM raw.generic__t ORDER BY _loaded_at") == [("1", "a", None),
                                                                                          ("1", "a", "new")]


def test_workflow_definitions_land_and_bad_entries_are_rejected(tmp_path: Path) -> None:
    workflows = json.dumps([
        {"workflow_id": "wf-1", "name": "No-show follow-up", "active": True,
         "trigger": {"type": "record_updated", "entity": "appointments"}, "actions": [{"type": "send_email"}]},
        {"name": "no id"}, "not an object"]).encode()
    export = write_generic_export(tmp_path / "export", {"t.csv": b"id,b\n1,a\n"}, workflows=workflows)
    warehouse = tmp_path / "w.duckdb"
    result = land_export(export, warehouse=warehouse)
    assert result.by_entity()["workflows"] == {"read": 3, "landed": 1, "unchanged": 0, "rejected": 2}
    row = query(warehouse, "SELECT workflow_id, active, trigger_type, trigger_entity, definition "
                           "FROM raw.generic__workflows")[0]
    assert row[:4] == ("wf-1", "true", "record_updated", "appointments")
    assert json.loads(row[4])["actions"] == [{"type": "send_email"}]
    assert query(warehouse, "SELECT source_row, field FROM raw.raw_rejects ORDER BY 1") == [(2, "workflow_id"), (3, None)]


def test_manifest_listing_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    export = write_generic_export(tmp_path / "export", {"t.csv": b"id,b\n1,a\n"})
    (export / "t.csv").unlink()
    with pytest.raises(LandingError, match=r"t\.csv.*missing"):
        land_export(export, warehouse=tmp_path / "w.duckdb")


def test_fhir_coverage_and_claim_are_flattened_when_present(tmp_path: Path) -> None:
    export = tmp_path / "fhir"
    export.mkdir()
    coverage = {"resourceType": "Coverage", "id": "cov1", "status": "active",
                "beneficiary": {"reference": "urn:uuid:p1"}, "subscriberId": "S-1",
                "payor": [{"reference": "Organization/org9", "display": "Acme Health"}],
                "type": {"text": "PPO"}, "period": {"start": "2024-01-01", "end": "2024-12-31"}, "order": 1}
    claim = {"resourceType": "Claim", "id": "cl1", "status": "active", "use": "claim",
             "patient": {"reference": "Patient/p1"}, "provider": {"reference": "Practitioner/pr1"},
             "insurer": {"display": "Acme Health"}, "insurance": [{"coverage": {"reference": "Coverage/cov1"}}],
             "type": {"coding": [{"code": "professional", "display": "Professional"}]},
             "billablePeriod": {"start": "2024-02-01T10:00:00Z", "end": "2024-02-01T10:30:00Z"},
             "total": {"value": 125.5, "currency": "USD"}, "created": "2024-02-02"}
    (export / "Coverage.000.ndjson").write_text(json.dumps(coverage) + "\n")
    (export / "Claim.000.ndjson").write_text(json.dumps(claim) + "\n")
    warehouse = tmp_path / "w.duckdb"
    land_export(export, warehouse=warehouse)
    assert query(warehouse, "SELECT patient_id, subscriber_id, payor_id, payor_name, status, type, period_start, "
                            "period_end, \"order\" FROM raw.fhir__coverage") == [
        ("p1", "S-1", "org9", "Acme Health", "active", "PPO", "2024-01-01", "2024-12-31", "1")]
    assert query(warehouse, "SELECT patient_id, provider_id, insurer_name, coverage_id, status, type, total, currency, "
                            "billable_start FROM raw.fhir__claim") == [
        ("p1", "pr1", "Acme Health", "cov1", "active", "Professional", "125.5", "USD", "2024-02-01T10:00:00Z")]


# --- whole exports: manifests, several files, Synthea and FHIR folders ----------------------------

GENERIC = {"format": "clinic2zoho-generic", "version": 1}
T_CSV = b"id,b\n1,a\n"
SYNTHEA_PATIENTS = b"Id,BIRTHDATE,FIRST,LAST,GENDER\np1,2000-01-01,A,B,F\n"
DIRECTORY = None  # in ExportCase.files: a folder of that name instead of a file


def _manifest(entities: dict, **extra) -> bytes:
    return json.dumps({**GENERIC, "entities": entities, **extra}).encode()


def _t(**extra) -> bytes:
    """A manifest listing t.csv keyed by id, with `extra` top-level fields."""
    return _manifest({"t": {"file": "t.csv", "key": "id"}}, **extra)


def _resource(rid: str | None = "p1", rtype: str | None = "Patient", **fields) -> str:
    resource = {k: v for k, v in (("resourceType", rtype), ("id", rid)) if v is not None}
    return json.dumps({**resource, **fields})


@dataclass
class ExportCase:
    files: dict[str, bytes | None]  # file name -> content (DIRECTORY: a folder by that name)
    error: str = ""  # a fatal LandingError matching this is expected; "" -> it lands
    names: str = ""  # the file the error names (its name)
    error_row: int | None = None  # the row and field the error names
    error_field: str | None = None
    counts: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # entity -> (read, landed, rejected)
    rejects: list[tuple[int, str | None, str]] = field(default_factory=list)  # (row, field, reason part)


EXPORT_CASES: dict[str, ExportCase] = {
    # --- manifest.json ---
    "manifest_is_not_an_object": ExportCase({"manifest.json": b"[1, 2]", "t.csv": T_CSV},
                                            error="manifest is a JSON array", names="manifest.json"),
    "manifest_entities_is_a_list": ExportCase({"manifest.json": json.dumps({**GENERIC, "entities": ["t.csv"]}).encode(),
                                               "t.csv": T_CSV}, error="no 'entities' object", names="manifest.json",
                                              error_field="entities"),
    "manifest_lists_no_entities": ExportCase({"manifest.json": _manifest({}), "t.csv": T_CSV},
                                             error="lists no entities", names="manifest.json", error_field="entities"),
    "manifest_is_not_json": ExportCase({"manifest.json": b'{"entities": {"t": ', "t.csv": T_CSV},
                                       error="not valid JSON", names="manifest.json", error_row=1),
    "manifest_in_cp1252": ExportCase({"manifest.json": _t(clinic_name="Clínica").replace(b"\\u00ed", b"\xed"),
                                      "t.csv": T_CSV}, error="not valid UTF-8", names="manifest.json"),
    "manifest_in_utf16_with_bom_lands": ExportCase(
        {"manifest.json": _t(clinic_name="Clínica").decode().encode("utf-16"), "t.csv": T_CSV},
        counts={"t": (1, 1, 0)}),
    "manifest_of_another_format": ExportCase({"manifest.json": json.dumps(
        {"format": "acme-emr", "entities": {"t": {"file": "t.csv", "key": "id"}}}).encode(), "t.csv": T_CSV},
        error="format is 'acme-emr'", names="manifest.json", error_field="format"),
    "manifest_of_an_unknown_version": ExportCase({"manifest.json": _t(version=2), "t.csv": T_CSV},
                                                 error="version 2 is not supported", names="manifest.json",
                                                 error_field="version"),
    "manifest_entity_is_a_string": ExportCase({"manifest.json": _manifest({"t": "t.csv"}), "t.csv": T_CSV},
                                              error="must be an object", names="manifest.json",
                                              error_field="entities.t"),
    "manifest_entity_without_a_file": ExportCase({"manifest.json": _manifest({"t": {"key": "id"}}), "t.csv": T_CSV},
                                                 error="has no 'file'", names="manifest.json",
                                                 error_field="entities.t.file"),
    "manifest_file_is_a_list": ExportCase({"manifest.json": _manifest({"t": {"file": ["t.csv"], "key": "id"}}),
                                           "t.csv": T_CSV}, error="has no 'file'", names="manifest.json",
                                          error_field="entities.t.file"),
    "manifest_key_is_a_number": ExportCase({"manifest.json": _manifest({"t": {"file": "t.csv", "key": 5}}),
                                            "t.csv": T_CSV}, error="names no column", names="manifest.json",
                                           error_field="entities.t.key"),
    "manifest_key_names_a_column_the_file_lacks": ExportCase(
        {"manifest.json": _manifest({"t": {"file": "t.csv", "key": "patient_id"}}), "t.csv": T_CSV},
        error="required column", names="t.csv", error_field="patient_id"),
    "manifest_entity_names_collide": ExportCase(
        {"manifest.json": _manifest({"Patients": {"file": "t.csv", "key": "id"},
                                     "patients": {"file": "u.csv", "key": "id"}}), "t.csv": T_CSV, "u.csv": T_CSV},
        error="same table raw.generic__patients", names="manifest.json", error_field="entities.patients"),
    "manifest_entity_named_like_the_workflows": ExportCase(
        {"manifest.json": _manifest({"workflows": {"file": "t.csv", "key": "id"}}, workflows="w.json"),
         "t.csv": T_CSV, "w.json": b"[]"}, error="the workflows file", names="manifest.json",
        error_field="entities.workflows"),
    "manifest_entity_name_without_letters": ExportCase(
        {"manifest.json": _manifest({"!!!": {"file": "t.csv", "key": "id"}}), "t.csv": T_CSV},
        error="gives no table name", names="manifest.json", error_field="entities.!!!"),
    "manifest_entity_with_reading_options": ExportCase(
        {"manifest.json": _manifest({"t": {"file": "t.csv", "key": "id", "delimiter": ";", "encoding": "utf-16"}}),
         "t.csv": T_CSV}, error="unsupported field", names="manifest.json", error_field="entities.t.delimiter"),
    "manifest_relation_side_is_a_string": ExportCase(
        {"manifest.json": _t(relations=[{"entity": "t", "left": "id", "right": {"column": "id"}}]), "t.csv": T_CSV},
        error="a relation must be an object", names="manifest.json", error_field="relations[0]"),
    "manifest_names_a_missing_file": ExportCase({"manifest.json": _t()}, error="missing", names="manifest.json",
                                                error_field="entities.t.file"),
    "manifest_is_a_directory": ExportCase({"manifest.json": DIRECTORY, "t.csv": T_CSV}, error="not a regular file",
                                          names="manifest.json"),
    # --- the files a manifest lists ---
    "entity_file_is_a_directory": ExportCase({"manifest.json": _t(), "t.csv": DIRECTORY}, error="not a regular file",
                                             names="manifest.json", error_field="entities.t.file"),
    "zero_byte_file_among_good_ones": ExportCase(
        {"manifest.json": _manifest({"t": {"file": "t.csv", "key": "id"}, "u": {"file": "u.csv", "key": "id"}}),
         "t.csv": T_CSV, "u.csv": b""}, error="empty", names="u.csv"),
    "one_file_of_two_with_rejects": ExportCase(
        {"manifest.json": _manifest({"t": {"file": "t.csv", "key": "id"}, "u": {"file": "u.csv", "key": "id"}}),
         "t.csv": T_CSV, "u.csv": b"id,b\n1,a\n2,b,c\n,d\n"},
        counts={"t": (1, 1, 0), "u": (3, 1, 2)}, rejects=[(2, None, "too many columns"), (3, "id", "empty")]),
    # --- workflows.json ---
    "workflows_is_not_json": ExportCase({"manifest.json": _t(workflows="w.json"), "t.csv": T_CSV, "w.json": b"{nope"},
                                        error="not valid JSON", names="w.json", error_row=1),
    "workflows_is_an_object": ExportCase({"manifest.json": _t(workflows="w.json"), "t.csv": T_CSV,
                                          "w.json": b'{"id": "wf-1"}'}, error="found a JSON object", names="w.json"),
    "workflows_in_cp1252": ExportCase({"manifest.json": _t(workflows="w.json"), "t.csv": T_CSV,
                                       "w.json": '[{"workflow_id": "w", "name": "Café"}]'.encode("cp1252")},
                                      error="not valid UTF-8", names="w.json"),
    "workflows_is_a_directory": ExportCase({"manifest.json": _t(workflows="w.json"), "t.csv": T_CSV,
                                            "w.json": DIRECTORY}, error="not a regular file", names="manifest.json",
                                           error_field="workflows"),
    "workflows_named_by_a_list": ExportCase({"manifest.json": _t(workflows=["w.json"]), "t.csv": T_CSV},
                                            error="must be a file name", names="manifest.json",
                                            error_field="workflows"),
    "workflow_ids_of_the_wrong_type": ExportCase(
        {"manifest.json": _t(workflows="w.json"), "t.csv": T_CSV,
         "w.json": b'[{"workflow_id": {"a": 1}}, {"workflow_id": 0}, {"workflow_id": " "}, {"workflow_id": true}]'},
        counts={"t": (1, 1, 0), "workflows": (4, 1, 3)},
        rejects=[(1, "workflow_id", "is a JSON object"), (3, "workflow_id", "no workflow_id"),
                 (4, "workflow_id", "is a JSON boolean")]),
    # --- Synthea folders ---
    "synthea_folder_named_claims_csv": ExportCase({"patients.csv": SYNTHEA_PATIENTS, "claims.csv": DIRECTORY},
                                                  error="not a regular file", names="claims.csv"),
    "synthea_two_files_for_one_entity": ExportCase(
        {"patients.csv": SYNTHEA_PATIENTS, "conditions.csv": b"START,PATIENT,ENCOUNTER,CODE\n2020,p1,e1,1\n",
         "Conditions.txt": b"START,PATIENT,ENCOUNTER,CODE\n2020,p1,e1,1\n"},
        error="would both land as entity 'conditions'", names="conditions.csv"),
    "synthea_missing_required_column": ExportCase(
        {"patients.csv": SYNTHEA_PATIENTS, "encounters.csv": b"Id,START\ne1,2020-01-01\n"},
        error="required column PATIENT", names="encounters.csv", error_field="PATIENT"),
    "synthea_gzip_named_csv": ExportCase({"patients.csv": SYNTHEA_PATIENTS,
                                          "conditions.csv": gzip.compress(b"START,PATIENT,ENCOUNTER,CODE\n")},
                                         error="gzip-compressed", names="conditions.csv"),
    "synthea_patient_without_an_id": ExportCase(
        {"patients.csv": SYNTHEA_PATIENTS + b",1990-05-05,C,D,M\np3,1980-01-01,E,F,F\n"},
        counts={"patients": (3, 2, 1)}, rejects=[(2, "id", "record key 'Id' is empty")]),
    "synthea_cr_only_file": ExportCase({"patients.csv": SYNTHEA_PATIENTS.replace(b"\n", b"\r")},
                                       counts={"patients": (1, 1, 0)}),
    # --- FHIR NDJSON folders ---
    "ndjson_blank_and_whitespace_lines": ExportCase(
        {"Patient.ndjson": f"{_resource('p1')}\n\n   \n{_resource('p2')}\n\n".encode()}, counts={"patient": (2, 2, 0)}),
    "ndjson_line_that_is_not_json": ExportCase(
        {"Patient.ndjson": f"{_resource('p1')}\nnot json at all\n{_resource('p2')}\n".encode()},
        counts={"patient": (3, 2, 1)}, rejects=[(2, None, "malformed JSON")]),
    "ndjson_file_that_is_a_json_array": ExportCase(
        {"Patient.ndjson": f"[{_resource('p1')}, {_resource('p2')}]\n".encode()}, error="one JSON document",
        names="Patient.ndjson", error_row=1),
    "ndjson_file_that_is_pretty_printed": ExportCase(
        {"Patient.ndjson": json.dumps({"resourceType": "Patient", "id": "p1"}, indent=2).encode()},
        error="one JSON document", names="Patient.ndjson", error_row=1),
    "ndjson_resource_without_resource_type": ExportCase(
        {"Patient.ndjson": f"{_resource('p1', None)}\n{_resource('p2')}\n".encode()}, counts={"patient": (2, 1, 1)},
        rejects=[(1, "resourceType", "(missing) does not match")]),
    "ndjson_resource_without_an_id": ExportCase(
        {"Patient.ndjson": f"{_resource(None)}\n{_resource('')}\n{_resource('p3')}\n".encode()},
        counts={"patient": (3, 1, 2)}, rejects=[(1, "id", "has no id"), (2, "id", "has no id")]),
    "ndjson_resource_of_the_wrong_type": ExportCase(
        {"Patient.ndjson": f"{_resource('o1', 'Observation')}\n{_resource('p2')}\n".encode()},
        counts={"patient": (2, 1, 1)}, rejects=[(1, "resourceType", "Observation does not match")]),
    "ndjson_a_json_value_that_is_no_object": ExportCase(
        {"Patient.ndjson": f'"just a string"\n{_resource("p2")}\n'.encode()}, counts={"patient": (2, 1, 1)},
        rejects=[(1, None, "not a JSON object")]),
    "ndjson_lower_case_file_name": ExportCase({"patient.ndjson": f"{_resource('p1')}\n".encode()},
                                              counts={"patient": (1, 1, 0)}),
    "ndjson_mixed_line_endings": ExportCase(
        {"Patient.ndjson": f"{_resource('p1')}\r\n{_resource('p2')}\n{_resource('p3')}\r".encode()},
        counts={"patient": (3, 3, 0)}),
    "ndjson_truncated_last_line": ExportCase(
        {"Patient.ndjson": f"{_resource('p1')}\n{_resource('p2')[:-7]}".encode()}, counts={"patient": (2, 1, 1)},
        rejects=[(2, None, "malformed JSON")]),
    "ndjson_in_utf16": ExportCase({"Patient.ndjson": f"{_resource('p1')}\n".encode("utf-16")}, error="UTF-16",
                                  names="Patient.ndjson"),
    "ndjson_gzip_named_ndjson": ExportCase({"Patient.ndjson": gzip.compress(f"{_resource('p1')}\n".encode())},
                                           error="gzip-compressed", names="Patient.ndjson"),
    "ndjson_folder_named_like_a_resource_file": ExportCase(
        {"Patient.ndjson": f"{_resource('p1')}\n".encode(), "Observation.ndjson": DIRECTORY},
        error="not a regular file", names="Observation.ndjson"),
}


@pytest.mark.parametrize("name", sorted(EXPORT_CASES))
def test_malformed_export_case(name: str, tmp_path: Path) -> None:
    case = EXPORT_CASES[name]
    export = tmp_path / "export"
    export.mkdir()
    for file_name, content in case.files.items():
        if content is DIRECTORY:
            (export / file_name).mkdir()
        else:
            (export / file_name).write_bytes(content)
    warehouse = tmp_path / "w.duckdb"
    if case.error:
        with pytest.raises(LandingError, match=case.error) as caught:
            land_export(export, warehouse=warehouse)
        error = caught.value
        assert error.file is not None and Path(error.file).name == case.names, str(error)
        assert (error.row, error.field) == (case.error_row, case.error_field), str(error)
        assert not warehouse.exists() or query(warehouse, "SELECT count(*) FROM raw._file_loads")[0][0] == 0
        return
    result = land_export(export, warehouse=warehouse)
    assert {e: (c["read"], c["landed"], c["rejected"]) for e, c in result.by_entity().items()} == case.counts
    assert all(f.read == f.landed + f.unchanged + f.rejected for f in result.files)
    loads = query(warehouse, "SELECT entity, rows_read, rows_landed, rows_rejected FROM raw._file_loads ORDER BY 1")
    assert loads == sorted((f.entity, f.read, f.landed, f.rejected) for f in result.files)
    for f in result.files:
        assert query(warehouse, f"SELECT count(*) FROM {f.table} WHERE _source_file = ?", [f.file])[0][0] == f.landed
    rejects = query(warehouse, "SELECT source_row, field, reason, raw_record FROM raw.raw_rejects ORDER BY source_row")
    assert len(rejects) == len(case.rejects) == sum(f.rejected for f in result.files)
    for (row, field_name, reason), reject in zip(case.rejects, rejects):
        assert (reject[0], reject[1]) == (row, field_name) and reason in reject[2] and reject[3], reject[:3]


def _unreadable(path: Path) -> bytes:
    raise PermissionError(13, "Permission denied", str(path))


@pytest.mark.parametrize("unreadable", ["workflows.json", "manifest.json"])
def test_an_unreadable_json_file_is_a_clear_error(unreadable: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # chmod 000 does not stop root, so the read itself is made to fail as it does for a user
    from clinic2zoho.landing import generic

    export = write_generic_export(tmp_path / "export", {"t.csv": T_CSV}, workflows=b"[]")
    real = generic._read_bytes
    monkeypatch.setattr(generic, "_read_bytes", lambda p: _unreadable(p) if p.name == unreadable else real(p))
    with pytest.raises(LandingError, match="cannot read the .*Permission denied") as caught:
        land_export(export, warehouse=tmp_path / "w.duckdb")
    assert Path(caught.value.file).name == unreadable


def test_a_record_longer_than_the_reader_allows_is_a_reject(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from clinic2zoho.landing import delimited

    monkeypatch.setattr(delimited, "MAX_LINE_BYTES", 1 << 16)
    export = write_generic_export(tmp_path / "export", {"t.csv": b"id,b\n1,a\n2," + b"x" * 100_000 + b"\n3,c\n"})
    warehouse = tmp_path / "w.duckdb"
    (load,) = land_export(export, warehouse=warehouse).files
    assert (load.read, load.landed, load.rejected) == (3, 2, 1)
    assert query(warehouse, "SELECT id, _source_row FROM raw.generic__t ORDER BY 2") == [("1", 1), ("3", 3)]
    ((row, reason),) = query(warehouse, "SELECT source_row, reason FROM raw.raw_rejects")
    assert row == 2 and "line size over maximum" in reason


def test_line_endings_that_change_after_the_sample_are_a_clear_error(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # the sample shows LF only, so the file goes to DuckDB as it is, which gives up at the CRLF part:
    # the error names the record where the endings change, instead of DuckDB's parser state
    from clinic2zoho.landing import sniff

    monkeypatch.setattr(sniff, "SAMPLE_BYTES", 64)
    rows = b"".join(b"%d,abcdefgh\n" % i for i in range(1, 20)) + b"20,x\r\n21,y\r\n"
    export = write_generic_export(tmp_path / "export", {"t.csv": b"id,b\n" + rows})
    with pytest.raises(LandingError, match="line endings are mixed: records end in LF, then in CRLF") as caught:
        land_export(export, warehouse=tmp_path / "w.duckdb")
    assert Path(caught.value.file).name == "t.csv" and caught.value.row == 20


def test_record_ends_are_rewritten_alike_whatever_the_chunk_size(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import csv

    from clinic2zoho.landing import lines

    source = tmp_path / "in.csv"
    source.write_bytes(b'id,b\r\n\r\n1,"a\r\n\r\nb"\n2,"say ""hi""\r"\r3,x"y\n\n4, "q,\nr"\r\n5,last')
    whole = lines.rewrite_record_ends(source, tmp_path / "whole.csv", ",").read_bytes()
    monkeypatch.setattr(lines, "CHUNK_BYTES", 3)  # CRLFs and quotes split between chunks
    assert lines.rewrite_record_ends(source, tmp_path / "small.csv", ",").read_bytes() == whole
    assert whole == b'id,b\n1,"a\r\n\r\nb"\n2,"say ""hi""\r"\n3,x"y\n4, "q,\nr"\n5,last'
    records = list(csv.reader(whole.decode().splitlines(keepends=True), skipinitialspace=True))
    assert records[1:] == [["1", "a\r\n\r\nb"], ["2", 'say "hi"\r'], ["3", 'x"y'], ["4", "q,\nr"], ["5", "last"]]


@pytest.mark.parametrize("name", ["blank_lines_before_a_reject_keep_its_row",
                                  "blank_crlf_lines_before_a_reject_keep_its_row", "crlf_and_lf_mixed",
                                  "cr_only_with_a_line_break_in_a_quoted_field"])
def test_line_scans_read_alike_in_tiny_chunks(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # line breaks and blank lines split between two chunks of the scans are still found
    from clinic2zoho.landing import lines

    monkeypatch.setattr(lines, "CHUNK_BYTES", 2)
    test_malformed_csv_case(name, tmp_path)
