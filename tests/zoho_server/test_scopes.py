"""OAuth scopes: the token answer says what was granted, and each route refuses a grant that
does not cover it with 401 OAUTH_SCOPE_MISMATCH (Zoho's scope docs and the OAS `security` blocks)."""

from __future__ import annotations

import httpx
import pytest

from clinic2zoho.zoho_server.scopes import covers, required
from tests.zoho_server.conftest import api_client, zip_csv

# share_records.json's error enum; the 401 of ZOHO_API.md ("INVALID_TOKEN and OAUTH_SCOPE_MISMATCH 401")
MISMATCH = {"code": "OAUTH_SCOPE_MISMATCH", "details": {}, "message": "invalid oauth scope to access this URL",
            "status": "error"}


def token_answer(server) -> dict:
    resp = httpx.post(f"{server.accounts_url}/oauth/v2/token", data={
        "grant_type": "refresh_token", "client_id": server.client_id, "client_secret": server.client_secret,
        "refresh_token": server.refresh_token}, timeout=10.0)
    return resp.json()


@pytest.mark.parametrize(("granted", "needed", "ok"), [
    # scopes.html: ALL gives every operation; a module scope sits under ZohoCRM.modules
    ("ZohoCRM.modules.ALL", "ZohoCRM.modules.contacts.READ", True),
    ("ZohoCRM.modules.READ", "ZohoCRM.modules.contacts.READ", True),  # COQL page: ZohoCRM.modules.{operation_type}
    ("ZohoCRM.modules.contacts.READ", "ZohoCRM.modules.contacts.CREATE", False),
    ("ZohoCRM.modules.contacts.READ", "ZohoCRM.modules.accounts.READ", False),
    ("ZohoCRM.modules.contacts.WRITE", "ZohoCRM.modules.contacts.DELETE", True),  # WRITE: CREATE, UPDATE, DELETE
    ("ZohoCRM.modules.contacts.WRITE", "ZohoCRM.modules.contacts.READ", False),
    ("ZohoCRM.settings.ALL", "ZohoCRM.settings.fields.CREATE", True),
    ("ZohoCRM.org.all", "ZohoCRM.org.READ", True),  # org.json writes the scope in lower case
    ("ZohoCRM.bulk.ALL", "ZohoFiles.files.ALL", False),
])
def test_a_grant_covers_narrower_scopes_of_its_own_family(granted, needed, ok):
    assert covers(granted, needed) is ok


def test_routes_ask_for_the_scopes_zoho_documents():
    assert required("POST", "/crm/v8/upload") == [["ZohoFiles.files.ALL"]]  # upload-file page
    assert required("POST", "/crm/bulk/v8/write") == [["ZohoCRM.bulk.CREATE"]]  # create-job page
    assert required("GET", "/crm/v8/settings/layouts") == [["ZohoCRM.settings.layouts.READ"]]  # layouts.json
    assert required("POST", "/crm/v8/coql") == [["ZohoCRM.coql.READ"]]  # COQL page
    assert required("POST", "/crm/v8/Leads/upsert") == [["ZohoCRM.modules.leads.CREATE"]]  # upsert page
    assert required("GET", "/crm/v8/Contacts/12/Attachments") == [
        ["ZohoCRM.modules.contacts.READ", "ZohoCRM.modules.attachments.READ"]]  # attachments.json
    assert required("GET", "/crm/v8/Treatments/5", lambda m: True) == [
        ["ZohoCRM.modules.treatments.READ", "ZohoCRM.modules.custom.READ"]]  # "possible module names: ... custom"
    assert required("GET", "/crm/v9/anything") == [["ZohoCRM.modules.ALL"]]  # unmatched: the strict default


def test_token_answer_names_the_grant_and_a_narrow_grant_is_refused_per_route(zoho_server):
    assert set(token_answer(zoho_server)["scope"].split()) >= {"ZohoCRM.bulk.ALL", "ZohoFiles.files.ALL",
                                                               "ZohoCRM.settings.ALL", "ZohoCRM.coql.READ"}
    zoho_server.settings(granted_scopes=["ZohoCRM.modules.contacts.READ", "ZohoCRM.org.READ"])
    assert token_answer(zoho_server)["scope"] == "ZohoCRM.modules.contacts.READ ZohoCRM.org.READ"
    with api_client(zoho_server) as api:
        assert api.get("/crm/v8/org").status_code == 200
        assert api.get("/crm/v8/Contacts", params={"fields": "Last_Name"}).status_code in (200, 204)
        refused = [
            api.post("/crm/v8/Contacts", json={"data": [{"Last_Name": "Nope"}]}),
            api.get("/crm/v8/Accounts", params={"fields": "Account_Name"}),
            api.get("/crm/v8/users"),
            api.get("/crm/v8/settings/fields", params={"module": "Contacts"}),
            api.post("/crm/v8/upload", files={"file": ("a.zip", zip_csv("Last_Name\nA\n"), "application/zip")},
                     headers={"feature": "bulk-write", "X-CRM-ORG": zoho_server.zgid}),
            api.post("/crm/bulk/v8/write", json={"operation": "insert", "resource": []}),
        ]
        for resp in refused:
            assert (resp.status_code, resp.json()) == (401, MISMATCH), resp.request.url
    assert zoho_server.snapshot()["data"].get("Contacts") is None  # the refused insert wrote nothing


def test_bulk_write_needs_the_module_scope_as_well_as_the_bulk_scope(zoho_server):
    zoho_server.settings(granted_scopes=["ZohoCRM.bulk.ALL", "ZohoFiles.files.ALL", "ZohoCRM.modules.accounts.ALL"])
    with api_client(zoho_server) as api:
        up = api.post("/crm/v8/upload", files={"file": ("c.zip", zip_csv("Last_Name\nA\n"), "application/zip")},
                      headers={"feature": "bulk-write", "X-CRM-ORG": zoho_server.zgid})
        assert up.status_code == 200
        job = {"operation": "insert", "resource": [{"type": "data", "module": {"api_name": "Contacts"},
                                                    "file_id": up.json()["details"]["file_id"]}]}
        assert (api.post("/crm/bulk/v8/write", json=job).json()) == MISMATCH
        zoho_server.settings(granted_scopes=["ZohoCRM.bulk.ALL", "ZohoFiles.files.ALL", "ZohoCRM.modules.contacts.CREATE"])
        assert api.post("/crm/bulk/v8/write", json=job).status_code == 201


def test_coql_needs_the_coql_scope_and_the_queried_modules_read(zoho_server):
    # Get-Records-through-COQL page: ZohoCRM.coql.READ and ZohoCRM.modules.{module}.{READ|ALL}
    query = {"select_query": "select Last_Name from Contacts where Last_Name is not null limit 5"}
    zoho_server.settings(granted_scopes=["ZohoCRM.modules.ALL"])
    with api_client(zoho_server) as api:
        assert api.post("/crm/v8/coql", json=query).json() == MISMATCH
        zoho_server.settings(granted_scopes=["ZohoCRM.coql.READ", "ZohoCRM.modules.accounts.READ"])
        assert api.post("/crm/v8/coql", json=query).json() == MISMATCH
        zoho_server.settings(granted_scopes=["ZohoCRM.coql.READ", "ZohoCRM.modules.contacts.READ"])
        assert api.post("/crm/v8/coql", json=query).status_code in (200, 204)
