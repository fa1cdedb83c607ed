"""Undo a load run: delete what it created and restore what it changed, from its journal.

Trigger with params run_id (required), modules (optional, e.g. ["Notes"] for a partial rollback)
and schema (also remove what schema preparation created for the run, once empty)."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from clinic2zoho_airflow.operators.zoho_rollback import ZohoRollbackOperator
from clinic2zoho_airflow.params import param

with DAG(
    dag_id="clinic_rollback",
    description="Undo a load run from its journal: delete what it created, restore what it changed",
    doc_md=__doc__,
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    render_template_as_native_obj=True,  # params arrive as a list and a bool
    tags=["clinic2zoho", "rollback"],
    params={
        "run_id": param(type="string", minLength=1,
                        description="the load run to undo, required (printed by the load, in the report)"),
        "modules": param([], type="array", description="only these modules, e.g. Notes (empty: the whole run)"),
        "schema": param(False, type="boolean", description="also remove the run's schema changes once empty"),
    },
) as dag:
    ZohoRollbackOperator(
        task_id="rollback",
        load_run_id="{{ params.run_id }}",
        modules="{{ params.modules }}",
        schema="{{ params.schema }}",
        zoho_conn_id="zoho_default",
    )
