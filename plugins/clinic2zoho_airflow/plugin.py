"""The project's Airflow plugin: Airflow loads it from the plugins folder (AIRFLOW__CORE__PLUGINS_FOLDER)
in every process, the task runner of `airflow dags test` among them. It registers the listeners
that record, for `clinic2zoho migrate`, failed tasks (listeners.task_failures), every task's
start and end (listeners.task_progress) and each finished run's outcome (listeners.dag_runs). The
`zoho` connection type and its form come from the provider entry point (provider_info), not from
here.

Airflow imports every file of the plugins folder and takes each AirflowPlugin class it finds: keep
this the only module that defines or imports one (a second find of a name is skipped by Airflow's
core and ends the task SDK's registration of that folder's plugins)."""

from __future__ import annotations

from airflow.providers.common.compat.sdk import AirflowPlugin

from clinic2zoho_airflow.listeners import dag_runs, task_failures, task_progress


class Clinic2ZohoPlugin(AirflowPlugin):
    name = "clinic2zoho"
    listeners = [task_failures, task_progress, dag_runs]
