"""NDJSON lines of many MB: they land (their JSON parsed a bounded number of bytes at a time), or,
when too long to parse within the memory limit, are rejected with file, row and length while the
rest of the file lands. Every file is generated here, as small as the mechanism allows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clinic2zoho.landing import json_batches, land_export

from .conftest import query


def document(rid: str, data_bytes: int, content_type: str = "application/pdf") -> str:
    data = "QUJD" * (data_bytes // 4)  # base64 of "ABC" repeated
    return json.dumps({"resourceType": "DocumentReference", "id": rid, "status": "current",
                       "subject": {"reference": f"Patient/{rid}-p"},
                       "author": [{"reference": "Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|9999"}],
                       "content": [{"attachment": {"contentType": content_type, "data": data}}]})


def export(tmp_path: Path, lines: list[str]) -> Path:
    folder = tmp_path / "fhir"
    folder.mkdir()
    (folder / "DocumentReference.000.ndjson").write_text("\n".join(lines) + "\n")
    return folder


def test_a_40_mb_line_lands_with_the_default_memory_limit(tmp_path: Path, monkeypatch) -> None:
    """Before: DuckDB ran out of memory flattening it (3 GB limit) and the whole landing failed."""
    monkeypatch.delenv("CLINIC2ZOHO_DUCKDB_MEMORY", raising=False)
    big = document("big", 40 << 20)
    assert len(big) >= 40 << 20
    warehouse = tmp_path / "w.duckdb"
    (load,) = land_export(export(tmp_path, [document("d1", 100), big, document("d2", 100)]),
                         warehouse=warehouse).files
    assert (load.read, load.landed, load.rejected) == (3, 3, 0)
    assert query(warehouse, "SELECT id, _source_row, data_size, author_npi, patient_id, strlen(resource) "
                            "FROM raw.fhir__documentreference ORDER BY _source_row") == [
        ("d1", 1, "75", "9999", "d1-p", len(document("d1", 100))),
        ("big", 2, str(30 << 20), "9999", "big-p", len(big)),
        ("d2", 3, "75", "9999", "d2-p", len(document("d2", 100)))]


def test_under_a_small_memory_limit_long_lines_land_and_one_too_long_is_rejected(tmp_path: Path,
                                                                                  monkeypatch) -> None:
    """256 MB: batches of ~1.3 MB, lines up to ~10 MB. Before: out of memory on the 300 KB lines."""
    monkeypatch.setenv("CLINIC2ZOHO_DUCKDB_MEMORY", "256MB")
    lines = [document(f"m{i}", 300 << 10) for i in range(30)]  # ~9 MB a vector: several batches
    lines[10] = document("long", 2 << 20, "text/plain")  # longer than a batch: one column at a time
    lines[20] = document("huge", 12 << 20)  # too long for 256 MB
    warehouse = tmp_path / "w.duckdb"
    folder = export(tmp_path, lines)
    (load,) = land_export(folder, warehouse=warehouse).files
    assert (load.read, load.landed, load.unchanged, load.rejected) == (30, 29, 0, 1)
    assert load.read == load.landed + load.unchanged + load.rejected
    ((row, field, reason, raw, source),) = query(
        warehouse, "SELECT source_row, field, reason, raw_record, source_file FROM raw.raw_rejects")
    assert (row, field, source) == (21, None, str(folder / "DocumentReference.000.ndjson"))
    assert reason.startswith("line too long: 12.0 MiB") and "CLINIC2ZOHO_DUCKDB_MEMORY" in reason
    assert raw.startswith('{"resourceType": "DocumentReference", "id": "huge"') and len(raw) < 2048
    landed = dict(query(warehouse, "SELECT id, _source_row FROM raw.fhir__documentreference"))
    assert landed["long"] == 11 and landed["m29"] == 30 and "huge" not in landed
    assert query(warehouse, "SELECT strlen(note_text) FROM raw.fhir__documentreference WHERE id = 'long'") == [
        (3 << 19,)]


RESOURCES = {
    "Patient": {"resourceType": "Patient", "id": "p1", "name": [{"family": "Doe", "given": ["Jane", "Q"]}],
                "telecom": [{"system": "email", "value": "j@x.example"}], "birthDate": "1980-02-03",
                "address": [{"line": ["1 Main St", "Apt 2"], "city": "Boston"}], "text": {"div": "x" * 900}},
    "Practitioner": {"resourceType": "Practitioner", "id": "pr1", "name": [{"family": "Who", "prefix": ["Dr."]}],
                     "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": "123"}]},
    "Encounter": {"resourceType": "Encounter", "id": "e1", "subject": {"reference": "urn:uuid:p1"},
                  "participant": [{"individual": {"reference": "Practitioner?identifier=http://hl7.org/fhir/sid/"
                                                                "us-npi|123"}}],
                  "period": {"start": "2024-01-01T10:00:00Z"}, "reasonCode": [{"text": "r" * 700}]},
}


def test_batches_and_long_lines_give_the_rows_one_statement_gives(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "fhir"
    folder.mkdir()
    for kind, resource in RESOURCES.items():
        rows = [json.dumps({**resource, "id": f"{resource['id']}-{i}"}) for i in range(6)]
        rows[2] = rows[2][:40]  # malformed: still a reject with its line number
        (folder / f"{kind}.000.ndjson").write_text("\n".join(rows) + "\n")

    def land(name: str) -> list:
        warehouse = tmp_path / f"{name}.duckdb"
        result = land_export(folder, warehouse=warehouse, batch_id="b1")
        tables = sorted(load.table for load in result.files)
        return [query(warehouse, f"SELECT * EXCLUDE (_loaded_at) FROM {t} ORDER BY _source_row") for t in tables] + [
            query(warehouse, "SELECT source_file, source_row, reason FROM raw.raw_rejects ORDER BY 1, 2")]

    whole = land("whole")
    monkeypatch.setattr(json_batches, "batch_bytes", lambda con: 1000)  # Patient/Encounter lines are longer
    assert land("batched") == whole
    assert [len(rows) for rows in whole] == [5, 5, 5, 3]
