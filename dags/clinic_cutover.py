"""The cutover: land the clinic export → Data Quality Report → mapping gate → prepare the Zoho
schema → dbt build (its tests are the gate) → estimate → ordered load → validate → reports, and
the delta window opened (the DAG clinic_delta then carries later changes to the export).

Params: source (export folder) and format; zoho_conn_id (the production org, default
`zoho_default`); the plan the estimate assumes (edition, per-minute credits; default: the
Connection's); the clinic's inputs for the mapping (org users file — default: read through the
Connection —, provider-email overrides, confirmed patient merges, time zone); spot_share;
delta_window_hours (24–48, default 48: how long after a validated load the window stays open).

An unconfirmed mapping, or a sample run not signed off with the mapping as confirmed now
(`clinic2zoho sign-off`), fails the run at `mapping_gate` with the command to run; a failing dbt
test fails its task and nothing after the dbt group runs; a failed validation fails the run and
names the rollback command. Every task that opens the DuckDB warehouse runs in the pool
`clinic_warehouse` of one slot (docs/cluster.md); load tasks run in parallel where the lookups
allow, and defer while a bulk job runs."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from clinic2zoho.cluster.pools import WAREHOUSE_POOL
from clinic2zoho_airflow.operators.clinic_steps import (
    LOADED,
    clinic_params,
    estimate,
    land,
    mapping_ready,
    open_delta_window,
    org_users,
    quality_report,
    reports,
)
from clinic2zoho_airflow.operators.clinic_tasks import dbt_mapping_group, ordered_loads
from clinic2zoho_airflow.operators.mapping_gate import MappingGateOperator
from clinic2zoho_airflow.operators.validate import ZohoValidateOperator
from clinic2zoho_airflow.operators.zoho_load import ZohoLoadReportOperator, journal_run_id
from clinic2zoho_airflow.operators.zoho_params import ParamZohoSchemaOperator
from clinic2zoho_airflow.params import param

with DAG(
    dag_id="clinic_cutover",
    description="The cutover: land the export, gate the mapping, load Zoho in order, validate, open the delta window",
    doc_md=__doc__,
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["clinic2zoho", "cutover"],
    user_defined_macros={"journal_run_id": journal_run_id},
    params=clinic_params("zoho_default", "production", "production org", spot_share=param(
        0.05, type="number", minimum=0, maximum=1, description="share of records spot-checked"),
        delta_window_hours=param(48, type="number", minimum=24, maximum=48,
                                 description="hours the delta window stays open after a validated load")),
) as dag:
    gate = MappingGateOperator(task_id="mapping_gate", require_signoff=True)
    schema = ParamZohoSchemaOperator(task_id="prepare_schema", zoho_conn_id="{{ params.zoho_conn_id }}",
                                     run_id_override="{{ journal_run_id(run_id) }}", pool=WAREHOUSE_POOL)
    dbt_mapping = dbt_mapping_group()
    planned = estimate()
    land() >> org_users() >> quality_report() >> gate >> schema >> dbt_mapping >> mapping_ready() >> planned

    load_report = ZohoLoadReportOperator(task_id="load_report", pool=WAREHOUSE_POOL, outlets=[LOADED])
    ordered_loads(dbt_mapping, after=planned, before=load_report, plan_task="estimate")
    validate = ZohoValidateOperator(task_id="validate", zoho_conn_id="{{ params.zoho_conn_id }}",
                                    spot_share="{{ params.spot_share }}", pool=WAREHOUSE_POOL)
    load_report >> validate >> [reports(), open_delta_window()]
