"""`clinic2zoho doctor` against local orgs over HTTP: ready for the small clinic's org (its users
are the generator's, the mapping confirmed, a sandbox configured), and not ready, naming the cause,
when a scope is not granted, a record-owning provider has no user, or today's credits are fewer
than the load needs."""

from __future__ import annotations

import csv
import json

import pytest

from tests.preflight.conftest import rows, write_contacts

pytestmark = pytest.mark.xdist_group("preflight")


def doctor(clinic, capsys) -> tuple[int, str, dict[str, dict]]:
    code, out = clinic.run(capsys, "doctor")
    report = json.loads((clinic.home / "reports" / "doctor.json").read_text(encoding="utf-8"))
    return code, out, {c["name"]: c for c in report["checks"]}


def test_doctor_passes_against_the_clinics_org(clinic, capsys):
    code, out, checks = doctor(clinic, capsys)
    assert code == 0, out
    assert {name: c["status"] for name, c in checks.items()} == {
        "Data centre": "OK", "Token": "OK", "Scopes": "OK", "Edition": "OK", "Providers": "OK", "Mapping schema": "OK",
        "Layout-mandatory fields": "OK", "Credits today": "OK", "Concurrency": "OK", "Sandbox org": "OK"}
    # the edition as GET /org says it (the server's default plan), never assumed by the client
    assert checks["Edition"]["cause"].startswith("Enterprise")
    # the credits counted include preparing the schema: a custom module is 500 credits (API-limits page summary)
    assert "custom modules at 500)" in checks["Credits today"]["cause"]
    # every provider owning appointments in the export is counted
    owners = {r["provider_id"] for r in rows(clinic.export / "appointments.csv")} & {
        r["provider_id"] for r in rows(clinic.export / "providers.csv")}
    assert f"{len(owners)} providers" in checks["Providers"]["cause"]
    assert str(clinic.sandbox.org_id) in checks["Sandbox org"]["cause"]
    page = (clinic.home / "reports" / "doctor.html").read_text(encoding="utf-8")
    assert "PASSED" in page and "Credits today" in page
    for secret in clinic.secrets():
        assert secret not in out and secret not in page
    assert not (clinic.home / "reports" / "providers_to_invite.csv").exists()


def test_doctor_names_a_scope_the_grant_lacks(clinic, capsys):
    from clinic2zoho.zoho_server.scopes import DEFAULT_GRANT

    clinic.production.settings(granted_scopes=[s for s in DEFAULT_GRANT if s != "ZohoCRM.bulk.ALL"])
    code, out, checks = doctor(clinic, capsys)
    assert code == 1
    assert checks["Scopes"]["status"] == "FAIL"
    assert "ZohoCRM.bulk.ALL" in checks["Scopes"]["cause"] and "OAUTH_SCOPE_MISMATCH" in checks["Scopes"]["cause"]
    assert "ZohoCRM.modules.ALL" not in checks["Scopes"]["cause"]


def test_doctor_names_a_provider_without_a_user_and_lists_them_to_invite(clinic, capsys):
    overrides = {r["provider_id"]: r["email"] for r in rows(clinic.gen / "provider_email_overrides.csv")}
    providers = rows(clinic.export / "providers.csv")
    owners = {r["provider_id"] for r in rows(clinic.export / "appointments.csv")}
    gone = next(p for p in providers if p["provider_id"] in owners and p["provider_id"] not in overrides and p["email"])
    clinic.production.set_users([u for u in clinic.users() if u["email"].lower() != gone["email"].lower()])
    code, out, checks = doctor(clinic, capsys)
    assert code == 1
    assert checks["Providers"]["status"] == "FAIL"
    assert f"1 without a user (to invite): {gone['provider_id']}" in checks["Providers"]["cause"]
    with (clinic.home / "reports" / "providers_to_invite.csv").open(encoding="utf-8") as fh:
        listed = list(csv.DictReader(fh))
    assert [(r["provider_id"], r["email"], r["first_name"], r["last_name"]) for r in listed] == [
        (gone["provider_id"], gone["email"].lower(), gone["first_name"], gone["last_name"])]


