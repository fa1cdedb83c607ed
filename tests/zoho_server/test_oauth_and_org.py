"""OAuth refresh-token grant, the Zoho-oauthtoken header, org and users over real HTTP."""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures.zoho import DEFAULT_ZOHO_USERS


def grant(server, **override):
    data = {"grant_type": "refresh_token", "client_id": server.client_id, "client_secret": server.client_secret,
            "refresh_token": server.refresh_token, **override}
    return httpx.post(f"{server.accounts_url}/oauth/v2/token", data=data)


def test_refresh_grant_answers_a_token_whose_api_domain_is_the_server(zoho_server):
    body = grant(zoho_server).json()
    assert body["api_domain"] == zoho_server.base_url
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["access_token"].startswith("1000.")


def test_wrong_client_secret_and_refresh_token_are_refused_like_zoho(zoho_server):
    assert grant(zoho_server, client_secret="nope").json() == {"error": "invalid_client"}
    assert grant(zoho_server, client_id="1000.OTHER").json() == {"error": "invalid_client"}
    assert grant(zoho_server, refresh_token="1000.nope").json() == {"error": "invalid_code"}


def test_api_calls_without_a_valid_token_get_401_invalid_token(zoho_server):
    for headers in ({}, {"Authorization": "Zoho-oauthtoken 1000.bogus"}, {"Authorization": "Bearer x"}):
        for resp in (httpx.get(f"{zoho_server.api_url}/crm/v8/org", headers=headers),
                     httpx.post(f"{zoho_server.api_url}/crm/v8/NoSuchModule", headers=headers, json={"data": [{}]})):
            assert resp.status_code == 401
            assert resp.json()["code"] == "INVALID_TOKEN"


def test_tokens_expire_after_their_lifetime_on_the_server_clock(zoho_server):
    zoho_server.settings(token_lifetime=60)
    token = grant(zoho_server).json()["access_token"]
    headers = {"Authorization": f"Zoho-oauthtoken {token}"}
    assert httpx.get(f"{zoho_server.api_url}/crm/v8/org", headers=headers).status_code == 200
    zoho_server.advance_clock(61)
    resp = httpx.get(f"{zoho_server.api_url}/crm/v8/org", headers=headers)
    assert resp.status_code == 401 and resp.json()["code"] == "INVALID_TOKEN"


def test_org_reports_type_edition_and_id(zoho_server_factory):
    sandbox = zoho_server_factory("sandbox", settings={"org_type": "sandbox", "company_name": "Sandbox Clinic"},
                                  edition="Professional")
    token = grant(sandbox).json()["access_token"]
    org = httpx.get(f"{sandbox.api_url}/crm/v8/org", headers={"Authorization": f"Zoho-oauthtoken {token}"}).json()["org"][0]
    assert org["type"] == "Sandbox"  # org.json: Production, Sandbox, Developer, Bigin
    assert org["company_name"] == "Sandbox Clinic"
    assert org["license_details"]["paid_type"] == "professional"
    assert org["id"] == sandbox.org_id and org["zgid"] == sandbox.zgid


def test_users_by_type_from_the_users_file(api):
    active = api.get("/crm/v8/users", params={"type": "ActiveUsers"}).json()["users"]
    assert [u["email"] for u in active] == [u["email"] for u in DEFAULT_ZOHO_USERS if u["status"] == "active"]
    assert all(u["id"].isdigit() and len(u["id"]) == 19 for u in active)
    current = api.get("/crm/v8/users", params={"type": "CurrentUser"}).json()["users"]
    assert [u["email"] for u in current] == ["admin@clinic.example"]
    inactive = api.get("/crm/v8/users", params={"type": "DeactiveUsers"}).json()["users"]
    assert [u["email"] for u in inactive] == ["former@clinic.example"]
    assert len(api.get("/crm/v8/users", params={"type": "AllUsers"}).json()["users"]) == 4
    one = api.get(f"/crm/v8/users/{active[1]['id']}").json()["users"][0]
    assert one["full_name"] == "Ana Rivera"


def test_user_ids_given_in_the_file_are_kept_and_missing_ones_are_stable(zoho_server_factory):
    users = [{"id": "4150868000000225013", "email": "boss@x.example", "full_name": "Boss One", "status": "active"},
             {"email": "second@x.example", "full_name": "Second Person", "status": "active"}]
    first = zoho_server_factory("a", users=users)
    token = grant(first).json()["access_token"]
    got = httpx.get(f"{first.api_url}/crm/v8/users", headers={"Authorization": f"Zoho-oauthtoken {token}"}).json()["users"]
    assert got[0]["id"] == "4150868000000225013" and got[0]["profile"]["name"] == "Administrator"
    second = zoho_server_factory("b", users=users)
    token2 = grant(second).json()["access_token"]
    got2 = httpx.get(f"{second.api_url}/crm/v8/users", headers={"Authorization": f"Zoho-oauthtoken {token2}"}).json()["users"]
    assert got2[1]["id"] == got[1]["id"]


def test_a_server_whose_port_another_org_holds_does_not_start_as_that_org(zoho_server_factory):
    """Two servers that picked the same free port: the one that could not bind must not take the
    other's answer for its own (its credentials would reach another org)."""
    holder = zoho_server_factory("holder")
    with pytest.raises(RuntimeError, match=f"did not start on 127.0.0.1:{holder.port}"):
        zoho_server_factory("late", port=holder.port)
    assert httpx.get(f"{holder.base_url}/__health").json()["org_id"] == holder.org_id
