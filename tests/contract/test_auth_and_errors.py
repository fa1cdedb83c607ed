"""Tokens, scopes, credits and the errors every call can meet. Sources: Zoho's OAuth pages
(https://www.zoho.com/crm/developer/docs/api/v8/refresh.html), the scopes page
(https://www.zoho.com/crm/developer/docs/api/v8/scopes.html), the API limits page
(https://www.zoho.com/crm/developer/docs/api/v8/api-limits.html), record.json's API_Exception
(codes INVALID_TOKEN, OAUTH_SCOPE_MISMATCH, INVALID_URL_PATTERN, INVALID_REQUEST_METHOD)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

ERROR_KEYS = {"code", "details", "message", "status"}


def one_contact(zoho) -> httpx.Response:
    return zoho.get("/crm/v8/Contacts", params={"fields": "Last_Name", "per_page": 1}, oas="record.json",
                    template="/crm/v8/{module_api_name}")


@pytest.fixture
def restore_settings(local_server) -> Iterator:
    """Settings a test changes on the shared local org, put back afterwards."""
    before = local_server._admin("GET", "/__admin/settings")
    yield local_server
    local_server.settings(**{k: before[k] for k in ("granted_scopes", "daily_credits", "credits_header_threshold") if k in before})


def test_token_grant_answers_what_the_client_reads(contract_org):
    """Refresh-token grant: 200 `{access_token, expires_in: 3600, api_domain, token_type}`
    (common.json; Zoho's refresh page)."""
    resp = httpx.post(f"{contract_org.config.accounts_base}/oauth/v2/token", timeout=30.0, data={
        "grant_type": "refresh_token", "client_id": contract_org.config.client_id,
        "client_secret": contract_org.config.client_secret, "refresh_token": contract_org.config.refresh_token})
    assert resp.status_code == 200
    body = resp.json()
    assert body["access_token"] and body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["api_domain"].startswith(("http://", "https://"))


def test_a_wrong_token_is_401_invalid_token(contract_org, zoho):
    """record.json API_Exception INVALID_TOKEN "invalid oauth token", HTTP 401: the client renews
    its token on this answer and only this one."""
    with contract_org.http(token="1000.not-a-token") as bad:
        resp = bad.get("/crm/v8/Contacts", params={"fields": "Last_Name"})
    assert resp.status_code == 401
    body = resp.json()
    assert set(body) == ERROR_KEYS and body["code"] == "INVALID_TOKEN" and body["status"] == "error"
    zoho.oas.check_auth_error(body)


@pytest.mark.local_only
def test_a_token_without_the_scope_is_401_oauth_scope_mismatch(contract_org, restore_settings, zoho):
    """Scopes page: a call outside the token's scopes is 401 OAUTH_SCOPE_MISMATCH (record.json
    API_Exception); a grant without ZohoCRM.bulk.ALL cannot create a Bulk Write job, one without
    ZohoCRM.settings.ALL cannot read fields, while record calls still work."""
    restore_settings.settings(granted_scopes=["ZohoCRM.modules.ALL", "ZohoCRM.org.ALL", "ZohoCRM.users.READ"])
    with contract_org.http(token=contract_org.token(fresh=True)) as narrow:
        assert narrow.get("/crm/v8/Contacts", params={"fields": "Last_Name"}).status_code in (200, 204)
        fields = narrow.get("/crm/v8/settings/fields", params={"module": "Contacts"})
        job = narrow.post("/crm/bulk/v8/write", json={"operation": "insert", "resource": []})
    for resp in (fields, job):
        assert resp.status_code == 401, resp.request.url.path
        assert set(resp.json()) == ERROR_KEYS and resp.json()["code"] == "OAUTH_SCOPE_MISMATCH"
        zoho.oas.check_auth_error(resp.json())


def test_an_unknown_path_or_method_answers_zohos_json_error(zoho):
    """Zoho answers every /crm/ call with its JSON error shape, an unknown URL too
    (INVALID_URL_PATTERN "Please check if the URL trying to access is a correct one") and a
    method the URL does not take (INVALID_REQUEST_METHOD): never plain text."""
    for method, path in (("GET", "/crm/v8/org/no/such/path"), ("PATCH", "/crm/v8/org")):
        resp = zoho.http.request(method, path)
        assert 400 <= resp.status_code < 500, (method, path)
        assert resp.headers["content-type"].startswith("application/json"), (method, path, resp.text[:80])
        assert set(resp.json()) == ERROR_KEYS and resp.json()["status"] == "error"
        assert resp.json()["code"] in ("INVALID_URL_PATTERN", "INVALID_REQUEST_METHOD")


def test_credit_header_when_present_is_the_remaining_count(zoho):
    """API limits page: X-API-CREDITS-REMAINING carries the credits left in the rolling 24 hours;
    when an answer carries it, it is a non-negative integer and falls as calls are made."""
    values = []
    for _ in range(2):
        resp = one_contact(zoho)
        if "X-API-CREDITS-REMAINING" in resp.headers:
            values.append(int(resp.headers["X-API-CREDITS-REMAINING"]))
    assert all(v >= 0 for v in values)
    assert values == sorted(values, reverse=True)


@pytest.mark.local_only
def test_credit_header_appears_past_half_the_days_budget(restore_settings, zoho):
    """*Secondary source* (ZOHO_API.md: "appears past 50% use"; the server's
    credits_header_threshold): with most of the day's budget left there is no header; past half
    it shows the credits left."""
    used = restore_settings.credits()["used"]
    restore_settings.settings(daily_credits=used * 10 + 1000, credits_header_threshold=0.5)
    assert "X-API-CREDITS-REMAINING" not in one_contact(zoho).headers
    for _ in range(3):
        one_contact(zoho)
    used = restore_settings.credits()["used"]  # >= 4: a budget of used + 3 is more than half spent
    restore_settings.settings(daily_credits=used + 3)
    assert int(one_contact(zoho).headers["X-API-CREDITS-REMAINING"]) == 2  # this call cost one credit
