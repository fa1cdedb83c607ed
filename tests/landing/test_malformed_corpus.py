"""The malformed-input corpus: every case is built here in tmp_path, and each one either lands
with the right values, is rejected row by row with a reason, or fails with a clear error naming
file (and row/field) — and row conservation holds wherever rows were read."""

from __future__ import annotations

import json
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


HUGE = "x" * (5 << 20)
_ASCII_ROWS = b"".join(b"%d,plain ascii row padding the sample\n" % i for i in range(2, 40001))
# UTF-8 (row 1 holds a UTF-8 character) with one stray cp1252 byte beyond the sniffed sample
LATE_BAD_UTF8 = "id,b\n1,Zoë\n".encode() + _ASCII_ROWS + b"40001,caf\xe9\n40002,ok\n"
# a cp1252 file whose first non-ASCII byte comes after the sniffed sample
LATE_CP1252 = b"id,b\n1,plain\n" + _ASCII_ROWS + "40001,café – 5€\n".encode("cp1252")

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
    "duplicate_header": Case(b"id,b,B\n1,a,b\n", error="duplicate column"),
    "missing_key_column": Case(b"identifier,b\n1,a\n", error="required column"),
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
        return
    result = land_export(export, warehouse=warehouse)
    (load,) = result.files
    assert (load.read, load.rejected) == (case.read, case.rejected)
    assert load.read == load.landed + load.unchanged + load.rejected
    assert query(warehouse, "SELECT rows_read, rows_landed, rows_rejected FROM raw._file_loads") == [
        (load.read, load.landed, load.rejected)]
    assert query(warehouse, "SELECT count(*) FROM raw.generic__t")[0][0] == load.landed
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
    assert all(int(key) == row for key, row in rows)


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
