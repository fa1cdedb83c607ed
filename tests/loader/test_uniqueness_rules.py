"""No record lost to Zoho's duplicate check (Email on Contacts and Leads, Account_Name on
Accounts): a family sharing an e-mail and clinics sharing a name reach the local Zoho server
through the real pipeline (land, dbt build, confirmed mapping's schema, loader), every one of
them, and the org is the same whatever order the rows reach Zoho in and whether the server
refuses duplicates on insert or not."""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from clinic2zoho.generator import generate_export
from clinic2zoho.landing import land_export, land_users
from clinic2zoho.loader.module_loader import LoadSettings
from clinic2zoho.loader.plan import LoadPlan, plan_from_manifest
from clinic2zoho.loader.run import Loader
from clinic2zoho.loader.source import TableSource
from clinic2zoho.mapping import confirmation
from clinic2zoho.mapping.schema_command import prepare_schema
from clinic2zoho.reports import validate_run
from clinic2zoho.transform import run_dbt
from clinic2zoho.zoho import ZohoClient, ZohoConfig
from clinic2zoho.zoho_server.process import ZohoServerProcess

from tests.fixtures.dbt_project import copy_dbt_project

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("uniqueness")]

MODULES = ("Accounts", "Contacts", "Leads")
FAMILY = "Family.Shared@Example.org"
LEAD_PAIR = "lead.pair@example.org"


@dataclass
class Planted:
    parent: str  # oldest Contact of the family: keeps Email
    child: str  # younger Contact, listed before the parent in the export
    family_lead: str  # a Lead of the family: a Contact holds the address
    older_lead: str  # two Leads sharing an address between them: the older keeps it
    younger_lead: str
    clinics: dict[str, str]  # clinic id -> the Account_Name expected


