"""The delta DAG end to end with `dag.test()` against the local Zoho server.

A generated export is landed, built with dbt (the real project, confirmed and its schema prepared
in a copy) and loaded by the loader as a cutover would; the cutover opens the delta window. Then a
patient's phone is edited and an appointment added in the export, and the delta DAG lands, rebuilds
and upserts: the Contact is updated in place (before-image journaled), the new Event created, and
no record duplicated. A second run finds nothing new and skips; a window whose time passed closes
itself and later runs skip."""

from __future__ import annotations

import csv
import importlib.util
import json
import shutil
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest

from tests.conftest import ROOT
from tests.dags.scenario import copy_dbt_project

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dag_clinic_delta")]

CUTOVER_RUN = "cutover-1"
MODULES = ("Accounts", "Contacts", "Events")  # a cutover-equivalent load, kept small


def load_dag(monkeypatch, **env: str):
    """Parse dags/clinic_delta.py afresh (it reads its knobs at parse)."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    spec = importlib.util.spec_from_file_location("clinic_delta_under_test", ROOT / "dags" / "clinic_delta.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    return module.dag


def _rewrite_csv(path: Path, edit) -> None:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields, rows = reader.fieldnames, list(reader)
    rows = edit(rows)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def _states(run) -> dict[str, str]:
    return {ti.task_id: ti.state for ti in run.get_task_instances()}


@pytest.fixture
def cutover(tmp_path, work_home, monkeypatch):
    """A generated export loaded into a local server as a cutover does, and the window opened."""
    from clinic2zoho.delta import open_window
    from clinic2zoho.generator import generate_export
    from clinic2zoho.landing import land_export, land_users
    from clinic2zoho.loader.journal import AuditLog, publish
    from clinic2zoho.loader.module_loader import LoadSettings
    from clinic2zoho.loader.plan import plan_from_manifest
    from clinic2zoho.loader.run import Loader
    from clinic2zoho.loader.source import TableSource
    from clinic2zoho.mapping import confirmation
    from clinic2zoho.mapping.propose_command import propose_mapping
    from clinic2zoho.mapping.schema_command import prepare_schema
    from clinic2zoho.transform import run_dbt
    from clinic2zoho.zoho import ZohoClient, ZohoConfig
    from clinic2zoho.zoho_server.process import ZohoServerProcess

    generate_export(tmp_path / "gen", 20, seed=5, defects=False)
    export = tmp_path / "export"  # the clinic's export: a copy the test edits later
    shutil.copytree(tmp_path / "gen" / "export", export)
    warehouse = work_home / "warehouse.duckdb"
    land_export(export, "generic", warehouse)
    land_users(tmp_path / "gen" / "zoho_users.json", warehouse=warehouse)
    dbt_vars = {"provider_email_overrides_file": str(tmp_path / "gen" / "provider_email_overrides.csv"),
                "clinic_timezone": "America/New_York"}
    dbt_dir = copy_dbt_project(tmp_path / "dbt_project")
    monkeypatch.setenv("CLINIC2ZOHO_DBT_PROJECT", str(dbt_dir))
    built = run_dbt(["build"], warehouse, dbt_vars, project_dir=dbt_dir)
    assert built.success, built.summary()
    (tmp_path / "zoho").mkdir()
    server = ZohoServerProcess(users=tmp_path / "gen" / "zoho_users.json", workdir=tmp_path / "zoho").start()
    try:
        config = ZohoConfig(server.client_id, server.client_secret, server.refresh_token, data_centre=None,
                            accounts_url=server.base_url, api_url=server.base_url, upload_url=server.base_url,
                            max_attempts=3)
        with ZohoClient(config) as client:
            propose_mapping("generic", warehouse, dbt_dir, client)
            confirmation.confirm("delta tests", dbt_dir)
            prepare_schema(client, dbt_dir, warehouse=warehouse, log=lambda _line: None)
        plan = plan_from_manifest(built.target_path / "manifest.json").select(list(MODULES))
        journal = work_home / "journal"
        audit = AuditLog(journal, CUTOVER_RUN)
        with ZohoClient(config, on_call=audit) as client:
            result = Loader(plan, client, run_id=CUTOVER_RUN, root=journal, source=TableSource(warehouse),
                            settings=LoadSettings(record_concurrency=2)).run()
        audit.close()
        assert result.pending == 0
        publish(journal, warehouse, CUTOVER_RUN)
        window = open_window(CUTOVER_RUN, 24, export, "generic", dbt_vars=dbt_vars)
        monkeypatch.setenv("AIRFLOW_CONN_ZOHO_DEFAULT", json.dumps({
            "conn_type": "zoho", "login": server.client_id, "password": server.client_secret,
            "extra": {"refresh_token": server.refresh_token, "accounts_url": server.base_url,
                      "api_url": server.base_url, "upload_url": server.base_url}}))
        yield {"export": export, "warehouse": warehouse, "server": server, "config": config, "window": window,
               "journal": journal}
    finally:
        server.close()


def _contact_with_phone_and_event(warehouse: Path) -> tuple[str, str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("""SELECT c.Clinic_Patient_Id, e.Clinic_Appointment_Id FROM zoho.zoho_contacts c
                              JOIN zoho.zoho_events e ON e.Who_Id = c.Clinic_Patient_Id
                              ORDER BY 1, 2 LIMIT 1""").fetchone()


def test_an_edited_patient_and_a_new_appointment_reach_zoho_without_duplicates(cutover, monkeypatch):
    from airflow.utils.state import DagRunState, TaskInstanceState

    from clinic2zoho.delta import get_window
    from clinic2zoho.loader.journal import JournalReader
    from clinic2zoho.zoho import ZohoClient

    export, warehouse, server = cutover["export"], cutover["warehouse"], cutover["server"]
    patient_id, appointment_id = _contact_with_phone_and_event(warehouse)
    new_phone = "+1 617 555 0142"
    new_appointment = "AP99999999"

    with ZohoClient(cutover["config"]) as client:
        before = client.get_by_external("Contacts", "Clinic_Patient_Id", patient_id)
        contacts_before = sum(1 for _ in client.iter_records("Contacts", ["Clinic_Patient_Id"]))
        events_before = sum(1 for _ in client.iter_records("Events", ["Clinic_Appointment_Id"]))
    assert before is not None and before.get("Phone") != new_phone

    def edit_patient(rows):
        for row in rows:
            if row["patient_id"] == patient_id:
                row["phone"] = new_phone
        return rows

    def add_appointment(rows):
        template = next(r for r in rows if r["appointment_id"] == appointment_id)
        return rows + [{**template, "appointment_id": new_appointment}]

    _rewrite_csv(export / "patients.csv", edit_patient)
    _rewrite_csv(export / "appointments.csv", add_appointment)

    dag = load_dag(monkeypatch, CLINIC2ZOHO_DELTA_WAIT_SECONDS="3", CLINIC2ZOHO_DELTA_POKE_SECONDS="0.5")
    run = dag.test()
    states = _states(run)
    assert run.state == DagRunState.SUCCESS, states
    assert all(states[t] == TaskInstanceState.SUCCESS for t in
               ("check_window", "wait_for_changes", "land", "rebuild", "stage", "upsert_changes", "finish")), states

    with ZohoClient(cutover["config"]) as client:
        after = client.get_by_external("Contacts", "Clinic_Patient_Id", patient_id)
        contacts = [r["Clinic_Patient_Id"] for r in client.iter_records("Contacts", ["Clinic_Patient_Id"])]
        events = [r["Clinic_Appointment_Id"] for r in client.iter_records("Events", ["Clinic_Appointment_Id"])]
    assert after["id"] == before["id"] and after["Phone"] == new_phone
    assert len(contacts) == contacts_before and len(set(contacts)) == len(contacts)  # updated, not duplicated
    assert len(events) == events_before + 1 and events.count(new_appointment) == 1

    window = get_window(cutover["window"].window_id)
    assert window.runs == 1 and window.is_open and window.last_run_id
    with JournalReader(cutover["journal"], runs=[window.last_run_id]) as reader:
        rows = reader.dicts("SELECT module, source_key, operation, status, before_image FROM load_journal")
    by_key = {(r["module"], r["source_key"]): r for r in rows}
    # only what changed was sent: the edited Contact (an update with its before-image) and the Event
    assert set(by_key) == {("Contacts", patient_id), ("Events", new_appointment)}
    contact = by_key[("Contacts", patient_id)]
    assert contact["operation"] == "update" and contact["status"] == "done"
    assert json.loads(contact["before_image"])["Phone"] == before.get("Phone")
    assert by_key[("Events", new_appointment)]["operation"] == "insert"
    with duckdb.connect(str(cutover["warehouse"]), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM ops.load_journal WHERE run_id = ?",
                           [window.last_run_id]).fetchone()[0] == 2  # published into ops
        assert con.execute("SELECT status FROM ops.delta_runs WHERE run_id = ?",
                           [window.last_run_id]).fetchone()[0] == "done"

    # Nothing new since: the sensor waits (in the trigger), finds nothing and the run skips.
    calls_before = server.calls()["total"]
    again = dag.test()
    states = _states(again)
    assert again.state == DagRunState.SUCCESS
    assert states["wait_for_changes"] == TaskInstanceState.SKIPPED
    assert all(states[t] == TaskInstanceState.SKIPPED for t in ("land", "rebuild", "stage", "finish"))
    assert server.calls()["total"] == calls_before
    assert get_window(window.window_id).runs == 1


def test_a_window_whose_time_passed_closes_itself_and_later_runs_skip(tmp_path, work_home, monkeypatch, caplog):
    from airflow.utils.state import DagRunState, TaskInstanceState

    from clinic2zoho.delta import current_window, get_window, open_window
    from clinic2zoho.loader.plan import LoadPlan, ModuleSpec

    export = tmp_path / "export"
    export.mkdir()
    (export / "patients.csv").write_text("patient_id,phone\nPT1,555\n")
    plan = LoadPlan((ModuleSpec(table="zoho.zoho_contacts", module="Contacts", external_id="Clinic_Patient_Id"),))
    opened = open_window("cutover-old", 24, export, "generic", plan=plan,
                         now=datetime.now(timezone.utc) - timedelta(hours=25))
    dag = load_dag(monkeypatch)

    with caplog.at_level("INFO"):
        run = dag.test()
    states = _states(run)
    assert run.state == DagRunState.SUCCESS
    assert states["check_window"] == TaskInstanceState.SUCCESS
    assert all(state == TaskInstanceState.SKIPPED for task, state in states.items() if task != "check_window"), states
    closed = get_window(opened.window_id)
    assert closed.status == "closed" and closed.closed_at is not None and "24 h passed" in closed.close_reason
    assert current_window() is None
    assert any(f"delta window {opened.window_id}" in r.getMessage() and "closed at" in r.getMessage()
               for r in caplog.records)

    later = dag.test()
    assert _states(later)["check_window"] == TaskInstanceState.SUCCESS
    assert all(s == TaskInstanceState.SKIPPED for t, s in _states(later).items() if t != "check_window")
    assert get_window(opened.window_id).closed_at == closed.closed_at  # untouched
