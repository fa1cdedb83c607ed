"""The listener that starts the dbt fork server (clinic2zoho.transform.dbt_process) at the first
task of a DAG run that builds with dbt, when this process runs the run's other tasks too
(`airflow dags test`, what `clinic2zoho migrate` runs): the server's imports of dbt (about 2 s)
then overlap the tasks before the build, on the other core, instead of starting the build's own
process (hooks.dbt_forked). Where an executor runs each task in a process of its own (Local,
Celery), nothing is started ahead: a server started there would end with its task.

At a run's end it waits for a build of the run still running in this process (the build runs
beside the watching tasks there, operators.dbt_background; its gate task, which waits for it,
did not run when a model's task failed first): nothing of the run outlives it."""

from __future__ import annotations

from typing import Any

from airflow.providers.common.compat.sdk import hookimpl
from cosmos.constants import PRODUCER_WATCHER_TASK_ID

from clinic2zoho_airflow.in_process_api import serves_itself


@hookimpl
def on_task_instance_running(previous_state: Any, task_instance: Any) -> None:
    dag = getattr(getattr(task_instance, "task", None), "dag", None)
    if dag is not None and builds_with_dbt(dag.task_ids) and serves_itself():
        from clinic2zoho.transform.dbt_process import start_server

        start_server()


def builds_with_dbt(task_ids: Any) -> bool:
    """Whether the DAG holds a dbt group's build (Cosmos's producer task)."""
    return any(task_id.rsplit(".", 1)[-1] == PRODUCER_WATCHER_TASK_ID for task_id in task_ids)


@hookimpl
def on_dag_run_success(dag_run: Any, msg: str) -> None:
    _builds_ended(dag_run)


@hookimpl
def on_dag_run_failed(dag_run: Any, msg: str) -> None:
    _builds_ended(dag_run)


def _builds_ended(dag_run: Any) -> None:
    from clinic2zoho_airflow.operators.dbt_background import wait_for_builds_of_run

    wait_for_builds_of_run(dag_run.dag_id, dag_run.run_id)
