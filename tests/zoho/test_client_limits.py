"""Credits, 429 and concurrency as the client sees them against the local server."""

from __future__ import annotations

import threading

import pytest

from clinic2zoho.zoho import ZohoRateLimited
from clinic2zoho.zoho.bulk_files import write_bulk_zips
from tests.zoho.conftest import contacts, ensure_external_field, unique


@pytest.fixture
def server(zoho_server):
    """A fresh server per test: these tests change its settings or clock."""
    return zoho_server


def test_credit_arithmetic_matches_the_server(zoho_server, make_client):
    client, calls = make_client()
    ext = ensure_external_field(client)
    before = zoho_server.credits()
    tag = unique("cred")
    client.insert("Contacts", contacts(100, tag))  # 10
    client.insert("Contacts", contacts(25, tag + "b"))  # 3
    client.update("Contacts", [{"Clinic_Patient_Id": f"{tag}-1", "First_Name": "X"}], external_field=ext)  # 1
    client.get_by_external("Contacts", ext, f"{tag}-1")  # 1
    list(client.search("Contacts", f"({ext}:equals:{tag}-2)"))  # 1
    after = zoho_server.credits()
    assert sum(e.credits for e in calls.events if e.path.startswith("/crm/v8/Contacts")) == 10 + 3 + 1 + 1 + 1
    assert after["used"] - before["used"] == sum(e.credits for e in calls.events[-5:]) == 16
    # under half the day's budget Zoho sends no X-API-CREDITS-REMAINING (ZOHO_API.md: past 50% use)
    assert after["used"] < after["limit"] / 2 and client.credits_remaining is None
    zoho_server.settings(daily_credits=2 * after["used"])
    client.get_by_external("Contacts", ext, f"{tag}-1")
    now = zoho_server.credits()
    assert client.credits_remaining == now["remaining"] == now["limit"] - now["used"]


def test_a_bulk_job_costs_500_credits(zoho_server, make_client, tmp_path):
    client, calls = make_client()
    ensure_external_field(client)
    (bf,) = write_bulk_zips(contacts(5, unique("bcred")), ["Last_Name", "Clinic_Patient_Id"], tmp_path)
    file_id = client.bulk_upload(bf.path)
    before = zoho_server.credits()["used"]
    client.bulk_create_job("Contacts", file_id, ["Last_Name", "Clinic_Patient_Id"])
    assert zoho_server.credits()["used"] - before == calls.events[-1].credits == 500


def test_daily_budget_exhausted_stops_without_hammering(zoho_server, make_client):
    zoho_server.settings(daily_credits=zoho_server.credits()["used"] + 5)
    client, calls = make_client()
    done = 0
    with pytest.raises(ZohoRateLimited) as info:
        for _ in range(10):
            client.modules()
            done += 1
    assert info.value.daily_exhausted and done == 5
    assert len(calls.of(outcome="rate_limited")) <= 1  # at most one refused call: no retry storm
    assert zoho_server.credits()["remaining"] == 0
    sent = len(calls.events)
    with pytest.raises(ZohoRateLimited):
        client.modules()  # refused by the client itself: Zoho said 0 left moments ago
    assert len(calls.events) == sent
    zoho_server.advance_clock(24 * 3600 + 1)  # the rolling window frees the day's credits
    fresh, _ = make_client()
    assert fresh.modules()


def test_a_429_storm_from_a_low_per_minute_throttle_is_ridden_out(zoho_server, make_client):
    """The server counts credits over a sliding minute of its clock; once the client is refused,
    a minute passes (the clock is advanced) and the retries get through."""
    zoho_server.settings(per_minute_credits=60)
    advanced = threading.Event()

    def on_call(event) -> None:
        if event.outcome == "rate_limited" and not advanced.is_set():
            advanced.set()
            threading.Timer(0.5, zoho_server.advance_clock, args=(61,)).start()

    client, calls = make_client(max_attempts=12, backoff_initial=0.1, backoff_max=0.5)
    client._on_call = lambda e: (calls(e), on_call(e))
    for _ in range(70):
        client.modules()
    assert len(calls.of(path="/crm/v8/settings/modules", outcome="ok")) == 70
    assert calls.of(outcome="rate_limited")


def test_the_client_side_throttle_avoids_429(zoho_server, make_client):
    zoho_server.settings(per_minute_credits=60)
    client, calls = make_client(per_minute_credits=55)
    for _ in range(55):
        client.modules()
    assert not calls.of(outcome="rate_limited")
    # the 56th waits until the first has aged out of the minute (tests/zoho/test_throttle.py, on a fake clock)
    assert client.throttle.window.available == 0


def test_concurrency_beyond_the_org_limit_is_retried(zoho_server, make_client):
    zoho_server.settings(concurrency=2, faults={"latency_ms": 50})
    greedy, calls = make_client(max_concurrency=8)
    polite, polite_calls = make_client(max_concurrency=2)

    def hammer(client) -> None:
        for _ in range(4):
            client.modules()

    for client in (greedy, polite):
        threads = [threading.Thread(target=hammer, args=(client,)) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(calls.of(path="/crm/v8/settings/modules", outcome="ok")) == 24
    assert len(polite_calls.of(path="/crm/v8/settings/modules", outcome="ok")) == 24
    assert not polite_calls.of(outcome="rate_limited")
    assert polite.throttle.peak_in_flight <= 2
