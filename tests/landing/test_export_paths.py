"""An export may only name files inside its own folder: `..`, absolute paths and symlinks out of the
folder are refused before anything is read or written. A sentinel file planted next to the export
(never a real system file) stands for the host's files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest

from clinic2zoho.landing import LandingError, land_export

from .conftest import query, write_generic_export

SECRET = "SENTINEL-7f3a"


@pytest.fixture
def sentinel(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "sentinel.ndjson").write_text(json.dumps({"resourceType": "Observation", "id": SECRET}) + "\n")
    (outside / "workflows.json").write_text(json.dumps([{"workflow_id": SECRET}]))
    path = outside / "sentinel.csv"
    # shaped like every format's patients file, so only the containment check can stop it
    path.write_text(f"id,birthdate,first,last,gender,b\n{SECRET},2000-01-01,{SECRET},{SECRET},F,{SECRET}\n")
    return path


def warehouse_text(warehouse: Path) -> str:
    """Every value of every table in the warehouse, as one string ('' when nothing was created)."""
    if not warehouse.exists():
        return ""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
        return "\n".join(str(con.execute(f'SELECT * FROM "{s}"."{t}"').fetchall()) for s, t in tables)
    finally:
        con.close()


def refused(export: Path, warehouse: Path, *expected: str, fmt: str | None = None) -> str:
    with pytest.raises(LandingError) as caught:
        land_export(export, fmt=fmt, warehouse=warehouse)
    message = str(caught.value)
    for part in expected:
        assert part in message, message
    assert SECRET not in message and SECRET not in warehouse_text(warehouse)
    return message


def generic_export(tmp_path: Path, entry: str) -> Path:
    export = write_generic_export(tmp_path / "export", {"t.csv": b"id,b\n1,a\n"})
    manifest = json.loads((export / "manifest.json").read_text())
    manifest["entities"]["t"]["file"] = entry
    (export / "manifest.json").write_text(json.dumps(manifest))
    return export


@pytest.mark.parametrize("entry", ["../outside/sentinel.csv", "sub/../../outside/sentinel.csv", "../../no/such/file"])
def test_manifest_entry_escaping_with_dotdot_is_refused(tmp_path: Path, sentinel: Path, entry: str) -> None:
    (tmp_path / "export" / "sub").mkdir(parents=True)
    export = generic_export(tmp_path, entry)
    message = refused(export, tmp_path / "w.duckdb", "manifest.json", "entities.t.file", entry, "outside the export")
    assert "symlink" not in message


def test_absolute_manifest_entry_is_refused(tmp_path: Path, sentinel: Path) -> None:
    export = generic_export(tmp_path, str(sentinel))
    refused(export, tmp_path / "w.duckdb", "manifest.json", "entities.t.file", "absolute path")


def test_manifest_file_that_is_a_symlink_out_is_refused(tmp_path: Path, sentinel: Path) -> None:
    export = generic_export(tmp_path, "t.csv")
    (export / "t.csv").unlink()
    (export / "t.csv").symlink_to(sentinel)
    refused(export, tmp_path / "w.duckdb", "manifest.json", "entities.t.file", "'t.csv'", "symlink pointing outside")


def test_manifest_entry_through_a_symlinked_folder_out_is_refused(tmp_path: Path, sentinel: Path) -> None:
    export = generic_export(tmp_path, "linked/sentinel.csv")
    (export / "linked").symlink_to(sentinel.parent, target_is_directory=True)
    refused(export, tmp_path / "w.duckdb", "entities.t.file", "symlink pointing outside")


def test_workflows_entry_pointing_out_is_refused(tmp_path: Path, sentinel: Path) -> None:
    export = generic_export(tmp_path, "t.csv")
    manifest = json.loads((export / "manifest.json").read_text())
    manifest["workflows"] = "../outside/workflows.json"
    (export / "manifest.json").write_text(json.dumps(manifest))
    refused(export, tmp_path / "w.duckdb", "manifest.json", "field 'workflows'", "outside the export")


def test_manifest_itself_a_symlink_out_is_refused(tmp_path: Path, sentinel: Path) -> None:
    export = generic_export(tmp_path, "t.csv")
    (tmp_path / "outside" / "manifest.json").write_text((export / "manifest.json").read_text())
    (export / "manifest.json").unlink()
    (export / "manifest.json").symlink_to(tmp_path / "outside" / "manifest.json")
    refused(export, tmp_path / "w.duckdb", "manifest.json", "symlink pointing outside")


def synthea_export(tmp_path: Path) -> Path:
    export = tmp_path / "synthea"
    export.mkdir()
    (export / "patients.csv").write_text("Id,BIRTHDATE,FIRST,LAST,GENDER\np1,2000-01-01,A,B,F\n")
    return export


def test_synthea_csv_symlink_out_is_refused(tmp_path: Path, sentinel: Path) -> None:
    export = synthea_export(tmp_path)
    (export / "passwd.csv").symlink_to(sentinel)
    refused(export, tmp_path / "w.duckdb", "passwd.csv", "symlink pointing outside")


@pytest.mark.parametrize("fmt", [None, "synthea"])  # None: format detection looks at patients.csv first
def test_synthea_patients_symlink_out_is_refused(tmp_path: Path, sentinel: Path, fmt: str | None) -> None:
    export = synthea_export(tmp_path)
    (export / "patients.csv").unlink()
    (export / "patients.csv").symlink_to(sentinel)
    refused(export, tmp_path / "w.duckdb", "patients.csv", "symlink pointing outside", fmt=fmt)


def test_fhir_ndjson_symlink_out_is_refused(tmp_path: Path, sentinel: Path) -> None:
    export = tmp_path / "fhir"
    export.mkdir()
    (export / "Patient.000.ndjson").write_text(json.dumps({"resourceType": "Patient", "id": "p1"}) + "\n")
    (export / "Observation.000.ndjson").symlink_to(sentinel.parent / "sentinel.ndjson")
    refused(export, tmp_path / "w.duckdb", "Observation.000.ndjson", "symlink pointing outside")


def test_symlinks_inside_the_folder_land(tmp_path: Path) -> None:
    export = generic_export(tmp_path, "t.csv")
    (export / "data").mkdir()
    (export / "t.csv").rename(export / "data" / "real.csv")
    os.symlink(Path("data") / "real.csv", export / "t.csv")  # relative, resolves inside
    manifest = json.loads((export / "manifest.json").read_text())
    manifest["entities"]["u"] = {"file": "data/../t.csv", "key": "id"}  # `..` that stays inside is fine
    (export / "manifest.json").write_text(json.dumps(manifest))
    warehouse = tmp_path / "w.duckdb"
    result = land_export(export, warehouse=warehouse)
    assert result.totals()["landed"] == 2
    assert query(warehouse, "SELECT id, b FROM raw.generic__t") == [("1", "a")]
    assert query(warehouse, "SELECT id, b FROM raw.generic__u") == [("1", "a")]
