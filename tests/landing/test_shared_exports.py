"""Landing the shared Synthea and FHIR exports: exact counts against the files, values unchanged,
lineage, conservation, idempotent re-landing and new versions of changed rows."""

from __future__ import annotations

import base64
import csv
import json
import shutil
from pathlib import Path

import pytest

from clinic2zoho.landing import LandingError, land_export
from clinic2zoho.landing.names import snake

from .conftest import csv_record_count, ndjson_line_count, query

pytestmark = pytest.mark.xdist_group("landing_shared")


@pytest.fixture(scope="module")
def synthea_landed(synthea_dir: Path, tmp_path_factory):
    warehouse = tmp_path_factory.mktemp("synthea") / "warehouse.duckdb"
    return warehouse, land_export(synthea_dir, warehouse=warehouse)


@pytest.fixture(scope="module")
def fhir_landed(fhir_dir: Path, tmp_path_factory):
    warehouse = tmp_path_factory.mktemp("fhir") / "warehouse.duckdb"
    return warehouse, land_export(fhir_dir, warehouse=warehouse)


def test_synthea_lands_every_file_with_exact_counts_and_no_rejects(synthea_dir, synthea_landed):
    warehouse, result = synthea_landed
    assert result.format == "synthea"
    files = sorted(synthea_dir.glob("*.csv"))
    assert len(result.files) == len(files) == 18
    by_entity = result.by_entity()
    for path in files:
        expected = csv_record_count(path)
        counts = by_entity[path.stem]
        assert counts == {"read": expected, "landed": expected, "unchanged": 0, "rejected": 0}, path.name
        assert query(warehouse, f"SELECT count(*) FROM raw.synthea__{path.stem}")[0][0] == expected
    assert by_entity["patients"]["read"] == 27 and by_entity["encounters"]["read"] == 604
    assert query(warehouse, "SELECT count(*) FROM raw.raw_rejects")[0][0] == 0


def test_synthea_conservation_is_recorded_per_file(synthea_landed):
    warehouse, result = synthea_landed
    rows = query(warehouse, "SELECT source_file, rows_read, rows_landed, rows_unchanged, rows_rejected "
                            "FROM raw._file_loads WHERE batch_id = ?", [result.batch_id])
    assert len(rows) == len(result.files)
    for _, read, landed, unchanged, rejected in rows:
        assert read == landed + unchanged + rejected
    assert query(warehouse, "SELECT format, finished_at IS NOT NULL FROM raw._batches")[0] == ("synthea", True)


def test_synthea_values_land_unchanged_with_lineage(synthea_dir, synthea_landed):
    warehouse, result = synthea_landed
    path = synthea_dir / "patients.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        expected = [{snake(k): (v if v != "" else None) for k, v in row.items()} for row in reader]
    columns = list(expected[0])
    rows = query(warehouse, f"SELECT {', '.join(columns)}, _source_file, _source_row, _batch_id, _row_hash "
                            "FROM raw.synthea__patients ORDER BY _source_row")
    assert [dict(zip(columns, r[: len(columns)])) for r in rows] == expected
    assert [r[-3] for r in rows] == list(range(1, len(expected) + 1))
    assert {r[-4] for r in rows} == {str(path)}
    assert {r[-2] for r in rows} == {result.batch_id}
    assert all(r[-1] is not None for r in rows)
    # Synthea 3.0 header names normalised, e.g. SPECIALITY and PATIENTID
    assert query(warehouse, "SELECT count(speciality) FROM raw.synthea__providers")[0][0] == 166
    assert query(warehouse, "SELECT count(patientid) FROM raw.synthea__claims")[0][0] == 1267


def test_fhir_lands_one_table_per_resource_type_with_exact_counts(fhir_dir, fhir_landed):
    warehouse, result = fhir_landed
    assert result.format == "fhir"
    files = sorted(p for p in fhir_dir.glob("*.ndjson") if p.name != "log.ndjson")
    by_entity = result.by_entity()
    assert set(by_entity) == {p.name.split(".")[0].lower() for p in files}
    for path in files:
        entity = path.name.split(".")[0].lower()
        expected = ndjson_line_count(path)
        assert by_entity[entity] == {"read": expected, "landed": expected, "unchanged": 0, "rejected": 0}
        assert query(warehouse, f"SELECT count(*) FROM raw.fhir__{entity}")[0][0] == expected
    assert by_entity["patient"]["read"] == 13 and by_entity["documentreference"]["read"] == 1215
    assert query(warehouse, "SELECT count(*) FROM raw.raw_rejects")[0][0] == 0


