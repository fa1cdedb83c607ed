"""OAuth over real HTTP: the token is cached, renewed before expiry and after 401 INVALID_TOKEN,
shared by threads; bad credentials fail clearly without printing a secret."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from clinic2zoho.zoho import ZohoAuthError, ZohoClient
from tests.zoho.conftest import config_for



@pytest.fixture
def server(zoho_server):
    """A fresh server per test: these tests change its settings or clock."""
    return zoho_server

def test_one_token_serves_many_calls(make_client):
    client, calls = make_client()
    for _ in range(5):
        client.org()
    assert client.token_refreshes == 1
    assert len(calls.of(path="/oauth/v2/token")) == 1
    assert all(e.outcome == "ok" for e in calls.events)


def test_a_short_lived_token_is_renewed_before_it_expires(zoho_server, make_client):
    zoho_server.settings(token_lifetime=1)
    client, calls = make_client()
    client.org()
    time.sleep(1.1)
    client.org()
    assert client.token_refreshes == 2
    assert not calls.of(outcome="auth")  # renewed ahead of time: Zoho never had to refuse it


def test_a_token_zoho_stops_accepting_is_renewed_on_401(zoho_server, make_client):
    client, calls = make_client()
    client.org()
    zoho_server.advance_clock(4000)  # past the server's one-hour token lifetime
    assert client.users()
    assert [e.code for e in calls.of(outcome="auth")] == ["INVALID_TOKEN"]
    assert client.token_refreshes == 2


def test_threads_share_one_token(make_client):
    client, calls = make_client(max_concurrency=4)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(3):
                client.modules()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert client.token_refreshes == 1 and len(calls.of(path="/crm/v8/settings/modules")) == 24


def test_bad_credentials_raise_an_auth_error_without_secrets(zoho_server, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-secret-value-42"
    client = ZohoClient(config_for(zoho_server, client_secret=wrong))
    with pytest.raises(ZohoAuthError) as info:
        client.org()
    text = str(info.value) + repr(info.value) + caplog.text + repr(client)
    assert "refresh token grant" in str(info.value)
    for secret in (wrong, zoho_server.refresh_token):
        assert secret not in text
    client.close()


def test_a_revoked_refresh_token_is_an_auth_error(zoho_server):
    client = ZohoClient(config_for(zoho_server, refresh_token="1000.not-a-refresh-token"))
    with pytest.raises(ZohoAuthError):
        client.org()
    client.close()
