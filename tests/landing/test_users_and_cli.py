"""raw.zoho_users per org label, and the `land` / `land-users` commands end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clinic2zoho.cli import main
from clinic2zoho.landing import LandingError, land_users

from .conftest import query, write_generic_export


def test_land_users_replaces_only_that_orgs_rows(warehouse: Path, tmp_path: Path) -> None:
    users = [{"id": "u1", "email": "a@clinic.example", "full_name": "A One", "status": "active"},
             {"id": "u2", "email": "b@clinic.example", "full_name": "B Two", "status": "active"}]
    assert land_users(users, org_label="production", warehouse=warehouse) == 2
    path = tmp_path / "sandbox.json"
    path.write_text(json.dumps({"users": [{"id": "s1", "email": "s@clinic.example", "first_name": "S",
                                           "last_name": "Box", "status": "active"}]}))
    assert land_users(path, org_label="sandbox", warehouse=warehouse) == 1
    assert land_users(users[:1], org_label="production", warehouse=warehouse) == 1
    assert query(warehouse, "SELECT id, email, full_name, status, org_label FROM raw.zoho_users ORDER BY id") == [
        ("s1", "s@clinic.example", "S Box", "active", "sandbox"),
        ("u1", "a@clinic.example", "A One", "active", "production")]
    assert query(warehouse, "SELECT count(*) FROM raw.zoho_users WHERE _loaded_at IS NULL")[0][0] == 0


def test_land_users_rejects_a_user_without_id(warehouse: Path) -> None:
    with pytest.raises(LandingError, match=r"row 2, field 'id'"):
        land_users([{"id": "u1"}, {"email": "x@y.example"}], warehouse=warehouse)


def test_land_command_prints_counts_per_entity(work_home: Path, tmp_path: Path, capsys) -> None:
    export = write_generic_export(tmp_path / "export", {"patients.csv": b"id,b\n1,a\n2,b,c\n"})
    assert main(["land", "--source", str(export)]) == 0
    out = capsys.readouterr().out
    line = next(l for l in out.splitlines() if l.startswith("patients"))
    assert line.split() == ["patients", "2", "1", "0", "1"]
    assert "raw.raw_rejects" in out
    assert query(work_home / "warehouse.duckdb", "SELECT count(*) FROM raw.generic__patients")[0][0] == 1


def test_land_command_fails_with_a_clear_message(work_home: Path, tmp_path: Path, capsys) -> None:
    export = write_generic_export(tmp_path / "export", {"patients.csv": b""})
    assert main(["land", "--source", str(export), "--format", "generic"]) == 1
    err = capsys.readouterr().err
    assert "patients.csv" in err and "empty" in err


def test_land_users_command(work_home: Path, tmp_path: Path, capsys) -> None:
    path = tmp_path / "users.json"
    path.write_text(json.dumps([{"id": "u1", "email": "a@clinic.example", "full_name": "A", "status": "active"}]))
    assert main(["land-users", str(path), "--org", "sandbox"]) == 0
    assert "1 users" in capsys.readouterr().out
    assert query(work_home / "warehouse.duckdb", "SELECT org_label FROM raw.zoho_users") == [("sandbox",)]
