"""A ZohoConfig from the environment (zoho/environment.py), as the commands build it."""

from __future__ import annotations

import argparse

import pytest

from clinic2zoho.zoho.environment import SECRET_VARS, add_zoho_arguments, config_from_env


@pytest.fixture
def secrets(monkeypatch):
    for name in SECRET_VARS:
        monkeypatch.setenv(name, f"{name.lower()}-value")
    for name in ("ZOHO_API_URL", "ZOHO_ACCOUNTS_URL", "ZOHO_UPLOAD_URL", "ZOHO_DATA_CENTRE"):
        monkeypatch.delenv(name, raising=False)


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_zoho_arguments(parser)
    return parser.parse_args(argv)


def test_an_api_url_stands_for_the_urls_not_given(secrets):
    config = config_from_env(_args("--api-url", "http://127.0.0.1:9", "--upload-url", "http://up"), edition="Standard")
    assert (config.api_url, config.accounts_url, config.upload_url) == ("http://127.0.0.1:9", "http://127.0.0.1:9",
                                                                        "http://up")
    assert config.data_centre is None and config.edition == "Standard"
    assert (config.client_id, config.refresh_token) == ("zoho_client_id-value", "zoho_refresh_token-value")


def test_the_options_default_to_the_environment(secrets, monkeypatch):
    monkeypatch.setenv("ZOHO_DATA_CENTRE", "EU")
    assert config_from_env(_args()).accounts_base.endswith("zoho.eu")


def test_unset_secrets_and_no_place_are_named(secrets, monkeypatch):
    with pytest.raises(SystemExit, match="say where Zoho is"):
        config_from_env(_args())
    monkeypatch.delenv("ZOHO_REFRESH_TOKEN")
    with pytest.raises(SystemExit, match=r"^set ZOHO_REFRESH_TOKEN in the environment$"):
        config_from_env(_args("--data-centre", "US"))
    with pytest.raises(SystemExit, match=r"^set ZOHO_REFRESH_TOKEN \(or pass --offline"):
        config_from_env(_args("--data-centre", "US"), unset_hint="(or pass --offline where the command allows it)")