def test_doctor_fails_when_todays_credits_are_fewer_than_the_load_needs(clinic, capsys):
    # Zoho's header shows from the first call here (the threshold is a server setting), and the
    # org's day holds 300 credits; the load is the export's patients a hundred times over: one bulk
    # job (500 credits, bulk_write.json / ZOHO_API.md) is cheaper than 120 upsert calls
    clinic.production.settings(credits_header_threshold=0.0, daily_credits=300)
    write_contacts(clinic.warehouse, clinic.export, copies=100)
    code, out, checks = doctor(clinic, capsys)
    assert code == 1
    credits = checks["Credits today"]
    assert credits["status"] == "FAIL"
    assert "X-API-CREDITS-REMAINING" in credits["cause"]
    left = int(credits["cause"].split(", ")[1].split(" are left")[0].replace(",", ""))
    assert 0 < left < 300 and left == clinic.production.credits()["remaining"]
    needed = int(credits["cause"].split("needs ")[1].split(" credits")[0].replace(",", ""))
    assert needed >= 500


def test_doctor_without_configuration_says_what_to_set(clinic, capsys):
    clinic.monkeypatch.delenv("ZOHO_REFRESH_TOKEN")
    code, out, checks = doctor(clinic, capsys)
    assert code == 1
    assert checks["Configuration"]["status"] == "FAIL" and "ZOHO_REFRESH_TOKEN" in checks["Configuration"]["cause"]


def test_doctor_reads_the_plan_from_the_work_folders_dbt_build(clinic, capsys):
    from clinic2zoho.transform.dbt_runner import target_dir

    # the manifest dbt writes beside the warehouse: one model loading Contacts
    node = {"resource_type": "model", "name": "zoho_contacts", "schema": "zoho",
            "config": {"meta": {"zoho_module": "Contacts", "external_id": "Clinic_Patient_Id"}}}
    target = target_dir(clinic.warehouse)
    target.mkdir(parents=True, exist_ok=True)
    (target / "manifest.json").write_text(json.dumps({"nodes": {"model.clinic.zoho_contacts": node}}))
    code, out = clinic.run(capsys, "doctor", plan=False)
    assert code == 0, out
    page = (clinic.home / "reports" / "doctor.html").read_text(encoding="utf-8")
    patients = len(rows(clinic.export / "patients.csv"))
    assert f"<td>Contacts</td><td class=\"n\">{patients:,}</td>" in page


@pytest.mark.parametrize("lacking, untellable", [("ZohoCRM.modules.ALL", "ZohoCRM.coql.READ"),
                                                 ("ZohoCRM.org.READ", "ZohoFiles.files.ALL"),
                                                 ("ZohoCRM.users.ALL", None)])
def test_each_scope_is_probed_on_its_own(zoho_server, lacking, untellable):
    """Zoho's 401 names no scope (share_records.json OAUTH_SCOPE_MISMATCH, empty details): one probe
    per scope; a probe that needs another missing scope says it cannot tell instead of blaming its own."""
    from clinic2zoho.preflight.scopes import probe_scopes
    from clinic2zoho.zoho.scopes import REQUIRED_SCOPES
    from tests.mapping.conftest import client_for

    zoho_server.settings(granted_scopes=[s for s in REQUIRED_SCOPES if s != lacking])
    before = zoho_server.snapshot()
    with client_for(zoho_server) as client:
        found = {r.scope: r.granted for r in probe_scopes(client)}
    assert list(found) == list(REQUIRED_SCOPES)
    assert found == {s: (False if s == lacking else None if s == untellable else True) for s in REQUIRED_SCOPES}
    after = zoho_server.snapshot()  # the write probes created nothing: no record, field or module
    assert (after["data_hash"], after["schema_hash"]) == (before["data_hash"], before["schema_hash"])


def test_doctor_checks_a_demos_work_folder_orgs_when_no_zoho_is_given(clinic, capsys):
    """After `make demo`, `clinic2zoho doctor --work work` starts the work folder's local production
    and sandbox orgs from their saved state, as rollback does, and checks them."""
    from clinic2zoho.zoho_server.work_orgs import start_local_org

    ids = {}
    for org in ("production", "sandbox"):
        with start_local_org(clinic.home, org, clinic.gen / "zoho_users.json") as server:
            ids[org] = server.org_id
    for key in ("ZOHO_CLIENT_ID", "ZOHO_CLIENT_SECRET", "ZOHO_REFRESH_TOKEN", "ZOHO_API_URL", "AIRFLOW_CONN_ZOHO_SANDBOX"):
        clinic.monkeypatch.delenv(key, raising=False)
    code, out = clinic.run(capsys, "doctor", "--work", str(clinic.home))
    assert code == 0, out
    assert "the local orgs of work folder" in out
    checks = {c["name"]: c for c in json.loads((clinic.home / "reports" / "doctor.json").read_text())["checks"]}
    assert checks["Sandbox org"]["status"] == "OK"
    assert f"sandbox org {ids['sandbox']}" in checks["Sandbox org"]["cause"]
