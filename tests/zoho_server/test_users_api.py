"""Zoho's Users API on the local server: GET /users by type, POST /users (an invitation: the new
user is active but unconfirmed until accepted and owns no record until then), GET /settings/roles.
Expected shapes come from users.json / roles.json and Zoho's get-users and add-user pages."""

from __future__ import annotations

import pytest

from tests.zoho_server.conftest import api_client
from tests.zoho_server.oas import Conformance, prepare

pytestmark = pytest.mark.xdist_group("zoho_oas")


@pytest.fixture(scope="module")
def oas(tmp_path_factory) -> Conformance:
    return Conformance(prepare(tmp_path_factory.mktemp("zoho-oas")))


def check(oas, spec, resp, template, query=None):
    oas.check(spec, resp.request.method, resp.request.url.path, template, resp.status_code, resp.json(), query)


def ids_of(api, kind):
    resp = api.get("/crm/v8/users", params={"type": kind})
    return set() if resp.status_code == 204 else {u["id"] for u in resp.json()["users"]}


def invite(api, email="dr.new@clinic.example", **extra):
    roles = {r["name"]: r["id"] for r in api.get("/crm/v8/settings/roles").json()["roles"]}
    standard = next(u["profile"]["id"] for u in api.get("/crm/v8/users").json()["users"]
                    if u["profile"]["name"] == "Standard")
    user = {"first_name": "New", "last_name": "Doctor", "email": email, "role": roles["Manager"], "profile": standard}
    return api.post("/crm/v8/users", json={"users": [{**user, **extra}]})


def test_added_user_is_active_but_unconfirmed_until_the_invitation_is_accepted(zoho_server, oas):
    with api_client(zoho_server) as api:
        resp = invite(api)
        # add-user.html: 201 {"users": [{"code": "SUCCESS", "details": {"id"}, "message": "User added", ...}]}
        assert resp.status_code == 201, resp.text
        item = resp.json()["users"][0]
        assert (item["code"], item["status"], item["message"]) == ("SUCCESS", "success", "User added")
        check(oas, "users.json", resp, "/crm/v8/users")
        uid = item["details"]["id"]
        new = api.get(f"/crm/v8/users/{uid}").json()["users"][0]
        assert (new["status"], new["confirm"], new["email"]) == ("active", False, "dr.new@clinic.example")
        assert (new["role"]["name"], new["profile"]["name"]) == ("Manager", "Standard")
        # get-users.html: ActiveUsers lists active users, ActiveConfirmedUsers active *and* confirmed ones
        assert uid in ids_of(api, "AllUsers") and uid in ids_of(api, "ActiveUsers")
        assert uid in ids_of(api, "NotConfirmedUsers")
        assert uid not in ids_of(api, "ActiveConfirmedUsers") | ids_of(api, "ConfirmedUsers")
        owned = api.post("/crm/v8/Contacts", json={"data": [{"Last_Name": "Owned", "Owner": {"id": uid}}]})
        assert owned.status_code == 400
        assert owned.json()["data"][0]["details"]["api_name"] == "Owner"
        zoho_server.accept_invitation(uid)
        assert uid in ids_of(api, "ActiveConfirmedUsers") and uid not in ids_of(api, "NotConfirmedUsers")
        owned = api.post("/crm/v8/Contacts", json={"data": [{"Last_Name": "Owned", "Owner": {"id": uid}}]})
        assert owned.status_code == 201, owned.text


def test_unconfirmed_owner_is_a_setting(zoho_server):
    zoho_server.settings(unconfirmed_users_own_records=True)
    with api_client(zoho_server) as api:
        uid = invite(api).json()["users"][0]["details"]["id"]
        owned = api.post("/crm/v8/Contacts", json={"data": [{"Last_Name": "Owned", "Owner": {"id": uid}}]})
        assert owned.status_code == 201, owned.text


def test_add_user_refusals_follow_zoho(zoho_server):
    zoho_server.settings(user_count=4)
    with api_client(zoho_server) as api:
        missing = invite(api, role="")
        assert missing.status_code == 400
        assert missing.json()["users"][0]["code"] == "MANDATORY_NOT_FOUND"
        assert missing.json()["users"][0]["details"]["api_name"] == "role"
        bad_profile = invite(api, profile="111")
        assert bad_profile.json()["users"][0]["code"] == "INVALID_DATA"
        taken = invite(api, email="Dr.Rivera@clinic.example")
        assert taken.json()["users"][0]["code"] == "DUPLICATE_DATA"
        one = {"first_name": "A", "last_name": "B", "email": "a@b.example", "role": "1", "profile": "1"}
        two = api.post("/crm/v8/users", json={"users": [one, {**one, "email": "c@d.example"}]})
        assert two.status_code == 400  # add-user.html: one user per POST request
        assert invite(api).status_code == 201  # the fourth licence
        full = invite(api, email="fifth@clinic.example")
        assert full.json()["users"][0]["code"] == "LICENSE_LIMIT_EXCEEDED"
        assert len(ids_of(api, "AllUsers")) == 5  # nothing added by a refused call


def test_roles_list_matches_roles_json(zoho_server, oas):
    with api_client(zoho_server) as api:
        resp = api.get("/crm/v8/settings/roles")
        assert resp.status_code == 200
        check(oas, "roles.json", resp, "/crm/v8/settings/roles")
        roles = {r["name"]: r for r in resp.json()["roles"]}
        users = api.get("/crm/v8/users").json()["users"]
        # every user's role is one the roles API lists, by id
        assert {u["role"]["id"] for u in users} <= {r["id"] for r in roles.values()}


def test_client_adds_a_user_and_reads_roles(zoho_server):
    from clinic2zoho.zoho import ZohoClient, ZohoConfig

    config = ZohoConfig(zoho_server.client_id, zoho_server.client_secret, zoho_server.refresh_token, data_centre=None,
                        accounts_url=zoho_server.base_url, api_url=zoho_server.base_url, upload_url=zoho_server.base_url)
    with ZohoClient(config) as client:
        role = next(r for r in client.roles() if r["name"] == "Manager")
        profile = next(p["id"] for p in client.profiles() if p["name"] == "Standard")
        # the profile the Users API answers for a seeded standard user is the one the Profiles API lists
        assert profile == next(u["profile"]["id"] for u in client.users("AllUsers") if u["profile"]["name"] == "Standard")
        user = {"first_name": "Ines", "last_name": "Okafor", "email": "ines@clinic.example", "role": role["id"],
                "profile": profile}
        added = client.add_user(user)
        assert added.ok and added.id
        again = client.add_user(user)
        assert not again.ok and again.code == "DUPLICATE_DATA"
        assert [u["email"] for u in client.users("NotConfirmedUsers")] == ["ines@clinic.example"]
