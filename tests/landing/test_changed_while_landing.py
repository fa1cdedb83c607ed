"""A file that changes while it is being landed fails the batch and lands nothing. The change is
made through landing's after-read hook, at the moment landing finished reading the file, instead
of racing a writer."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from clinic2zoho.cli import main
from clinic2zoho.landing import LandingError, land_export, stability

from .conftest import query, write_generic_export


def append_once(monkeypatch: pytest.MonkeyPatch, name: str, extra: bytes) -> list[str]:
    """Make the hook append `extra` to the file called `name` the first time landing has read it."""
    seen: list[str] = []

    def hook(path: Path) -> None:
        seen.append(path.name)
        if path.name == name and seen.count(name) == 1:
            with open(path, "ab") as handle:
                handle.write(extra)

    monkeypatch.setattr(stability, "after_read", hook)
    return seen


def nothing_landed(warehouse: Path) -> None:
    assert query(warehouse, "SELECT count(*) FROM raw._batches")[0][0] == 0
    assert query(warehouse, "SELECT count(*) FROM raw._file_loads")[0][0] == 0
    assert query(warehouse, "SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'generic__%' "
                            "OR table_name LIKE 'fhir__%'")[0][0] == 0


def test_a_csv_appended_to_after_it_was_read_fails_the_batch(tmp_path: Path, monkeypatch) -> None:
    # the second file changes: the first one's rows must not land either
    export = write_generic_export(tmp_path / "export", {"a.csv": b"id,b\n1,a\n", "t.csv": b"id,b\n1,a\n2,b\n"})
    seen = append_once(monkeypatch, "t.csv", b"3,c\n")
    warehouse = tmp_path / "w.duckdb"
    with pytest.raises(LandingError, match=r"t\.csv.*changed while it was being landed; land again when the "
                                           r"export is complete") as caught:
        land_export(export, warehouse=warehouse)
    assert caught.value.file.endswith("t.csv")
    assert seen == ["a.csv", "t.csv"]
    nothing_landed(warehouse)


def test_an_ndjson_file_changed_while_landing_fails_the_batch(tmp_path: Path, monkeypatch) -> None:
    export = tmp_path / "fhir"
    export.mkdir()
    (export / "Patient.000.ndjson").write_text(json.dumps({"resourceType": "Patient", "id": "p1"}) + "\n")
    append_once(monkeypatch, "Patient.000.ndjson", b'{"resourceType": "Patient", "id": "p2"}\n')
    warehouse = tmp_path / "w.duckdb"
    with pytest.raises(LandingError, match=r"Patient\.000\.ndjson.*changed while it was being landed"):
        land_export(export, warehouse=warehouse)
    nothing_landed(warehouse)


def test_a_file_replaced_by_another_of_the_same_size_is_noticed(tmp_path: Path, monkeypatch) -> None:
    """Same size, same mtime: the file is another file (e.g. a symlink swapped) - its identity differs."""
    export = write_generic_export(tmp_path / "export", {"t.csv": b"id,b\n1,a\n"})
    (export / "other.csv").write_bytes(b"id,b\n1,z\n")

    def swap(path: Path) -> None:
        if path.name == "t.csv":
            stat = path.stat()
            (export / "other.csv").replace(path)  # rename over it: a new inode
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    monkeypatch.setattr(stability, "after_read", swap)
    warehouse = tmp_path / "w.duckdb"
    with pytest.raises(LandingError, match="changed while it was being landed"):
        land_export(export, warehouse=warehouse)
    nothing_landed(warehouse)


def test_the_manifest_changed_during_landing_fails_the_batch(tmp_path: Path, monkeypatch) -> None:
    export = write_generic_export(tmp_path / "export", {"t.csv": b"id,b\n1,a\n"})

    def edit_manifest(path: Path) -> None:
        with open(export / "manifest.json", "a") as handle:
            handle.write("\n")

    monkeypatch.setattr(stability, "after_read", edit_manifest)
    warehouse = tmp_path / "w.duckdb"
    with pytest.raises(LandingError, match=r"manifest\.json.*changed while it was being landed"):
        land_export(export, warehouse=warehouse)
    nothing_landed(warehouse)


def test_an_unchanged_export_lands_and_every_file_is_checked(tmp_path: Path, monkeypatch) -> None:
    workflows = json.dumps([{"workflow_id": "wf-1"}]).encode()
    export = write_generic_export(tmp_path / "export", {"t.csv": b"id,b\n1,a\n"}, workflows=workflows)
    seen: list[str] = []
    monkeypatch.setattr(stability, "after_read", lambda path: seen.append(path.name))
    result = land_export(export, warehouse=tmp_path / "w.duckdb")
    assert result.totals()["landed"] == 2
    assert seen == ["t.csv", "workflows.json"]


def test_land_command_exits_non_zero_naming_the_changed_file(work_home: Path, tmp_path: Path, monkeypatch,
                                                             capsys) -> None:
    export = write_generic_export(tmp_path / "export", {"patients.csv": b"id,b\n1,a\n"})
    append_once(monkeypatch, "patients.csv", b"2,b\n")
    assert main(["land", "--source", str(export)]) == 1
    err = capsys.readouterr().err
    assert "patients.csv" in err
    assert "changed while it was being landed; land again when the export is complete" in err
    nothing_landed(work_home / "warehouse.duckdb")
