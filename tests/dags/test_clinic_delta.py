"""The delta DAG on a window whose time passed: its first run closes the window and every later
task skips, and so do later runs. (The delta after a real cutover — the window the cutover opens,
a new patient and an edited phone carried into Zoho, no duplicate, the window closing itself — is
tests/dags/test_clinic_cutover.py, on that module's cutover run.)"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.dags.scenario import load_delta_dag

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dag_clinic_delta")]


def _states(run) -> dict[str, str]:
    return {ti.task_id: ti.state for ti in run.get_task_instances()}


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
    dag = load_delta_dag(monkeypatch)

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
