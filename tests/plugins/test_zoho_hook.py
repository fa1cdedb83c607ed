"""The Airflow hook: a Connection from an AIRFLOW_CONN_ environment variable becomes a cached,
throttled ZohoClient; bad credentials name the Connection and never print a secret."""

from __future__ import annotations

import json

import pytest

from clinic2zoho.zoho import ZohoClient, ZohoConfig
from clinic2zoho.zoho.connection import config_from_connection, connection_json

pytest.importorskip("airflow")
from airflow.sdk.exceptions import AirflowException  # noqa: E402

from clinic2zoho_airflow.hooks.zoho import ZohoHook  # noqa: E402

SECRET = "hook-secret-value-123"
REFRESH = "1000.hook-refresh-token-456"


def set_connection(monkeypatch, conn_id: str, **fields) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "zoho", **fields}))


def server_connection(server, **extra) -> dict:
    return {
        "login": server.client_id,
        "password": server.client_secret,
        "extra": {"refresh_token": server.refresh_token, "accounts_url": server.accounts_url,
                  "api_url": server.api_url, "upload_url": server.upload_url, **extra},
    }


def test_connection_with_a_data_centre_builds_the_config_and_pool_size(monkeypatch):
    set_connection(monkeypatch, "zoho_eu", login="cid", password=SECRET,
                   extra={"refresh_token": REFRESH, "data_centre": "EU", "edition": "Professional",
                          "user_count": "20", "per_minute_credits": 2500})
    hook = ZohoHook(zoho_conn_id="zoho_eu")
    cfg = hook.config
    assert (cfg.api_base, cfg.accounts_base, cfg.upload_base) == (
        "https://www.zohoapis.eu", "https://accounts.zoho.eu", "https://content.zohoapis.eu")
    assert (cfg.edition, cfg.user_count, cfg.per_minute_credits) == ("Professional", 20, 2500)
    assert hook.pool_slots() == 15
    assert hook.conn is hook.conn and isinstance(hook.conn, ZohoClient)


def test_host_stands_for_all_three_urls(monkeypatch):
    set_connection(monkeypatch, "zoho_local", login="cid", password=SECRET, host="127.0.0.1", port=8765,
                   extra={"refresh_token": REFRESH, "edition": "Starter", "max_concurrency": 4})
    hook = ZohoHook(zoho_conn_id="zoho_local")
    assert hook.config.api_base == hook.config.accounts_base == hook.config.upload_base == "http://127.0.0.1:8765"
    assert hook.pool_slots() == 4


def test_a_connection_missing_fields_names_itself_and_what_is_missing(monkeypatch):
    set_connection(monkeypatch, "zoho_half", login="cid", password=SECRET, extra={"data_centre": "US"})
    with pytest.raises(AirflowException) as info:
        ZohoHook(zoho_conn_id="zoho_half").config
    message = str(info.value)
    assert "'zoho_half'" in message and "extra.refresh_token" in message and SECRET not in message


def test_a_bad_data_centre_names_the_connection(monkeypatch):
    set_connection(monkeypatch, "zoho_mars", login="cid", password=SECRET,
                   extra={"refresh_token": REFRESH, "data_centre": "MARS"})
    with pytest.raises(AirflowException, match="'zoho_mars'.*MARS"):
        ZohoHook(zoho_conn_id="zoho_mars").config


def test_connection_json_round_trips_through_the_connection_fields():
    cfg = ZohoConfig("cid", SECRET, REFRESH, data_centre=None, accounts_url="http://127.0.0.1:1",
                     api_url="http://127.0.0.1:1", upload_url="http://127.0.0.1:1", edition="Professional",
                     user_count=12, per_minute_credits=2500)
    conn = json.loads(connection_json(cfg))
    back = config_from_connection("x", login=conn["login"], password=conn["password"], extra=conn["extra"])
    assert back == cfg


def test_hook_talks_to_the_local_server(monkeypatch, zoho_server):
    set_connection(monkeypatch, "zoho_default", **server_connection(zoho_server))
    hook = ZohoHook()
    client = hook.get_conn()
    assert client is hook.get_conn()
    assert hook.test_connection()[0] is True
    assert client.users(type="ActiveUsers")


def test_bad_credentials_name_the_connection_and_print_no_secret(monkeypatch, zoho_server, caplog):
    wrong_secret = "definitely-wrong-secret-789"
    conn = server_connection(zoho_server)
    conn["password"] = wrong_secret
    set_connection(monkeypatch, "zoho_wrong", **conn)
    hook = ZohoHook(zoho_conn_id="zoho_wrong")
    with pytest.raises(AirflowException) as info:
        hook.get_conn()
    message = str(info.value)
    assert "'zoho_wrong'" in message and "refused the credentials" in message
    for secret in (wrong_secret, zoho_server.refresh_token, zoho_server.client_secret):
        assert secret not in message
        assert secret not in caplog.text
    ok, text = hook.test_connection()
    assert ok is False and wrong_secret not in text
