"""A small clinic ready for Zoho, built without dbt: a generated generic export landed in the
warehouse, its mapping proposed and confirmed in a private dbt project copy, the users resolution
and a Contacts table written from the export's own files (providers.csv, the overrides,
appointments.csv, patients.csv) as the models would, a production org whose users are the
generator's, and a sandbox org named by AIRFLOW_CONN_ZOHO_SANDBOX."""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from clinic2zoho import cli
from clinic2zoho.generator import generate_export
from clinic2zoho.landing import land_export
from clinic2zoho.loader.plan import LoadPlan, ModuleSpec
from clinic2zoho.zoho.connection import connection_json
from clinic2zoho.zoho_server.process import ZohoServerProcess
from clinic2zoho.zoho_server.work_orgs import local_config

from tests.fixtures.dbt_project import copy_dbt_project


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    return generate_export(tmp_path_factory.mktemp("gen"), 120, seed=5, with_files=False)


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def write_resolution(warehouse: Path, export: Path, overrides: Path) -> None:
    """zoho.zoho_users_resolution as the model builds it: the override's e-mail else the export's,
    records owned counted from the export's appointments."""
    override = {r["provider_id"]: r["email"].lower() for r in rows(overrides)}
    owned = Counter(r["provider_id"] for r in rows(export / "appointments.csv"))
    table = [(p["provider_id"], f"{p['first_name']} {p['last_name']}",
              override.get(p["provider_id"]) or p["email"].lower() or None, owned[p["provider_id"]])
             for p in rows(export / "providers.csv")]
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema if not exists zoho")
        con.execute("create or replace table zoho.zoho_users_resolution (provider_id varchar, Provider_Name varchar, "
                    "Email varchar, Owned_Records bigint)")
        con.executemany("insert into zoho.zoho_users_resolution values (?, ?, ?, ?)", table)


def write_contacts(warehouse: Path, export: Path, copies: int = 1) -> None:
    patients = [(f"{p['patient_id']}-{n}", p["last_name"]) for n in range(copies) for p in rows(export / "patients.csv")]
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema if not exists zoho")
        con.execute("create or replace table zoho.zoho_contacts (Clinic_Patient_Id varchar, Last_Name varchar)")
        con.executemany("insert into zoho.zoho_contacts values (?, ?)", patients)


@dataclass
class Clinic:
    gen: Path
    home: Path
    warehouse: Path
    dbt: Path
    plan: Path
    production: ZohoServerProcess
    sandbox: ZohoServerProcess
    monkeypatch: pytest.MonkeyPatch

    @property
    def export(self) -> Path:
        return self.gen / "export"

    def users(self) -> list[dict]:
        return json.loads((self.gen / "zoho_users.json").read_text(encoding="utf-8"))

    def run(self, capsys, *args: str, plan: bool = True) -> tuple[int, str]:
        capsys.readouterr()
        code = cli.main([*args, "--plan", str(self.plan)] if args[0] == "doctor" and plan else list(args))
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    def secrets(self) -> list[str]:
        return [v for s in (self.production, self.sandbox)
                for v in (s.client_secret, s.refresh_token, s.admin_token)]


@pytest.fixture
def clinic(generated, work_home, tmp_path, zoho_server_factory, monkeypatch) -> Clinic:
    from clinic2zoho.mapping import confirmation
    from clinic2zoho.mapping.propose_command import propose_mapping
    from tests.mapping.conftest import client_for

    gen = Path(generated.export_dir).parent
    warehouse = work_home / "warehouse.duckdb"
    land_export(generated.export_dir, "generic", warehouse)
    production = zoho_server_factory("production", users=generated.zoho_users_path)
    sandbox = zoho_server_factory("sandbox", users=generated.zoho_users_path, settings={"org_type": "sandbox"})
    dbt = copy_dbt_project(tmp_path / "dbt_project", profiles=True)
    monkeypatch.setenv("CLINIC2ZOHO_DBT_PROJECT", str(dbt))
    with client_for(production) as client:
        propose_mapping("generic", warehouse, dbt, client)
    confirmation.confirm("test reviewer", dbt)
    write_resolution(warehouse, generated.export_dir, generated.overrides_path)
    write_contacts(warehouse, generated.export_dir)
    plan = tmp_path / "plan.json"
    plan.write_text(LoadPlan((ModuleSpec("zoho.zoho_contacts", "Contacts", "Clinic_Patient_Id"),)).to_json())
    for key, value in (("ZOHO_CLIENT_ID", production.client_id), ("ZOHO_CLIENT_SECRET", production.client_secret),
                       ("ZOHO_REFRESH_TOKEN", production.refresh_token), ("ZOHO_API_URL", production.base_url)):
        monkeypatch.setenv(key, value)
    for key in ("ZOHO_ACCOUNTS_URL", "ZOHO_UPLOAD_URL", "ZOHO_DATA_CENTRE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AIRFLOW_CONN_ZOHO_SANDBOX", connection_json(local_config(sandbox)))
    return Clinic(gen, work_home, warehouse, dbt, plan, production, sandbox, monkeypatch)
