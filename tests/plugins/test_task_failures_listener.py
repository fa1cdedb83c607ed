"""The listeners that record tasks for `clinic2zoho migrate`: called as Airflow calls them (a task
instance and its error), one appends one owner-only JSON line per failure to the work folder's
logs/task_failures.jsonl (the message's first line, masked and capped, never the traceback), the
other one line per start and end to logs/task_progress.jsonl, which migrate's progress reads; the
project's plugin registers both with Airflow's listener managers (core's and the task SDK's, which
runs the tasks of `airflow dags test`)."""

from __future__ import annotations

import json
import stat
from types import SimpleNamespace

import pytest

pytest.importorskip("airflow")
from airflow.sdk.exceptions import AirflowFailException  # noqa: E402

from clinic2zoho.orchestration.local_airflow import (DagOutcome, _progress_rows, _states,  # noqa: E402
                                                    failure_reason, task_failures_file, task_progress_file)
from clinic2zoho_airflow.listeners import dag_runs, task_failures, task_progress  # noqa: E402

SECRET = "listener-client-secret-789"


def _ti(task_id="gate", map_index=-1):
    return SimpleNamespace(dag_id="clinic_cutover", run_id="manual__1", task_id=task_id, map_index=map_index)


def _lines(home):
    return [json.loads(line) for line in task_failures_file(home).read_text().splitlines()]


def test_a_failed_task_is_one_owner_only_line_with_the_first_line_of_its_message(tmp_path, monkeypatch):
    monkeypatch.setenv("CLINIC2ZOHO_HOME", str(tmp_path))
    try:
        raise AirflowFailException("the mapping was never confirmed\nsecond line")
    except AirflowFailException as exc:  # raised, so it carries a traceback the line must not hold
        task_failures.on_task_instance_failed(previous_state=None, task_instance=_ti(), error=exc)
    task_failures.on_task_instance_failed(previous_state=None, task_instance=_ti("load", 2), error=RuntimeError())
    assert _lines(tmp_path) == [
        {"dag_id": "clinic_cutover", "run_id": "manual__1", "task_id": "gate", "map_index": -1,
         "error_type": "airflow.sdk.exceptions.AirflowFailException", "message": "the mapping was never confirmed"},
        {"dag_id": "clinic_cutover", "run_id": "manual__1", "task_id": "load", "map_index": 2,
         "error_type": "RuntimeError", "message": ""},
    ]
    path = task_failures_file(tmp_path)
    assert "Traceback" not in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    outcome = DagOutcome("clinic_cutover", "manual__1", "failed", {"gate": "failed"}, 1.0, None, path)
    assert failure_reason(outcome) == "the mapping was never confirmed"


def test_the_message_is_masked_then_capped_and_a_string_error_has_no_type(tmp_path, monkeypatch):
    monkeypatch.setenv("CLINIC2ZOHO_HOME", str(tmp_path))
    monkeypatch.setenv("AIRFLOW_CONN_ZOHO_LISTENER", json.dumps(
        {"conn_type": "zoho", "login": "short", "password": SECRET, "extra": {"refresh_token": "1000.r-token-x"}}))
    error = f"POST failed with {SECRET} and 1000.r-token-x " + "x" * 2000
    task_failures.on_task_instance_failed(previous_state=None, task_instance=_ti(), error=error)
    [line] = _lines(tmp_path)
    assert line["error_type"] is None and len(line["message"]) == task_failures.MESSAGE_CHARS
    assert line["message"].startswith("POST failed with *** and *** xxx") and SECRET not in line["message"]


def test_without_a_work_folder_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.delenv("CLINIC2ZOHO_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    task_failures.on_task_instance_failed(previous_state=None, task_instance=_ti(), error=RuntimeError("x"))
    assert list(tmp_path.iterdir()) == []


def test_the_plugin_registers_the_listener_with_airflow():
    """The plugins folder (tests/conftest.py points Airflow at plugins/, as migrate does) holds the
    plugin; both listener managers take the module, and pluggy checked its hook against Airflow's spec."""
    from airflow.listeners.listener import get_listener_manager as core_listeners
    from airflow.sdk.listener import get_listener_manager as task_listeners

    from clinic2zoho_airflow.plugin import Clinic2ZohoPlugin

    from clinic2zoho_airflow.listeners import dbt_server

    assert Clinic2ZohoPlugin.listeners == [task_failures, task_progress, dag_runs, dbt_server]
    for manager in (task_listeners(), core_listeners()):
        assert manager.pm.is_registered(task_failures) and manager.pm.is_registered(task_progress)
        impls = [impl.plugin for impl in manager.pm.hook.on_task_instance_failed.get_hookimpls()]
        assert task_failures in impls and task_progress in impls
        running = [impl.plugin for impl in manager.pm.hook.on_task_instance_running.get_hookimpls()]
        assert task_progress in running and dbt_server in running
    # A run's end is reported by core's manager (DagRun.update_state, in `dags test`'s own process).
    for hook in (core_listeners().pm.hook.on_dag_run_success, core_listeners().pm.hook.on_dag_run_failed):
        assert dag_runs in [impl.plugin for impl in hook.get_hookimpls()]


def test_progress_is_a_line_per_start_and_end_and_migrate_reads_this_runs_states(tmp_path, monkeypatch):
    monkeypatch.setenv("CLINIC2ZOHO_HOME", str(tmp_path))
    task_progress.on_task_instance_running(previous_state=None, task_instance=_ti("land"))
    offset = task_progress_file(tmp_path).stat().st_size  # what an earlier run left is not this run's
    task_progress.on_task_instance_running(previous_state=None, task_instance=_ti("land"))
    task_progress.on_task_instance_success(previous_state=None, task_instance=_ti("land"))
    task_progress.on_task_instance_running(previous_state=None, task_instance=_ti("load", 2))
    task_progress.on_task_instance_skipped(previous_state=None, task_instance=_ti("reports"))
    other = SimpleNamespace(dag_id="clinic_delta", run_id="x", task_id="land", map_index=-1)
    task_progress.on_task_instance_failed(previous_state=None, task_instance=other, error=RuntimeError("x"))
    assert stat.S_IMODE(task_progress_file(tmp_path).stat().st_mode) == 0o600
    rows = _progress_rows(task_progress_file(tmp_path), offset, "clinic_cutover")
    assert _states(rows) == {"land": "success", "load[2]": "running", "reports": "skipped"}
