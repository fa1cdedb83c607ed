"""The listener that records each DAG run that ended as one JSON line in the work folder's
`logs/dag_runs.jsonl`: dag_id, run_id, logical date, state, and every task instance's task_id,
map_index and state. `clinic2zoho migrate` reads its run's outcome from this line
(orchestration.local_airflow.run_dag) instead of starting two Airflow CLI processes (~2 s of CPU
each) after every run; the CLI stays its fallback when no line was written.

Airflow calls the hook where the run's state is decided (DagRun.update_state): under `airflow dags
test` in the CLI's own process, once per run, inside the session that marks it. Ids and states
only; nothing is written unless CLINIC2ZOHO_HOME names a work folder."""

from __future__ import annotations

import os
from typing import Any

from airflow.providers.common.compat.sdk import hookimpl
from sqlalchemy.orm import object_session

from clinic2zoho.orchestration.local_airflow import dag_runs_file
from clinic2zoho_airflow.listeners.task_failures import append_line


@hookimpl
def on_dag_run_success(dag_run: Any, msg: str) -> None:
    _record(dag_run)


@hookimpl
def on_dag_run_failed(dag_run: Any, msg: str) -> None:
    _record(dag_run)


def _record(dag_run: Any) -> None:
    home = os.environ.get("CLINIC2ZOHO_HOME")
    if home:
        append_line(dag_runs_file(home), run_line(dag_run, _task_instances(dag_run)))


def run_line(dag_run: Any, task_instances: list[Any]) -> dict[str, Any]:
    """The run's line: what names it, its state and its task instances' states (None: no state)."""
    logical_date = dag_run.logical_date
    return {"dag_id": dag_run.dag_id, "run_id": dag_run.run_id,
            "logical_date": logical_date.isoformat() if logical_date else None, "state": _value(dag_run.state),
            "tasks": [{"task_id": ti.task_id, "map_index": ti.map_index, "state": _value(ti.state)}
                      for ti in task_instances]}


def _task_instances(dag_run: Any) -> list[Any]:
    """All the run's task instances (the CLI's states-for-dag-run lists the same), read through the
    session that is marking the run: its state change is not committed yet, and on SQLite a second
    connection could wait on that session's lock."""
    session = object_session(dag_run)
    kwargs = {"session": session} if session is not None else {}
    return type(dag_run).fetch_task_instances(dag_id=dag_run.dag_id, run_id=dag_run.run_id, **kwargs)


def _value(state: Any) -> str | None:
    return None if state is None else str(getattr(state, "value", state))
