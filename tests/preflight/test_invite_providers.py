"""`clinic2zoho invite-providers` after doctor's list is confirmed: the provider is added through
Zoho's Users API with the chosen role and profile, stays unconfirmed (waiting) until the invitation
is accepted, and doctor and the users gate (zoho_users_resolution, the dbt test
assert_record_owners_resolve_to_zoho_users) say so until then."""

from __future__ import annotations

import csv
import json

import pytest

from tests.preflight.conftest import rows

pytestmark = pytest.mark.xdist_group("preflight")


def drop_a_provider(clinic) -> dict[str, str]:
    """Take away the org's user of one record-owning provider (known by the export's e-mail)."""
    overrides = {r["provider_id"] for r in rows(clinic.gen / "provider_email_overrides.csv")}
    owners = {r["provider_id"] for r in rows(clinic.export / "appointments.csv")}
    gone = next(p for p in rows(clinic.export / "providers.csv")
                if p["provider_id"] in owners and p["provider_id"] not in overrides and p["email"])
    clinic.production.set_users([u for u in clinic.users() if u["email"].lower() != gone["email"].lower()])
    return gone


def providers_row(clinic, capsys) -> dict:
    clinic.run(capsys, "doctor")
    checks = json.loads((clinic.home / "reports" / "doctor.json").read_text(encoding="utf-8"))["checks"]
    return next(c for c in checks if c["name"] == "Providers")


def org_users(clinic, kind):
    from tests.zoho_server.conftest import api_client

    with api_client(clinic.production) as api:
        resp = api.get("/crm/v8/users", params={"type": kind})
        return [] if resp.status_code == 204 else resp.json()["users"]


def test_invited_provider_waits_until_the_invitation_is_accepted(clinic, capsys):
    gone = drop_a_provider(clinic)
    assert providers_row(clinic, capsys)["status"] == "FAIL"
    listed = clinic.home / "reports" / "providers_to_invite.csv"
    code, out = clinic.run(capsys, "invite-providers", "--confirm-list", str(listed), "--role", "Manager",
                           "--profile", "Standard")
    assert code == 0, out
    assert f"invited {gone['provider_id']} <{gone['email'].lower()}>" in out
    waiting = org_users(clinic, "NotConfirmedUsers")
    assert [(u["email"], u["first_name"], u["last_name"], u["role"]["name"], u["profile"]["name"]) for u in waiting] == [
        (gone["email"].lower(), gone["first_name"], gone["last_name"], "Manager", "Standard")]
    row = providers_row(clinic, capsys)
    assert row["status"] == "FAIL"
    assert f"1 invited, waiting for acceptance: {gone['provider_id']}" in row["cause"]
    # a second run has nobody left to invite: the invitation is open, not missing
    code, out = clinic.run(capsys, "invite-providers", "--yes")
    assert code == 0 and "nobody to invite" in out
    clinic.production.accept_invitation(waiting[0]["id"])
    assert providers_row(clinic, capsys)["status"] == "OK"


def test_a_confirmed_list_cannot_add_anyone(clinic, capsys, tmp_path):
    gone = drop_a_provider(clinic)
    listed = tmp_path / "edited.csv"
    with listed.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["provider_id", "first_name", "last_name", "email", "owned_records"])
        writer.writerow([gone["provider_id"], gone["first_name"], gone["last_name"], gone["email"], 1])
        writer.writerow(["PR0001", "Someone", "Else", "someone.else@elsewhere.example", 1])
    before = len(org_users(clinic, "AllUsers"))
    code, out = clinic.run(capsys, "invite-providers", "--confirm-list", str(listed))
    assert code == 2 and "PR0001 <someone.else@elsewhere.example>" in out
    assert len(org_users(clinic, "AllUsers")) == before  # nothing sent
    code, out = clinic.run(capsys, "invite-providers", "--yes", "--role", "No Such Role")
    assert code == 2 and "Manager" in out and len(org_users(clinic, "AllUsers")) == before


def test_the_users_gate_lists_the_provider_as_waiting_until_accepted(clinic, capsys):
    from clinic2zoho.landing import land_users
    from clinic2zoho.transform import run_dbt
    from clinic2zoho.transform.dbt_runner import export_vars

    gone = drop_a_provider(clinic)
    clinic.run(capsys, "doctor")
    code, out = clinic.run(capsys, "invite-providers", "--yes")
    assert code == 0, out
    dbt_vars = {**export_vars(clinic.export, "generic"),
                "provider_email_overrides_file": str(clinic.gen / "provider_email_overrides.csv")}

    def gate():
        land_users(org_users(clinic, "ActiveUsers"), "production", warehouse=clinic.warehouse)
        built = run_dbt(["run", "--select", "+zoho_users_resolution"], warehouse=clinic.warehouse, vars=dbt_vars,
                        project_dir=clinic.dbt)
        assert built.success, built.summary()
        return run_dbt(["test", "--select", "assert_record_owners_resolve_to_zoho_users"], warehouse=clinic.warehouse,
                       vars=dbt_vars, project_dir=clinic.dbt)

    assert run_dbt(["seed"], warehouse=clinic.warehouse, vars=dbt_vars, project_dir=clinic.dbt).success
    waiting = gate()
    assert not waiting.success
    failure = next(f for f in waiting.errors if f.name == "assert_record_owners_resolve_to_zoho_users")
    assert [(r["provider_id"], r["resolution"]) for r in failure.rows] == [
        (gone["provider_id"], "invited, waiting for acceptance")]
    invited = next(u for u in org_users(clinic, "NotConfirmedUsers"))
    clinic.production.accept_invitation(invited["id"])
    assert gate().success


def test_the_loader_gives_no_record_to_an_invited_provider_until_accepted(zoho_server):
    from clinic2zoho.loader.resolve import OwnerResolver
    from tests.mapping.conftest import client_for

    with client_for(zoho_server) as client:
        role = next(r["id"] for r in client.roles() if r["name"] == "Manager")
        profile = next(p["id"] for p in client.profiles() if p["name"] == "Standard")
        added = client.add_user({"first_name": "Ada", "last_name": "Invited", "email": "ada@clinic.example",
                                 "role": role, "profile": profile})
        assert added.ok
        # an active user of the org (ActiveUsers lists it, get-users.html) but not confirmed
        assert "ada@clinic.example" in {u["email"] for u in client.users("ActiveUsers")}
        assert OwnerResolver(client).resolve("ada@clinic.example") is None
        assert OwnerResolver(client).resolve("dr.rivera@clinic.example") is not None
        zoho_server.accept_invitation(added.id)
        assert OwnerResolver(client).resolve("ADA@clinic.example") == added.id
