"""The load and rollback operators over a real Connection to the local Zoho server: arguments
checked at construction, a module loaded, a bulk job waited for by the trigger (one event) and
taken up by execute_complete, a retry that re-attaches, and the rollback DAG's operator (which
closes the delta window of the run it undoes)."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

pytest.importorskip("airflow")
from airflow.sdk.exceptions import AirflowException, TaskDeferred  # noqa: E402

from clinic2zoho.loader.journal import JournalReader  # noqa: E402
from clinic2zoho_airflow.operators.zoho_load import ZohoLoadOperator, ZohoLoadReportOperator, journal_run_id  # noqa: E402
from clinic2zoho_airflow.operators.zoho_rollback import ZohoRollbackOperator  # noqa: E402
from clinic2zoho_airflow.triggers.zoho_bulk_job import ZohoBulkJobTrigger  # noqa: E402
from tests.loader.conftest import PLAN, build_clinic, prepared_org  # noqa: E402


@pytest.fixture
def airflow_org(tmp_path, work_home, monkeypatch):
    with prepared_org(tmp_path / "zoho") as org:
        server = org.server
        monkeypatch.setenv("AIRFLOW_CONN_ZOHO_TEST", json.dumps({
            "conn_type": "zoho", "login": server.client_id, "password": server.client_secret,
            "extra": {"refresh_token": server.refresh_token, "accounts_url": server.base_url,
                      "api_url": server.base_url, "upload_url": server.base_url, "backoff_initial": 0.02}}))
        build_clinic(work_home / "warehouse.duckdb", work_home / "files")
        plan_path = work_home / "plan.json"
        plan_path.write_text(PLAN.to_json())
        yield org, work_home, str(plan_path)


def _op(plan_path, work_home, **kw):
    args = dict(task_id="load", modules=["Accounts", "Contacts"], zoho_conn_id="zoho_test", load_run_id="manual__2024-01-01T00:00:00+00:00",
                plan_path=plan_path, warehouse=str(work_home / "warehouse.duckdb"), check_mapping=False,
                files_root=str(work_home / "files"), poll_interval=0.2)
    args.update(kw)
    return ZohoLoadOperator(**args)


@pytest.mark.parametrize("bad, message", [
    ({"modules": []}, "modules"),
    ({"zoho_conn_id": ""}, "zoho_conn_id"),
    ({"force_path": "fast"}, "force_path"),
    ({"poll_interval": 0}, "poll_interval"),
    ({"manifest_path": "m.json", "plan_path": "p.json"}, "manifest_path or plan_path"),
])
def test_bad_arguments_fail_when_the_dag_is_parsed(bad, message):
    args = {"task_id": "load", "modules": ["Contacts"], **bad}
    with pytest.raises(ValueError, match=message):
        ZohoLoadOperator(**args)


def test_the_operator_loads_its_modules_and_the_report_publishes_them(airflow_org):
    org, home, plan_path = airflow_org
    out = _op(plan_path, home).execute({})
    assert out["run_id"] == "manual__2024-01-01T00_00_00_00_00"
    assert out["modules"]["Contacts"] == {"done": 30, "rejected": 0, "skipped": 0}
    report = ZohoLoadReportOperator(task_id="report", load_run_id="manual__2024-01-01T00:00:00+00:00",
                                    warehouse=str(home / "warehouse.duckdb")).execute({})
    assert report["credits"] > 0
    import duckdb

    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM ops.load_journal WHERE status = 'done'").fetchone() == (32,)
    con.close()


def _fire(trigger: ZohoBulkJobTrigger) -> list[dict]:
    async def collect():
        return [e.payload async for e in trigger.run()]

    return asyncio.run(collect())


def test_a_deferred_bulk_load_waits_in_the_trigger_and_finishes_in_execute_complete(airflow_org):
    org, home, plan_path = airflow_org
    op = _op(plan_path, home, modules=["Accounts", "Contacts"], force_path="bulk", deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        op.execute({})
    trigger = deferred.value.trigger
    assert isinstance(trigger, ZohoBulkJobTrigger) and trigger.module == "Accounts"
    assert ZohoBulkJobTrigger(**trigger.serialize()[1]).job_id == trigger.job_id
    # A retry of the task re-attaches to the running job instead of starting a second one.
    retry = _op(plan_path, home, modules=["Accounts", "Contacts"], force_path="bulk", deferrable=True)
    try:
        retry.execute({})
    except TaskDeferred:
        pass
    events = _fire(trigger)
    assert len(events) == 1 and events[0]["status"] == "COMPLETED"
    out, event, rounds = None, events[0], 0
    while out is None:  # what a triggerer and the task runner would do
        rounds += 1
        try:
            out = op.execute_complete({}, event)
        except TaskDeferred as more:
            event = _fire(more.trigger)[0]
        assert rounds < 5
    assert out["modules"]["Contacts"]["done"] == 30 and out["modules"]["Accounts"]["done"] == 2
    with JournalReader(home / "journal") as q:
        assert q.sql("SELECT module, count(*) FROM bulk_jobs GROUP BY 1 ORDER BY 1") == [("Accounts", 1), ("Contacts", 1)]


def test_the_trigger_yields_one_timeout_event_at_its_deadline(airflow_org):
    events = _fire(ZohoBulkJobTrigger(job_id="123", module="Contacts", end_time=time.time() - 1,
                                      zoho_conn_id="zoho_test", poll_interval=0.1))
    assert len(events) == 1 and events[0]["status"] in ("timeout", "error")
    with pytest.raises(AirflowException, match="job 123"):
        _op("p.json", airflow_org[1]).execute_complete({}, events[0])


def test_the_rollback_operator_undoes_the_run(airflow_org, tmp_path):
    from clinic2zoho.delta import get_window, open_window

    org, home, plan_path = airflow_org
    before = org.data_hash()
    _op(plan_path, home).execute({})
    run_id = journal_run_id("manual__2024-01-01T00:00:00+00:00")
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "patients.csv").write_text("patient_id\np1\n")
    window = open_window(run_id, 24, tmp_path / "export", "generic")  # as the cutover does once validated
    out = ZohoRollbackOperator(task_id="rollback", load_run_id=run_id,
                               zoho_conn_id="zoho_test", warehouse=str(home / "warehouse.duckdb"),
                               modules="", schema="False").execute({})
    assert {m["module"]: m["deleted"] for m in out["modules"]} == {"Contacts": 30, "Accounts": 2}
    assert org.data_hash() == before
    assert get_window(window.window_id).close_reason == "its cutover run was rolled back"


def test_the_rollback_dag_parses_with_its_params():
    from airflow.dag_processing.dagbag import DagBag

    from tests.conftest import ROOT

    bag = DagBag(str(ROOT / "dags" / "clinic_rollback.py"))
    assert bag.import_errors == {}
    dag = bag.dags["clinic_rollback"]
    assert set(dag.params.keys()) == {"run_id", "modules", "schema"}
    assert [t.task_id for t in dag.tasks] == ["rollback"]
