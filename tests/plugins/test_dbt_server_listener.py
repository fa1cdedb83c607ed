"""The dbt fork server starts at a DAG run's first task only where the run's other tasks, its dbt
build among them, run in the same process (`airflow dags test`): there its imports overlap the
tasks before the build; in an executor's task process it would end with that task."""

from __future__ import annotations

from types import SimpleNamespace

from airflow.api_fastapi.execution_api.app import InProcessExecutionAPI

import clinic2zoho_airflow.plugin  # noqa: F401  (loading the plugin points the supervisor at its server)
from clinic2zoho.transform import dbt_process
from clinic2zoho_airflow import in_process_api
from clinic2zoho_airflow.in_process_api import one_version_api_server
from clinic2zoho_airflow.listeners import dbt_server


def task_of(*task_ids: str) -> SimpleNamespace:
    return SimpleNamespace(task=SimpleNamespace(dag=SimpleNamespace(task_ids=list(task_ids))))


def test_the_server_starts_ahead_only_in_a_process_that_runs_the_builds_dag(monkeypatch):
    started: list[str] = []
    monkeypatch.setattr(dbt_process, "start_server", lambda: started.append("started"))
    cutover = task_of("land", "dbt_mapping.dbt_producer_watcher", "dbt_mapping.zoho_contacts_run")
    one_version_api_server.cache_clear()
    try:
        dbt_server.on_task_instance_running(None, cutover)
        assert started == []  # an executor's task process: it serves no execution API to itself

        monkeypatch.setattr(in_process_api, "_airflows_server", InProcessExecutionAPI)
        one_version_api_server()  # what `dags test`'s supervisor asks for before each task
        dbt_server.on_task_instance_running(None, task_of("rollback", "report"))
        assert started == []  # a DAG without a dbt build
        dbt_server.on_task_instance_running(None, cutover)
        assert started == ["started"]
    finally:
        one_version_api_server.cache_clear()
