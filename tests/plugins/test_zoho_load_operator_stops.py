"""The load operator stops with a message saying what to do when Zoho refuses the Connection's
credentials (which field to fix; a failure no retry repeats) or keeps rate limiting (a retry of the
task resumes the same run)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("airflow")
from airflow.sdk.exceptions import AirflowException, AirflowFailException  # noqa: E402

from tests.plugins.test_zoho_load_operator import _op, airflow_org  # noqa: E402,F401  (fixture)


def _connection(monkeypatch, server, **changes) -> None:
    conn = {"conn_type": "zoho", "login": server.client_id, "password": server.client_secret,
            "extra": {"refresh_token": server.refresh_token, "accounts_url": server.base_url,
                      "api_url": server.base_url, "upload_url": server.base_url,
                      "backoff_initial": 0.01, "backoff_max": 0.02}}
    conn.update(changes)
    monkeypatch.setenv("AIRFLOW_CONN_ZOHO_TEST", json.dumps(conn))


def test_refused_credentials_fail_the_task_naming_the_connection_field(airflow_org, monkeypatch):
    org, home, plan_path = airflow_org
    _connection(monkeypatch, org.server, password="wrong-value-4f1c")
    with pytest.raises(AirflowFailException) as failed:
        _op(plan_path, home).execute({})
    message = str(failed.value)
    assert "Zoho refused the credentials (invalid_client)" in message
    assert "login (client id) and password (client secret) of Airflow Connection 'zoho_test'" in message
    assert not any(s in message for s in ("wrong-value-4f1c", org.server.client_secret, org.server.refresh_token))


def test_a_429_storm_fails_the_try_and_a_retry_resumes_the_run(airflow_org, monkeypatch):
    org, home, plan_path = airflow_org
    _connection(monkeypatch, org.server)
    org.server.settings(per_minute_credits=0)
    with pytest.raises(AirflowException) as stopped:
        _op(plan_path, home).execute({})
    assert not isinstance(stopped.value, AirflowFailException)
    assert "rate limited by Zoho" in str(stopped.value) and "it resumes with the same run id" in str(stopped.value)
    org.server.settings(per_minute_credits=None)
    assert _op(plan_path, home).execute({})["modules"]["Contacts"] == {"done": 30, "rejected": 0, "skipped": 0}


def test_a_run_recorded_in_another_org_fails_the_load_and_the_rollback_for_good(airflow_org, monkeypatch):
    from clinic2zoho.loader.journal import run_dir
    from clinic2zoho_airflow.operators.zoho_load import journal_run_id
    from clinic2zoho_airflow.operators.zoho_rollback import ZohoRollbackOperator

    org, home, plan_path = airflow_org
    _connection(monkeypatch, org.server)
    op = _op(plan_path, home)
    op.execute({})
    # the run's journal now says it went into another org than this Connection reaches
    org_file = run_dir(home / "journal", journal_run_id(op.load_run_id)) / "org.json"
    recorded = json.loads(org_file.read_text())
    org_file.write_text(json.dumps({**recorded, "org_id": "another-org"}))
    before = org.data_hash()
    with pytest.raises(AirflowFailException, match="another-org"):
        _op(plan_path, home).execute({})
    with pytest.raises(AirflowFailException, match="another-org"):
        ZohoRollbackOperator(task_id="rollback", load_run_id=journal_run_id(op.load_run_id), zoho_conn_id="zoho_test",
                             warehouse=str(home / "warehouse.duckdb"), modules="", schema="False").execute({})
    assert org.data_hash() == before  # neither wrote to the org
