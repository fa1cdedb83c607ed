"""Data centres, editions and credit arithmetic of the client's configuration (no server)."""

from __future__ import annotations

import pytest

from clinic2zoho.zoho import DATA_CENTRES, ZohoConfig, daily_credit_limit, write_credits

SECRET = "s3cr3t-client-secret"
REFRESH = "1000.refresh-token-value"


def config(**kw):
    return ZohoConfig("client-id", SECRET, REFRESH, **kw)


@pytest.mark.parametrize(
    "dc, accounts, api, upload",
    [
        ("US", "https://accounts.zoho.com", "https://www.zohoapis.com", "https://content.zohoapis.com"),
        ("EU", "https://accounts.zoho.eu", "https://www.zohoapis.eu", "https://content.zohoapis.eu"),
        ("IN", "https://accounts.zoho.in", "https://www.zohoapis.in", "https://content.zohoapis.in"),
        ("AU", "https://accounts.zoho.com.au", "https://www.zohoapis.com.au", "https://content.zohoapis.com.au"),
        ("JP", "https://accounts.zoho.jp", "https://www.zohoapis.jp", "https://content.zohoapis.jp"),
        ("CN", "https://accounts.zoho.com.cn", "https://www.zohoapis.com.cn", "https://content.zohoapis.com.cn"),
        ("CA", "https://accounts.zohocloud.ca", "https://www.zohoapis.ca", "https://upload.zohocloud.ca"),
        ("SA", "https://accounts.zoho.sa", "https://www.zohoapis.sa", "https://files.zoho.sa"),
    ],
)
def test_each_data_centre_resolves_to_zohos_three_hosts(dc, accounts, api, upload):
    cfg = config(data_centre=dc.lower())
    assert (cfg.data_centre, cfg.accounts_base, cfg.api_base, cfg.upload_base) == (dc, accounts, api, upload)


def test_the_table_holds_exactly_the_eight_data_centres():
    assert sorted(DATA_CENTRES) == ["AU", "CA", "CN", "EU", "IN", "JP", "SA", "US"]


def test_explicit_urls_win_over_the_data_centre_and_lose_their_trailing_slash():
    cfg = config(data_centre=None, accounts_url="http://127.0.0.1:9/", api_url="http://127.0.0.1:9",
                 upload_url="http://127.0.0.1:9/up/")
    assert (cfg.accounts_base, cfg.api_base, cfg.upload_base) == (
        "http://127.0.0.1:9", "http://127.0.0.1:9", "http://127.0.0.1:9/up")
    partly = config(data_centre="EU", api_url="http://127.0.0.1:8")
    assert (partly.api_base, partly.accounts_base) == ("http://127.0.0.1:8", "https://accounts.zoho.eu")


def test_bad_configuration_is_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="unknown Zoho data centre 'XX'"):
        config(data_centre="XX")
    with pytest.raises(ValueError, match="needs a data_centre or all of"):
        config(data_centre=None, api_url="http://127.0.0.1:1")
    with pytest.raises(ValueError, match="unknown Zoho edition"):
        config(edition="Gold")
    with pytest.raises(ValueError, match="client_secret is empty"):
        ZohoConfig("id", "", REFRESH)
    with pytest.raises(ValueError, match="http"):
        config(data_centre=None, accounts_url="ftp://x", api_url="http://a", upload_url="http://b")


def test_secrets_never_appear_in_the_repr():
    text = repr(config()) + str(config())
    assert SECRET not in text and REFRESH not in text and "client-id" not in text


@pytest.mark.parametrize(
    "edition, users, credits, concurrency",
    [
        ("Free", 3, 5_000, 5),
        ("Starter", 10, 52_500, 10),  # the plan's "Starter" is Zoho's Standard
        ("Standard", 1_000, 100_000, 10),  # capped
        ("Professional", 10, 55_000, 15),
        ("Enterprise", 10, 60_000, 20),
        ("Enterprise", 10_000, 5_000_000, 20),  # capped
        ("Ultimate", 10, 70_000, 25),
    ],
)
def test_daily_credits_and_concurrency_follow_the_edition(edition, users, credits, concurrency):
    cfg = config(edition=edition, user_count=users)
    assert cfg.daily_credits == credits == daily_credit_limit(edition, users)
    assert cfg.concurrency == concurrency


def test_max_concurrency_overrides_the_edition():
    assert config(edition="Enterprise", max_concurrency=3).concurrency == 3


@pytest.mark.parametrize("records, credits", [(1, 1), (10, 1), (11, 2), (99, 10), (100, 10)])
def test_write_calls_cost_one_credit_per_ten_records(records, credits):
    assert write_credits(records) == credits


def test_from_mapping_ignores_unknown_keys():
    cfg = ZohoConfig.from_mapping({"client_id": "a", "client_secret": "b", "refresh_token": "c",
                                   "data_centre": "IN", "colour": "blue", "per_minute_credits": None})
    assert cfg.api_base == "https://www.zohoapis.in" and cfg.per_minute_credits is None
