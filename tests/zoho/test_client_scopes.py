"""The client's scopes: the list it needs is the one README asks a clinic to grant, and a token
lacking a scope stops the work at once (401 OAUTH_SCOPE_MISMATCH is not retried) with a message
naming what to grant, never the token."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clinic2zoho.zoho import ZohoAuthError
from clinic2zoho.zoho.refusals import explain, stops_work
from clinic2zoho.zoho.scopes import REQUIRED_SCOPES, missing_scopes
from clinic2zoho.zoho_server.scopes import DEFAULT_GRANT

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def server(zoho_server):
    """A fresh server per test: these tests narrow its grant."""
    return zoho_server


def test_readme_lists_exactly_the_scopes_the_client_needs():
    section = README.read_text(encoding="utf-8").split("### 7. A real Zoho org", 1)[1].split("###", 1)[0]
    listed = set(re.findall(r"`(Zoho(?:CRM|Files)\.[A-Za-z_.]+)`", section))
    assert listed == set(REQUIRED_SCOPES)
    assert set(DEFAULT_GRANT) == set(REQUIRED_SCOPES)  # the local org grants what a clinic is told to grant


def test_the_token_answer_grant_is_read_and_compared(server, make_client):
    client, _ = make_client()
    client.check_credentials()
    assert set(client.granted_scopes or ()) == set(DEFAULT_GRANT) and missing_scopes(client.granted_scopes) == []
    server.settings(granted_scopes=["ZohoCRM.modules.ALL", "ZohoCRM.org.READ"])
    narrow, _ = make_client()
    narrow.check_credentials()
    assert missing_scopes(narrow.granted_scopes) == ["ZohoCRM.settings.ALL", "ZohoCRM.users.ALL", "ZohoCRM.bulk.ALL",
                                                     "ZohoCRM.coql.READ", "ZohoFiles.files.ALL"]


def test_a_missing_scope_stops_at_once_and_says_what_to_grant(server, make_client):
    server.settings(granted_scopes=["ZohoCRM.modules.contacts.READ", "ZohoCRM.org.READ"])
    client, calls = make_client()
    with pytest.raises(ZohoAuthError) as info:
        client.insert("Contacts", [{"Last_Name": "Scoped"}])
    exc = info.value
    assert (exc.status, exc.code) == (401, "OAUTH_SCOPE_MISMATCH")
    assert len(calls.of(method="POST", path="/crm/v8/Contacts")) == 1  # not retried: retrying cannot add a scope
    assert stops_work(exc)
    message = explain(exc, resume="Rerun")
    assert "OAUTH_SCOPE_MISMATCH" in message and "POST /crm/v8/Contacts" in message
    assert all(scope in message for scope in REQUIRED_SCOPES)
    assert server.refresh_token not in message and server.client_secret not in message
