"""Credits (rolling 24 hours), per-minute throttle, concurrency, 429s, injected faults, and state
that survives restarts and crashes."""

from __future__ import annotations

import json
import stat
import threading

import httpx
import pytest

from tests.zoho_server.conftest import api_client, zip_csv


def test_credit_arithmetic_calls_writes_and_bulk_jobs(zoho_server):
    with api_client(zoho_server) as api:
        base = zoho_server.credits()["used"]
        api.get("/crm/v8/org")
        assert zoho_server.credits()["used"] == base + 1
        api.post("/crm/v8/Contacts", json={"data": [{"Last_Name": f"C{i}"} for i in range(100)]})
        assert zoho_server.credits()["used"] == base + 11
        api.post("/crm/v8/Contacts", json={"data": [{"Last_Name": f"D{i}"} for i in range(11)]})
        assert zoho_server.credits()["used"] == base + 13
        file_id = api.post("/crm/v8/upload", files={"file": ("a.zip", zip_csv("Last_Name\nA\n"))},
                           headers={"feature": "bulk-write", "X-CRM-ORG": zoho_server.zgid}).json()["details"]["file_id"]
        api.post("/crm/bulk/v8/write", json={"operation": "insert", "resource": [{"type": "data", "module": {"api_name": "Contacts"},
                                                                                 "file_id": file_id}]})
        credits = zoho_server.credits()
        assert credits["used"] == base + 13 + 1 + 500
        # Enterprise: 50,000 + 1,000 per active user (3 active users)
        assert credits["limit"] == 53_000 and credits["remaining"] == 53_000 - credits["used"]


def test_edition_budgets():
    from clinic2zoho.zoho_server.settings import DEFAULTS, daily_limit, merge

    assert daily_limit(merge(DEFAULTS, {"edition": "Free"}), 10) == 5_000
    assert daily_limit(merge(DEFAULTS, {"edition": "Standard"}), 400) == 100_000
    assert daily_limit(merge(DEFAULTS, {"edition": "Professional", "user_count": 20}), 3) == 60_000
    assert daily_limit(merge(DEFAULTS, {"edition": "Enterprise"}), 10_000) == 5_000_000
    assert daily_limit(merge(DEFAULTS, {"daily_credits": 123}), 3) == 123


def test_exhausted_daily_credits_answer_429_until_the_window_rolls(zoho_server):
    with api_client(zoho_server) as api:
        zoho_server.settings(daily_credits=zoho_server.credits()["used"] + 12)
        ok = api.post("/crm/v8/Contacts", json={"data": [{"Last_Name": f"E{i}"} for i in range(100)]})
        assert ok.status_code == 201 and ok.headers["X-API-CREDITS-REMAINING"] == "2"
        refused = api.post("/crm/v8/Contacts", json={"data": [{"Last_Name": f"F{i}"} for i in range(30)]})
        assert refused.status_code == 429 and refused.json()["code"] == "TOO_MANY_REQUESTS"
        assert "Retry-After" not in refused.headers
        assert [api.get("/crm/v8/org").status_code for _ in range(2)] == [200, 200]  # 2 credits still fit
        assert api.get("/crm/v8/org").status_code == 429  # budget spent
    used_at_start = zoho_server.credits()["used"]
    zoho_server.advance_clock(23 * 3600)
    with api_client(zoho_server) as api:  # tokens lived an hour; a fresh one
        assert api.get("/crm/v8/org").status_code == 429  # still inside the 24-hour window
    zoho_server.settings(daily_credits=used_at_start + 5)
    with api_client(zoho_server) as api:
        assert api.get("/crm/v8/org").status_code == 200
        zoho_server.advance_clock(3600 + 1)
        # the early calls have left the rolling window; the one made at 23 h has not
        assert zoho_server.credits()["used"] == 1
        assert api.get("/crm/v8/org").status_code in (200, 401)


def test_per_minute_throttle(zoho_server):
    zoho_server.settings(per_minute_credits=20)
    with api_client(zoho_server) as api:
        statuses = [api.post("/crm/v8/Contacts", json={"data": [{"Last_Name": f"M{n}{i}"} for i in range(100)]}).status_code
                    for n in range(3)]
        assert statuses == [201, 429, 429] or statuses[:2] == [201, 201] and statuses[2] == 429
        zoho_server.advance_clock(61)
        assert api.post("/crm/v8/Contacts", json={"data": [{"Last_Name": "after"}]}).status_code == 201


