"""Record versions across exports: a row is unchanged only when it equals the LATEST landed version
of its record key (generic: the manifest's key; Synthea: `id` where the file has a natural id;
FHIR: `id`); keyless files keep "a row already landed is unchanged"."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from clinic2zoho.delta.watermark import batches_past, latest_batch_at
from clinic2zoho.landing import land_export

from .conftest import query, write_generic_export

pytestmark = pytest.mark.xdist_group("landing_versions")

# the staging models' rule (dbt macro latest_version): latest _loaded_at, then the later source row
LATEST = ("SELECT {key}, {value} FROM {table} "
          "QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY _loaded_at DESC, _source_row DESC) = 1 "
          "ORDER BY {key}")


def latest(warehouse: Path, table: str, key: str, value: str) -> dict:
    return dict(query(warehouse, LATEST.format(key=key, value=value, table=table)))


def land_patients(tmp_path: Path, warehouse: Path, name: str, rows: str):
    export = write_generic_export(tmp_path / name, {"patients.csv": ("patient_id,status\n" + rows).encode()},
                                  keys={"patients": "patient_id"})
    return land_export(export, "generic", warehouse=warehouse).by_entity()["patients"]


def test_a_record_changed_back_lands_three_versions_and_latest_is_the_current_value(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    assert land_patients(tmp_path, warehouse, "e1", "P1,Active\nP2,Active\n") == \
        {"read": 2, "landed": 2, "unchanged": 0, "rejected": 0}
    assert land_patients(tmp_path, warehouse, "e2", "P1,Inactive\nP2,Active\n") == \
        {"read": 2, "landed": 1, "unchanged": 1, "rejected": 0}
    con = duckdb.connect(str(warehouse), read_only=True)
    watermark = latest_batch_at(con)
    con.close()
    third = land_patients(tmp_path, warehouse, "e3", "P1,Active\nP2,Active\n")
    assert third == {"read": 2, "landed": 1, "unchanged": 1, "rejected": 0}

    versions = query(warehouse, "SELECT status FROM raw.generic__patients WHERE patient_id = 'P1' "
                                "ORDER BY _loaded_at")
    assert [v[0] for v in versions] == ["Active", "Inactive", "Active"]
    assert latest(warehouse, "raw.generic__patients", "patient_id", "status") == {"P1": "Active", "P2": "Active"}
    # the delta window sees the change back: one row past the watermark, in the patients table
    con = duckdb.connect(str(warehouse), read_only=True)
    past = batches_past(con, watermark)
    con.close()
    assert [(b.rows_landed, b.tables) for b in past] == [(1, ("raw.generic__patients",))]


def test_the_same_export_twice_lands_nothing_the_second_time(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    land_patients(tmp_path, warehouse, "e1", "P1,Active\nP2,Active\n")
    land_patients(tmp_path, warehouse, "e2", "P1,Inactive\nP2,Active\n")
    for name in ("e2-again", "e2-third"):
        assert land_patients(tmp_path, warehouse, name, "P1,Inactive\nP2,Active\n") == \
            {"read": 2, "landed": 0, "unchanged": 2, "rejected": 0}
    assert query(warehouse, "SELECT count(*) FROM raw.generic__patients")[0][0] == 3


def test_a_key_repeated_in_one_file_lands_every_row_and_the_later_row_wins(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    # P1 twice in one export: both rows land (nothing is dropped), staging's latest is the later row
    assert land_patients(tmp_path, warehouse, "e1", "P1,Prospect\nP2,Active\nP1,Active\n")["landed"] == 3
    assert latest(warehouse, "raw.generic__patients", "patient_id", "status") == {"P1": "Active", "P2": "Active"}
    # the rows of a key in one file are that record's version: the same file again is unchanged
    assert land_patients(tmp_path, warehouse, "e1-again", "P1,Prospect\nP2,Active\nP1,Active\n") == \
        {"read": 3, "landed": 0, "unchanged": 3, "rejected": 0}
    # a later export with the record once, equal to the latest row, is a new version (one row, not two)
    assert land_patients(tmp_path, warehouse, "e2", "P1,Active\nP2,Active\n") == \
        {"read": 2, "landed": 1, "unchanged": 1, "rejected": 0}
    # the same rows in another order change which row is last: they land together, the later wins
    land_patients(tmp_path, warehouse, "e3", "P1,Active\nP2,Active\nP1,Prospect\n")
    assert land_patients(tmp_path, warehouse, "e4", "P1,Prospect\nP2,Active\nP1,Active\n") == \
        {"read": 3, "landed": 2, "unchanged": 1, "rejected": 0}
    assert latest(warehouse, "raw.generic__patients", "patient_id", "status")["P1"] == "Active"
    # only the last row decides what staging keeps: the earlier rows reordered are the same version
    land_patients(tmp_path, warehouse, "e5", "P1,Inactive\nP1,Prospect\nP1,Active\n")
    assert land_patients(tmp_path, warehouse, "e6", "P1,Prospect\nP1,Inactive\nP1,Active\n") == \
        {"read": 3, "landed": 0, "unchanged": 3, "rejected": 0}


def test_rows_without_a_key_value_are_rejected_every_time(tmp_path):
    # staging keeps one row per key, so rows with an empty key would collapse into one there
    warehouse = tmp_path / "w.duckdb"
    assert land_patients(tmp_path, warehouse, "e1", ",Prospect\n  ,Active\nP2,Active\n") == \
        {"read": 3, "landed": 1, "unchanged": 0, "rejected": 2}
    assert land_patients(tmp_path, warehouse, "e2", ",Prospect\nP2,Active\n") == \
        {"read": 2, "landed": 0, "unchanged": 1, "rejected": 1}
    assert query(warehouse, "SELECT count(*) FROM raw.generic__patients WHERE patient_id IS NULL "
                            "OR trim(patient_id) = ''")[0][0] == 0
    rejects = query(warehouse, "SELECT source_row, field, reason, raw_record FROM raw.raw_rejects "
                               "ORDER BY rejected_at, source_row")
    assert [r[:2] for r in rejects] == [(1, "patient_id"), (2, "patient_id"), (1, "patient_id")]
    assert all("record key 'patient_id' is empty" in r[2] for r in rejects)
    assert [r[3] for r in rejects] == [",Prospect", "  ,Active", ",Prospect"]


def test_workflows_version_by_workflow_id(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    states = [True, False, True]
    for n, active in enumerate(states):
        export = write_generic_export(
            tmp_path / f"e{n}", {"patients.csv": b"patient_id,status\nP1,Active\n"},
            keys={"patients": "patient_id"},
            workflows=json.dumps([{"workflow_id": "wf-1", "name": "No-show", "active": active}]).encode())
        assert land_export(export, "generic", warehouse=warehouse).by_entity()["workflows"]["landed"] == 1
    assert latest(warehouse, "raw.generic__workflows", "workflow_id", "active") == {"wf-1": "true"}


def _synthea_export(synthea_dir: Path, folder: Path, state: str, condition_code: str) -> Path:
    """patients.csv with the first patient's STATE set, and conditions.csv (no natural id) with its
    first row's CODE set: both files from the shared export, trimmed."""
    folder.mkdir()
    lines = (synthea_dir / "patients.csv").read_text(encoding="utf-8").splitlines(keepends=True)[:4]
    header = lines[0].rstrip("\r\n").split(",")
    first = lines[1].rstrip("\r\n").split(",")
    first[header.index("STATE")] = state
    lines[1] = ",".join(first) + "\n"
    (folder / "patients.csv").write_text("".join(lines), encoding="utf-8")
    conditions = (synthea_dir / "conditions.csv").read_text(encoding="utf-8").splitlines(keepends=True)[:4]
    c_header = conditions[0].rstrip("\r\n").split(",")
    row = conditions[1].rstrip("\r\n").split(",")
    row[c_header.index("CODE")] = condition_code
    conditions[1] = ",".join(row) + "\n"
    (folder / "conditions.csv").write_text("".join(conditions), encoding="utf-8")
    return folder


