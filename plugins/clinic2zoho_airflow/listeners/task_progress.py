"""The listener that records each task instance's start and end as one JSON line in the work
folder's `logs/task_progress.jsonl` (dag_id, run_id, task_id, map_index, state): `clinic2zoho
migrate` shows a DAG run's progress from it while `airflow dags test` runs, where asking Airflow's
CLI would start a 2-second process every few seconds beside the run it watches. The run's outcome
itself is the line listeners.dag_runs writes when the run ends.
Nothing is written unless CLINIC2ZOHO_HOME names a work folder."""

from __future__ import annotations

import os
from typing import Any

from airflow.providers.common.compat.sdk import hookimpl

from clinic2zoho.orchestration.local_airflow import task_progress_file
from clinic2zoho_airflow.listeners.task_failures import append_line, instance_of


def _record(task_instance: Any, state: str) -> None:
    home = os.environ.get("CLINIC2ZOHO_HOME")
    if home:
        append_line(task_progress_file(home), {**instance_of(task_instance), "state": state})


@hookimpl
def on_task_instance_running(previous_state: Any, task_instance: Any) -> None:
    _record(task_instance, "running")


@hookimpl
def on_task_instance_success(previous_state: Any, task_instance: Any) -> None:
    _record(task_instance, "success")


@hookimpl
def on_task_instance_failed(previous_state: Any, task_instance: Any, error: None | str | BaseException) -> None:
    _record(task_instance, "failed")


@hookimpl
def on_task_instance_skipped(previous_state: Any, task_instance: Any) -> None:
    _record(task_instance, "skipped")
