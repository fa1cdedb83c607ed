"""The sample migration, reviewed before the cutover: land → mapping gate → dbt build (tests are
the gate) → choose 100–300 patients representing the whole (by status, insurance plans,
appointments, notes, documents) with all their related records → prepare the schema in the
SANDBOX org → load the sample there → field-level diff (reports/sample_diff.html and .csv,
mismatches first, with the rule that produced each expected value).

Params: source, format, zoho_conn_id (the sandbox org, default `zoho_sandbox`), seed and the
sample bounds, and the clinic's inputs for the mapping as in clinic_cutover."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from clinic2zoho.cluster.pools import WAREHOUSE_POOL
from clinic2zoho_airflow.operators.clinic_steps import (
    SAMPLE_LOADED,
    clinic_params,
    land,
    mapping_ready,
    org_users,
    select_sample,
)
from clinic2zoho_airflow.operators.clinic_tasks import dbt_mapping_group, ordered_loads
from clinic2zoho_airflow.operators.mapping_gate import MappingGateOperator
from clinic2zoho_airflow.operators.validate import ZohoSampleDiffOperator
from clinic2zoho_airflow.operators.zoho_load import ZohoLoadReportOperator, journal_run_id
from clinic2zoho_airflow.operators.zoho_params import ParamZohoSchemaOperator
from clinic2zoho_airflow.params import param

with DAG(
    dag_id="clinic_sample_migration",
    description="The sample migration: 100-300 representative patients into the sandbox org, diffed field by field",
    doc_md=__doc__,
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["clinic2zoho", "sample"],
    user_defined_macros={"journal_run_id": journal_run_id},
    params=clinic_params(
        "zoho_sandbox", "sandbox", "sandbox org",
        seed=param(0, type="integer", description="the same seed chooses the same patients"),
        minimum=param(100, type="integer", minimum=1, description="fewest patients in the sample"),
        maximum=param(300, type="integer", minimum=1, description="most patients in the sample")),
) as dag:
    gate = MappingGateOperator(task_id="mapping_gate")
    dbt_mapping = dbt_mapping_group()
    sample = select_sample()
    schema = ParamZohoSchemaOperator(task_id="prepare_sandbox_schema", zoho_conn_id="{{ params.zoho_conn_id }}",
                                     run_id_override="{{ journal_run_id(run_id) }}", pool=WAREHOUSE_POOL)
    land() >> org_users() >> gate >> dbt_mapping >> mapping_ready() >> sample >> schema

    load_report = ZohoLoadReportOperator(task_id="load_report", pool=WAREHOUSE_POOL, outlets=[SAMPLE_LOADED])
    ordered_loads(dbt_mapping, after=schema, before=load_report, plan_task="select_sample")
    load_report >> ZohoSampleDiffOperator(task_id="sample_diff", zoho_conn_id="{{ params.zoho_conn_id }}",
                                          pool=WAREHOUSE_POOL)