def _read(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _write(path: Path, header: list[str], rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)


def plant(export: Path) -> Planted:
    """Give a family one address (cased and spaced differently), two Leads another, and three
    clinics one name (two of them in one city). Leads and Contacts are told apart from the export
    itself: a Prospect / Referral Inquiry without an appointment is a Lead."""
    _, visits = _read(export / "appointments.csv")
    visited = {v["patient_id"] for v in visits}
    header, patients = _read(export / "patients.csv")
    leads = [p for p in patients if p["status"] in ("Prospect", "Referral Inquiry") and p["patient_id"] not in visited]
    contacts = [p for p in patients if p["status"] == "Active"]
    child, parent = contacts[0], contacts[1]  # the child comes first in the file
    child.update(email=f"  {FAMILY.upper()} ", birth_date="2009-04-02")
    parent.update(email=FAMILY.lower(), birth_date="1971-08-19")
    family_lead, younger_lead, older_lead = leads[:3]
    family_lead.update(email=f"{FAMILY} ", birth_date="1950-01-01")  # older, but a Lead
    younger_lead.update(email=LEAD_PAIR, birth_date="1999-12-31")
    older_lead.update(email=LEAD_PAIR.upper(), birth_date="1980-06-15")
    _write(export / "patients.csv", header, patients)

    cheader, clinics = _read(export / "clinics.csv")
    assert len(clinics) >= 3
    name = clinics[0]["name"]
    clinics[1]["name"] = name.upper()
    clinics[2]["name"] = name.lower()
    clinics[2]["city"] = clinics[0]["city"]
    _write(export / "clinics.csv", cheader, clinics)
    first, second, third = clinics[:3]
    expected = {first["clinic_id"]: f"{name} ({first['city']}, {first['clinic_id']})",
                second["clinic_id"]: f"{name.upper()} ({second['city']})",
                third["clinic_id"]: f"{name.lower()} ({first['city']}, {third['clinic_id']})"}
    return Planted(parent["patient_id"], child["patient_id"], family_lead["patient_id"], older_lead["patient_id"],
                   younger_lead["patient_id"], expected)


@dataclass
class Scenario:
    gen: Path
    planted: Planted
    plan: LoadPlan
    manifest: Path
    warehouses: dict[str, Path]  # load order -> warehouse
    template: Path  # a stopped local org with the confirmed mapping's schema prepared


def reversed_copy(warehouse: Path, dest: Path) -> Path:
    """The built warehouse with the rows of the three tables in the opposite order: the loader
    sends them, and Zoho receives them, the other way round."""
    dest.mkdir()
    copy = dest / warehouse.name
    shutil.copy(warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        for model in ("zoho_accounts", "zoho_contacts", "zoho_leads"):
            con.execute(f"create or replace table zoho.{model} as select * from zoho.{model} order by rowid desc")
    return copy


def build(export: Path, gen: Path, work: Path) -> tuple[Path, Path]:
    work.mkdir()
    warehouse = work / "warehouse.duckdb"
    land_export(export, "generic", warehouse)
    land_users(gen / "zoho_users.json", warehouse=warehouse)
    result = run_dbt(["build", "--select", "+zoho_accounts", "+zoho_contacts", "+zoho_leads",
                      "warn_contacts_sharing_an_email", "warn_clinics_sharing_a_name", "uniqueness_treatments",
                      "assert_duplicate_check_fields_unique", "--indirect-selection", "cautious"], warehouse,
                     {"provider_email_overrides_file": str(gen / "provider_email_overrides.csv")})
    assert result.success, result.summary()
    return warehouse, result.target_path / "manifest.json"


def _config(server: ZohoServerProcess) -> ZohoConfig:
    return ZohoConfig(server.client_id, server.client_secret, server.refresh_token, data_centre=None,
                      accounts_url=server.base_url, api_url=server.base_url, upload_url=server.base_url, max_attempts=3)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> Scenario:
    base = tmp_path_factory.mktemp("uniqueness")
    gen = base / "gen"
    generate_export(gen, 40, seed=3, with_files=False)
    planted = plant(gen / "export")
    warehouse, manifest = build(gen / "export", gen, base / "forward")
    plan = LoadPlan(tuple(s for s in plan_from_manifest(manifest).specs if s.module in MODULES))
    dbt_dir = copy_dbt_project(base / "dbt_project", mapping=["generic.yml"])
    confirmation.confirm("uniqueness test", dbt_dir)
    template = base / "org"
    template.mkdir()
    with ZohoServerProcess(users=gen / "zoho_users.json", workdir=template) as server:
        with ZohoClient(_config(server)) as client:
            prepare_schema(client, dbt_dir, ["generic"], warehouse=warehouse, log=lambda _line: None)
    return Scenario(gen, planted, plan, manifest,
                    {"forward": warehouse, "reversed": reversed_copy(warehouse, base / "reversed")}, template)


def load(s: Scenario, order: str, enforce: bool, work: Path, warehouse: Path | None = None) -> dict:
    """A copy of the prepared org, the three modules loaded by record calls one at a time (rows
    reach Zoho in table order), every record read back, the run validated."""
    shutil.copytree(s.template, work)
    warehouse = warehouse or s.warehouses[order]
    with ZohoServerProcess(state=work / "zoho_state.sqlite", users=s.gen / "zoho_users.json", workdir=work,
                           settings={"insert_checks_default_duplicates": enforce}) as server:
        with ZohoClient(_config(server)) as client:
            result = Loader(s.plan, client, run_id=order, root=work / "journal", source=TableSource(warehouse),
                            settings=LoadSettings(record_concurrency=1, force_path="record")).run()
            validation = validate_run(order, client, warehouse=warehouse, journal_root=work / "journal",
                                      manifest=s.manifest, reports_dir=work / "reports", seed=1)
            people = ["Clinic_Patient_Id", "Email", "Secondary_Email", "Shared_Email"]
            org = {
                "Contacts": {r["Clinic_Patient_Id"]: (r.get("Email"), r.get("Secondary_Email"), r.get("Shared_Email"))
                             for r in client.iter_records("Contacts", people)},
                "Leads": {r["Clinic_Patient_Id"]: (r.get("Email"), r.get("Secondary_Email"), r.get("Shared_Email"))
                          for r in client.iter_records("Leads", people)},
                "Accounts": {r["Clinic_Account_Id"]: r.get("Account_Name")
                             for r in client.iter_records("Accounts", ["Clinic_Account_Id", "Account_Name"])},
            }
    return {"org": org, "modules": {m["module"]: m for m in result.modules}, "validation": validation}


def _export_counts(export: Path) -> dict[str, int]:
    _, visits = _read(export / "appointments.csv")
    visited = {v["patient_id"] for v in visits}
    _, patients = _read(export / "patients.csv")
    leads = sum(1 for p in patients
                if p["status"] in ("Prospect", "Referral Inquiry") and p["patient_id"] not in visited)
    _, clinics = _read(export / "clinics.csv")
    return {"Contacts": len(patients) - leads, "Leads": leads, "Accounts": len(clinics)}


@pytest.mark.parametrize("enforce", [True, False], ids=["insert-checks-duplicates", "no-insert-check"])
def test_a_family_and_same_named_clinics_reach_zoho_whole_in_either_order(scenario, enforce, tmp_path):
    planted = scenario.planted
    forward, backward = (load(scenario, order, enforce, tmp_path / order) for order in ("forward", "reversed"))
    # nothing refused, every patient and clinic of the export in Zoho
    expected = _export_counts(scenario.gen / "export")
    for outcome in (forward, backward):
        for module in MODULES:
            m = outcome["modules"][module]
            assert (m["done"], m["rejected"], m["skipped"]) == (expected[module], 0, 0), (module, m)
            assert len(outcome["org"][module]) == expected[module]
    # the same org whatever order the rows came in
    assert forward["org"] == backward["org"]
    accounts, contacts, leads = (forward["org"][m] for m in MODULES)
    family = FAMILY.lower()
    assert contacts[planted.parent] == (family, None, True)
    assert contacts[planted.child] == (None, family, True)
    assert leads[planted.family_lead] == (None, family, True)
    assert leads[planted.older_lead] == (LEAD_PAIR, None, True)
    assert leads[planted.younger_lead] == (None, LEAD_PAIR, True)
    # one holder per address, across Contacts and Leads, compared as Zoho compares
    held = [e.strip().lower() for e, _, _ in [*contacts.values(), *leads.values()] if e]
    assert len(held) == len(set(held))
    assert {k: v for k, v in accounts.items() if k in planted.clinics} == planted.clinics
    assert len({n.strip().lower() for n in accounts.values()}) == len(accounts)
    # the reconciliation counts the treated records, all loaded, and the run validates
    validation = forward["validation"]
    assert validation.problems == [] and validation.ok
    treated = {(t.module, t.treatment): (t.records, t.loaded) for t in validation.treatments}
    assert treated[("Accounts", "name_qualified")] == (3, 3)
    assert treated[("Leads", "email_in_secondary_email")][0] >= 2
    assert all(records == loaded for records, loaded in treated.values())
    moved = sum(1 for e, second, _ in [*contacts.values(), *leads.values()] if second and not e)
    assert sum(n for (_, t), (n, _) in treated.items() if t == "email_in_secondary_email") == moved


def test_validation_fails_when_zoho_refuses_records_as_duplicates(scenario, tmp_path):
    """Without the treatment (the shared e-mails and names as the export has them) an org that
    checks duplicates on insert refuses the second of each: validation names them by id."""
    untreated = tmp_path / "untreated.duckdb"
    shutil.copy(scenario.warehouses["forward"], untreated)
    with duckdb.connect(str(untreated)) as con:
        for model in ("zoho_contacts", "zoho_leads"):
            con.execute(f"update zoho.{model} set Email = Secondary_Email, Secondary_Email = null"
                        " where Secondary_Email is not null")
        con.execute("update zoho.zoho_accounts set Account_Name = regexp_replace(Account_Name, ' \\(.*\\)$', '')")
        # patients off their clinic, so a refused clinic does not take them along (LOOKUP_UNRESOLVED)
        con.execute("update zoho.zoho_contacts set Account_Name = null")
    outcome = load(scenario, "forward", True, tmp_path / "org", warehouse=untreated)
    validation = outcome["validation"]
    assert not validation.ok
    refused = {p.split(":")[0]: p for p in validation.problems if "DUPLICATE_DATA" in p}
    assert set(refused) == set(MODULES), validation.problems
    assert "on Account_Name" in refused["Accounts"] and "on Email" in refused["Contacts"]
    pair = {scenario.planted.older_lead, scenario.planted.younger_lead}
    assert any(f"on Email ({lead})" in refused["Leads"] for lead in pair)
    family = {scenario.planted.parent, scenario.planted.child}
    assert any(f"{patient}" in refused["Contacts"] for patient in family)
    assert "@" not in " ".join(refused.values())


def test_the_gate_lists_the_treated_records_by_id(scenario):
    planted = scenario.planted
    with duckdb.connect(str(scenario.warehouses["forward"]), read_only=True) as con:
        rows = con.execute("select email_kept_by, patients, secondary_email_for, treatment"
                           " from gate.warn_contacts_sharing_an_email").fetchall()
        clinics = con.execute("select account_name_qualified_by from gate.warn_clinics_sharing_a_name").fetchall()
        treated = dict(con.execute("select zoho_module || ':' || treatment, count(*) from audit.uniqueness_treatments"
                                   " group by 1").fetchall())
    by_holder = {r[0]: r for r in rows}
    assert by_holder[planted.parent][1:3] == (3, ", ".join(sorted([planted.child, planted.family_lead])))
    assert by_holder[planted.older_lead][1:3] == (2, planted.younger_lead)
    assert all("Secondary_Email" in r[3] for r in rows)
    assert "@" not in repr(rows)  # ids only, never the address
    first, second, third = sorted(planted.clinics)
    assert clinics == [(f"{first} (city and id), {second} (city), {third} (city and id)",)]
    assert treated["Leads:email_in_secondary_email"] >= 2 and treated["Accounts:name_qualified"] == 3
    moved = sum(len(r[2].split(", ")) for r in rows)
    assert treated["Contacts:email_in_secondary_email"] + treated["Leads:email_in_secondary_email"] == moved
