"""What the loader, the preflight and the schema preparation read about the org: org, users,
roles, profiles, layouts (mandatory fields), related lists. Sources: Zoho's v8 metadata pages
and org.json, users.json, roles.json, profiles.json, layouts.json, related_lists.json, which
validate every answer."""

from __future__ import annotations

import pytest

ERROR_KEYS = {"code", "details", "message", "status"}


def test_org_answers_what_org_json_declares(zoho):
    """GET /crm/v8/org (https://www.zoho.com/crm/developer/docs/api/v8/get-org-data.html; org.json):
    `{org: [{id, zgid, type, license_details, ...}]}`; `type` is one of Bigin, Production,
    Developer, Sandbox (the suite's sandbox gate reads it); zgid is what Bulk Write's upload
    names as X-CRM-ORG."""
    org = zoho.get("/crm/v8/org", oas="org.json", template="/crm/v8/org").json()["org"][0]
    assert org["id"] and org["zgid"] and org["license_details"]["paid_type"]


def test_users_by_type_and_the_current_user(zoho):
    """Get Users (https://www.zoho.com/crm/developer/docs/api/v8/get-users.html; users.json):
    `type` ActiveUsers, CurrentUser, AllUsers...; each user has id, email, full_name, status,
    role and profile; CurrentUser is exactly one user (the token's)."""
    active = zoho.get("/crm/v8/users", params={"type": "ActiveUsers"}, oas="users.json", template="/crm/v8/users").json()["users"]
    assert active and all(u["status"] == "active" for u in active)
    assert all(u["id"] and u["email"] and u["role"]["id"] and u["profile"]["id"] for u in active)
    (me,) = zoho.get("/crm/v8/users", params={"type": "CurrentUser"}, oas="users.json", template="/crm/v8/users").json()["users"]
    one = zoho.get(f"/crm/v8/users/{me['id']}", oas="users.json", template="/crm/v8/users/{user}").json()["users"]
    assert [u["id"] for u in one] == [me["id"]]


def test_roles_and_profiles_name_what_a_user_invitation_needs(zoho):
    """Get Roles (roles.json) and Get Profiles (profiles.json): `{roles: [{id, name, ...}]}`,
    `{profiles: [{id, name, ...}]}`, the ids an added user takes (Add Users: role and profile are
    mandatory). Every org has the Administrator profile and a top role."""
    roles = zoho.get("/crm/v8/settings/roles", oas="roles.json", template="/crm/v8/settings/roles").json()["roles"]
    profiles = zoho.get("/crm/v8/settings/profiles", oas="profiles.json", template="/crm/v8/settings/profiles").json()["profiles"]
    assert roles and all(r["id"] and r["name"] for r in roles)
    assert "Administrator" in {p["name"] for p in profiles}
    admin = next(p for p in profiles if p["name"] == "Administrator")
    got = zoho.get(f"/crm/v8/settings/profiles/{admin['id']}", oas="profiles.json", template="/crm/v8/settings/profiles/{id}")
    assert got.status_code == 200 and got.json()["profiles"][0]["id"] == admin["id"]


def test_layouts_say_which_fields_are_mandatory(zoho):
    """Get Layouts (https://www.zoho.com/crm/developer/docs/api/v8/get-layouts.html; layouts.json):
    `module` is required; each layout has sections of fields with `required`. Zoho's standard
    Leads layout requires Last_Name and Company, Contacts Last_Name: the preflight lists what the
    mapping leaves empty from this, so a layout-mandatory field never fails the load."""
    for module, needed in (("Leads", {"Last_Name", "Company"}), ("Contacts", {"Last_Name"})):
        resp = zoho.get("/crm/v8/settings/layouts", params={"module": module}, oas="layouts.json",
                        template="/crm/v8/settings/layouts")
        assert resp.status_code == 200
        layouts = resp.json()["layouts"]
        required = {f["api_name"] for lay in layouts for s in lay["sections"] for f in s["fields"] if f.get("required")}
        assert needed <= required, module
    missing = zoho.get("/crm/v8/settings/layouts", oas="layouts.json", template="/crm/v8/settings/layouts")
    assert missing.status_code == 400 and missing.json()["code"] == "REQUIRED_PARAM_MISSING"


def test_a_layout_mandatory_field_left_empty_is_mandatory_not_found(zoho, run_id):
    """Insert Records with a Lead lacking Company (required by the standard layout):
    MANDATORY_NOT_FOUND naming Company."""
    resp = zoho.post("/crm/v8/Leads", json={"data": [{"Last_Name": f"Lead {run_id}"}]}, oas="record.json",
                     template="/crm/v8/{module_api_name}")
    (err,) = resp.json()["data"]
    assert resp.status_code == 400 and (err["code"], err["details"]["api_name"]) == ("MANDATORY_NOT_FOUND", "Company")


def test_related_lists_name_the_related_records_routes(zoho, run_id):
    """Get Related Lists Metadata (related_lists.json): `module` required; each entry's api_name is
    the last segment of GET /{module}/{id}/{related list}, which answers 200 or 204."""
    resp = zoho.get("/crm/v8/settings/related_lists", params={"module": "Contacts"}, oas="related_lists.json",
                    template="/crm/v8/settings/related_lists")
    assert resp.status_code == 200
    names = {r["api_name"] for r in resp.json()["related_lists"]}
    assert {"Notes", "Attachments"} <= names
    rid = zoho.post("/crm/v8/Contacts", json={"data": [{"Last_Name": f"Related {run_id}"}]}, oas="record.json",
                    template="/crm/v8/{module_api_name}").json()["data"][0]["details"]["id"]
    notes = zoho.get(f"/crm/v8/Contacts/{rid}/Notes", params={"fields": "Note_Title"}, oas=None)
    assert notes.status_code == 204


@pytest.mark.local_only
def test_an_invited_user_is_active_but_unconfirmed(zoho, run_id, ledger):
    """Add Users (https://www.zoho.com/crm/developer/docs/api/v8/add-user.html; users.json POST):
    201 with the new user's id; Zoho e-mails an invitation, so against a real org this test does
    not run; the user shows in NotConfirmedUsers until accepted."""
    roles = zoho.get("/crm/v8/settings/roles", oas="roles.json", template="/crm/v8/settings/roles").json()["roles"]
    profiles = zoho.get("/crm/v8/settings/profiles", oas="profiles.json", template="/crm/v8/settings/profiles").json()["profiles"]
    staff = next((p for p in profiles if p["name"] == "Standard"), profiles[0])
    email = f"invited.{run_id}@clinic.example"
    resp = zoho.post("/crm/v8/users", oas="users.json", template="/crm/v8/users", json={"users": [{
        "first_name": "Invited", "last_name": f"Provider {run_id}", "email": email,
        "role": roles[-1]["id"], "profile": staff["id"]}]})
    assert resp.status_code == 201
    (item,) = resp.json()["users"]
    assert item["code"] == "SUCCESS" and item["details"]["id"]
    ledger.users.append(str(item["details"]["id"]))
    waiting = zoho.get("/crm/v8/users", params={"type": "NotConfirmedUsers"}, oas="users.json", template="/crm/v8/users")
    assert email in {u["email"] for u in waiting.json()["users"]}