def test_fhir_flattens_what_the_mapping_needs(fhir_dir, fhir_landed):
    warehouse, _ = fhir_landed
    first = json.loads((fhir_dir / "Patient.000.ndjson").open().readline())
    row = query(warehouse, "SELECT family, given, birth_date, gender, city, resource FROM raw.fhir__patient "
                           "WHERE id = ?", [first["id"]])[0]
    assert row[:5] == (first["name"][0]["family"], " ".join(first["name"][0]["given"]), first["birthDate"],
                       first["gender"], first["address"][0]["city"])
    assert json.loads(row[5]) == first
    # references reduce to ids: every encounter's patient is a landed patient
    assert query(warehouse, "SELECT count(*) FROM raw.fhir__encounter WHERE patient_id NOT IN "
                            "(SELECT id FROM raw.fhir__patient)")[0][0] == 0
    # conditional references by NPI reduce to the NPI, which the practitioners carry
    assert query(warehouse, "SELECT count(*) FROM raw.fhir__encounter WHERE practitioner_npi NOT IN "
                            "(SELECT npi FROM raw.fhir__practitioner)")[0][0] == 0
    doc = json.loads((fhir_dir / "DocumentReference.000.ndjson").open().readline())
    data = base64.b64decode(doc["content"][0]["attachment"]["data"])
    note, size, patient = query(warehouse, "SELECT note_text, data_size, patient_id FROM raw.fhir__documentreference "
                                           "WHERE id = ?", [doc["id"]])[0]
    assert note == data.decode("utf-8") and int(size) == len(data)
    assert patient == doc["subject"]["reference"].split("/")[-1]


def test_relanding_the_same_export_lands_nothing_new(synthea_dir, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    first = land_export(synthea_dir, "synthea", warehouse=warehouse)
    second = land_export(synthea_dir, "synthea", warehouse=warehouse)
    assert second.batch_id != first.batch_id
    assert second.totals() == {"read": first.totals()["read"], "landed": 0,
                               "unchanged": first.totals()["read"], "rejected": 0}
    assert query(warehouse, "SELECT count(*) FROM raw.synthea__claims_transactions")[0][0] == 5228
    assert query(warehouse, "SELECT count(*) FROM raw._batches")[0][0] == 2


def test_relanding_fhir_is_idempotent(fhir_dir, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    first = land_export(fhir_dir, warehouse=warehouse)
    second = land_export(fhir_dir, warehouse=warehouse)
    assert second.totals()["landed"] == 0 and second.totals()["unchanged"] == first.totals()["read"]


def test_a_changed_row_lands_as_a_new_version(synthea_dir, tmp_path):
    export = tmp_path / "export"
    export.mkdir()
    for name in ("patients.csv", "providers.csv", "organizations.csv"):
        shutil.copy(synthea_dir / name, export / name)
    warehouse = tmp_path / "w.duckdb"
    land_export(export, "synthea", warehouse=warehouse)
    lines = (export / "patients.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    patient_id = lines[3].split(",")[0]
    lines[3] = lines[3].replace(",Massachusetts,", ",Rhode Island,", 1)
    (export / "patients.csv").write_text("".join(lines), encoding="utf-8")

    second = land_export(export, "synthea", warehouse=warehouse)
    assert second.by_entity()["patients"] == {"read": 27, "landed": 1, "unchanged": 26, "rejected": 0}
    assert second.by_entity()["providers"]["landed"] == 0
    versions = query(warehouse, "SELECT state, _batch_id, _source_row FROM raw.synthea__patients WHERE id = ? "
                                "ORDER BY _loaded_at", [patient_id])
    assert [v[0] for v in versions] == ["Massachusetts", "Rhode Island"]
    assert versions[1][1] == second.batch_id and versions[1][2] == 3


def test_missing_required_synthea_column_names_file_and_column(synthea_dir, tmp_path):
    export = tmp_path / "export"
    export.mkdir()
    shutil.copy(synthea_dir / "patients.csv", export / "patients.csv")
    with (synthea_dir / "encounters.csv").open(newline="") as src, (export / "encounters.csv").open("w", newline="") as dst:
        rows = csv.reader(src)
        writer = csv.writer(dst)
        for row in rows:
            writer.writerow(row[:3] + row[4:])  # drop PATIENT
    warehouse = tmp_path / "w.duckdb"
    with pytest.raises(LandingError, match=r"encounters\.csv.*PATIENT") as caught:
        land_export(export, warehouse=warehouse)
    assert caught.value.field == "PATIENT"
    # headers are checked before anything is written: not even the good patients file landed
    assert not warehouse.exists()


def test_empty_or_unknown_source_folders_are_clear_errors(tmp_path):
    with pytest.raises(LandingError, match="empty"):
        land_export(tmp_path, warehouse=tmp_path / "w.duckdb")
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.4")
    with pytest.raises(LandingError, match="cannot tell the export format"):
        land_export(tmp_path, warehouse=tmp_path / "w.duckdb")
    # text files without a manifest: a vendor layout, which needs its source map first
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(LandingError, match="no manifest.json and no source map.*clinic2zoho propose --source"):
        land_export(tmp_path, warehouse=tmp_path / "w.duckdb")
    with pytest.raises(LandingError, match="not a folder"):
        land_export(tmp_path / "missing", warehouse=tmp_path / "w.duckdb")