def test_concurrency_limit_answers_429_to_calls_beyond_it(zoho_server):
    zoho_server.settings(concurrency=2, faults={"latency_ms": 600})
    token = zoho_server.access_token()
    statuses: list[int] = []

    def call():
        statuses.append(httpx.get(f"{zoho_server.api_url}/crm/v8/org", headers={"Authorization": f"Zoho-oauthtoken {token}"},
                                  timeout=10).status_code)

    threads = [threading.Thread(target=call) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses.count(200) == 2 and statuses.count(429) == 3


def test_injected_5xx_drop_and_early_token_expiry(zoho_server):
    with api_client(zoho_server) as api:
        zoho_server.settings(faults={"error_5xx_rate": 1.0})
        resp = api.post("/crm/v8/Contacts", json={"data": [{"Last_Name": "never"}]})
        assert resp.status_code == 500 and resp.json()["code"] == "INTERNAL_ERROR"
        zoho_server.settings(faults={"error_5xx_rate": 0.0, "error_5xx_after_write_rate": 1.0})
        assert api.post("/crm/v8/Contacts", json={"data": [{"Last_Name": "landed"}]}).status_code == 500
        zoho_server.settings(faults={"error_5xx_after_write_rate": 0.0, "drop_rate": 1.0})
        with pytest.raises(httpx.TransportError):
            api.post("/crm/v8/Contacts", json={"data": [{"Last_Name": "dropped"}]})
        zoho_server.settings(faults={"drop_rate": 0.0, "expire_token_rate": 1.0})
        assert api.get("/crm/v8/org").json()["code"] == "INVALID_TOKEN"
        zoho_server.settings(faults={"expire_token_rate": 0.0})
        assert api.get("/crm/v8/org").status_code == 401  # that token stays revoked
        names = {r["Last_Name"] for r in zoho_server.snapshot()["data"]["Contacts"].values()}
        assert names == {"landed", "dropped"}


def test_unknown_setting_is_refused(zoho_server):
    resp = httpx.post(f"{zoho_server.base_url}/__admin/settings", json={"colour": 1}, headers={"X-Admin-Token": zoho_server.admin_token})
    assert resp.status_code == 400
    assert httpx.get(f"{zoho_server.base_url}/__admin/credits").status_code == 401


def test_state_survives_restart_and_crash_and_hashes_ignore_timestamps(zoho_server):
    with api_client(zoho_server) as api:
        api.post("/crm/v8/settings/fields", params={"module": "Contacts"}, json={"fields": [{"field_label": "Keep", "data_type": "text"}]})
        rid = api.post("/crm/v8/Contacts", json={"data": [{"Last_Name": "Durable", "Keep": "yes"}]}).json()["data"][0]["details"]["id"]
        token = api.headers["Authorization"]
    before = zoho_server.snapshot()
    zoho_server.restart()
    after = zoho_server.snapshot()
    assert (after["data_hash"], after["schema_hash"]) == (before["data_hash"], before["schema_hash"])
    resp = httpx.get(f"{zoho_server.api_url}/crm/v8/Contacts/{rid}", headers={"Authorization": token})
    assert resp.status_code == 200 and resp.json()["data"][0]["Keep"] == "yes"
    zoho_server.advance_clock(5)
    httpx.put(f"{zoho_server.api_url}/crm/v8/Contacts/{rid}", headers={"Authorization": token},
              json={"data": [{"Keep": "yes"}]})
    assert zoho_server.snapshot()["data_hash"] == before["data_hash"]  # only Modified_Time moved
    zoho_server.set_record_fields("Contacts", rid, {"Keep": "corrupted"})
    corrupted = zoho_server.snapshot()
    assert corrupted["data_hash"] != before["data_hash"] and corrupted["schema_hash"] == before["schema_hash"]
    httpx.post(f"{zoho_server.api_url}/crm/v8/Contacts", headers={"Authorization": token}, json={"data": [{"Last_Name": "Late"}]})
    zoho_server.crash()
    zoho_server.start()
    names = {r["Last_Name"] for r in zoho_server.snapshot()["data"]["Contacts"].values()}
    assert names == {"Durable", "Late"}


def test_bulk_job_in_progress_resumes_after_restart(zoho_server):
    zoho_server.settings(bulk_start_delay=0.0, bulk_chunk_rows=100)
    with api_client(zoho_server) as api:
        file_id = api.post("/crm/v8/upload", files={"file": ("a.zip", zip_csv("Last_Name\n" + "\n".join(f"R{i}" for i in range(3000)) + "\n"))},
                           headers={"feature": "bulk-write", "X-CRM-ORG": zoho_server.zgid}).json()["details"]["file_id"]
        job_id = api.post("/crm/bulk/v8/write", json={"operation": "insert", "resource": [
            {"type": "data", "module": {"api_name": "Contacts"}, "file_id": file_id}]}).json()["details"]["id"]
    zoho_server.crash()
    zoho_server.start()
    with api_client(zoho_server) as api:
        import time
        for _ in range(200):
            body = api.get(f"/crm/bulk/v8/write/{job_id}").json()
            if body["status"] == "COMPLETED":
                break
            time.sleep(0.05)
        assert body["status"] == "COMPLETED" and body["resource"][0]["file"]["added_count"] == 3000
    assert len(zoho_server.snapshot()["data"]["Contacts"]) == 3000


def test_command_writes_credentials_beside_state_and_never_logs_them(zoho_server):
    creds_file = zoho_server.state.parent / f"{zoho_server.state.name}.credentials.json"
    creds = json.loads(creds_file.read_text())
    assert stat.S_IMODE(creds_file.stat().st_mode) == 0o600
    assert creds["api_url"] == zoho_server.api_url
    log = zoho_server.log_path.read_text()
    for key in ("client_secret", "refresh_token", "admin_token", "client_id"):
        assert creds[key] not in log


def test_bad_users_file_is_a_clear_error(tmp_path):
    from clinic2zoho.cli import main

    users = tmp_path / "users.json"
    users.write_text(json.dumps([{"email": "ok@x.example"}, {"full_name": "No Email"}]))
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "clinic2zoho.cli", "zoho-server", "--port", "1", "--state",
                           str(tmp_path / "s.sqlite"), "--users", str(users)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "user 2: field 'email'" in proc.stderr and str(users) in proc.stderr
    assert callable(main)