def test_synthea_versions_by_id_and_keyless_files_by_whole_row(synthea_dir, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    results = [land_export(_synthea_export(synthea_dir, tmp_path / f"e{n}", state, code), "synthea",
                           warehouse=warehouse).by_entity()
               for n, (state, code) in enumerate([("Massachusetts", "111"), ("Rhode Island", "222"),
                                                  ("Massachusetts", "111")])]
    assert [r["patients"]["landed"] for r in results] == [3, 1, 1]
    patient = query(warehouse, "SELECT id FROM raw.synthea__patients WHERE _source_row = 1 LIMIT 1")[0][0]
    assert latest(warehouse, "raw.synthea__patients", "id", "state")[patient] == "Massachusetts"
    # conditions have no natural id: the row is its own key, so the first row's content seen
    # before anywhere is unchanged (A, B, then A again lands nothing)
    assert [r["conditions"]["landed"] for r in results] == [3, 1, 0]
    assert results[2]["conditions"] == {"read": 3, "landed": 0, "unchanged": 3, "rejected": 0}


def _fhir_export(fhir_dir: Path, folder: Path, genders: list[str]) -> Path:
    """Patient.000.ndjson with the first patients of the shared export, genders set in order."""
    folder.mkdir()
    lines = (fhir_dir / "Patient.000.ndjson").read_text(encoding="utf-8").splitlines()[:len(genders)]
    resources = [json.loads(line) | {"gender": gender} for line, gender in zip(lines, genders)]
    (folder / "Patient.000.ndjson").write_text("".join(json.dumps(r) + "\n" for r in resources), encoding="utf-8")
    return folder


def test_fhir_versions_by_resource_id(fhir_dir, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    landed = [land_export(_fhir_export(fhir_dir, tmp_path / f"e{n}", [gender, "female"]), "fhir",
                          warehouse=warehouse).by_entity()["patient"]["landed"]
              for n, gender in enumerate(["male", "other", "male"])]
    assert landed == [2, 1, 1]
    first_id = query(warehouse, "SELECT id FROM raw.fhir__patient WHERE gender = 'other'")[0][0]
    assert latest(warehouse, "raw.fhir__patient", "id", "gender")[first_id] == "male"
    again = land_export(tmp_path / "e2", "fhir", warehouse=warehouse).by_entity()["patient"]
    assert again == {"read": 2, "landed": 0, "unchanged": 2, "rejected": 0}


def test_a_key_in_two_files_of_one_batch_relands_as_unchanged(fhir_dir, tmp_path):
    """Each file of an entity keeps its own rows of a record within a batch (Patient.000/.001)."""
    export = _fhir_export(fhir_dir, tmp_path / "e", ["male"])
    resource = json.loads((export / "Patient.000.ndjson").read_text(encoding="utf-8"))
    (export / "Patient.001.ndjson").write_text(json.dumps(resource | {"gender": "female"}) + "\n", encoding="utf-8")
    warehouse = tmp_path / "w.duckdb"
    assert land_export(export, "fhir", warehouse=warehouse).by_entity()["patient"]["landed"] == 2
    assert land_export(export, "fhir", warehouse=warehouse).by_entity()["patient"] == \
        {"read": 2, "landed": 0, "unchanged": 2, "rejected": 0}
