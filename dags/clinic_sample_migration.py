"""The sample migration, reviewed before the cutover: land → mapping gate → dbt build (tests are
the gate) → choose 100–300 patients representing the whole (by status, insurance plans,
appointments, notes, documents) with all their related records → prepare the schema in the
SANDBOX org → load the sample there → field-level diff (reports/sample_diff.html and .csv,
mismatches first, with the rule that produced each expected value).

Params: source, format, zoho_conn_id (the sandbox org, default `zoho_sandbox`), seed and the
sample bounds, and the clinic's inputs for the mapping as in clinic_cutover."""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG, Asset, Param, task

from clinic2zoho.cluster.pools import WAREHOUSE_POOL
from clinic2zoho.orchestration import assets
from clinic2zoho_airflow.operators.clinic_tasks import (
    dbt_mapping_group,
    first_and_last,
    render_time_plan,
    zoho_load_tasks,
)
from clinic2zoho_airflow.operators.mapping_gate import MappingGateOperator
from clinic2zoho_airflow.operators.validate import ZohoSampleDiffOperator
from clinic2zoho_airflow.operators.zoho_load import ZohoLoadReportOperator, journal_run_id
from clinic2zoho_airflow.operators.zoho_params import ParamZohoSchemaOperator

RAW = Asset(uri=assets.RAW_URI, name=assets.RAW_NAME, group=assets.GROUP)
SAMPLE_LOADED = Asset(uri=assets.SAMPLE_LOADED_URI, name=assets.SAMPLE_LOADED_NAME, group=assets.GROUP)
PLAN_PATH = "{{ ti.xcom_pull(task_ids='select_sample')['plan_path'] }}"


@task(pool=WAREHOUSE_POOL, outlets=[RAW])
def land(params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Land the export into raw.* (idempotent) and the sandbox org's users into raw.zoho_users."""
    from clinic2zoho.orchestration.steps import FILE_VARS, land_org_users, land_source
    from clinic2zoho_airflow.hooks.zoho import ZohoHook

    p = params or {}
    landed = land_source(p["source"], p["format"], clinic_timezone=p.get("clinic_timezone") or "",
                         **{k: p.get(k) or "" for k in FILE_VARS})
    if p.get("zoho_users_file"):
        land_org_users(p["zoho_users_file"], p.get("org_label") or "sandbox")
    else:
        client = ZohoHook(p["zoho_conn_id"]).get_conn()
        try:
            land_org_users(client.users(), p.get("org_label") or "sandbox")
        finally:
            client.close()
    return landed


@task(pool=WAREHOUSE_POOL)
def select_sample(run_id: str | None = None, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Choose the sample (ops.sample_patients, schema sample) and write the run's plan over it."""
    from clinic2zoho.orchestration import steps
    from clinic2zoho_airflow.hooks.zoho import ZohoHook

    p = params or {}
    plan, summary = steps.sample_plan(steps.dbt_manifest(), seed=int(p["seed"]), minimum=int(p["minimum"]),
                                      maximum=int(p["maximum"]))
    limits = steps.plan_limits(ZohoHook(p["zoho_conn_id"]).config, p.get("edition"), p.get("per_minute_credits"))
    prepared = steps.prepare_load(journal_run_id(run_id or ""), plan, limits)
    return {**prepared.to_xcom(), "sample": summary}


with DAG(
    dag_id="clinic_sample_migration",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["clinic2zoho", "sample"],
    user_defined_macros={"journal_run_id": journal_run_id},
    params={
        "source": Param("", type="string", description="the export folder"),
        "format": Param("generic", enum=["generic", "synthea", "fhir"], description="export format"),
        "zoho_conn_id": Param("zoho_sandbox", type="string", description="Airflow Connection of the sandbox org"),
        "seed": Param(0, type="integer", description="the same seed chooses the same patients"),
        "minimum": Param(100, type="integer", minimum=1, description="fewest patients in the sample"),
        "maximum": Param(300, type="integer", minimum=1, description="most patients in the sample"),
        "edition": Param("", type="string", description="Zoho edition for the estimate (default: the Connection's)"),
        "per_minute_credits": Param(None, type=["null", "integer"], description="per-minute credit throttle"),
        "zoho_users_file": Param("", type="string", description="the org's users (JSON); default: read from Zoho"),
        "org_label": Param("sandbox", type="string"),
        "provider_email_overrides_file": Param("", type="string", description="provider_id,email CSV added to the seed"),
        "patient_merges_file": Param("", type="string", description="duplicate_patient_id,surviving_patient_id CSV"),
        "clinic_timezone": Param("", type="string", description="IANA zone; default from the manifest"),
    },
) as dag:
    gate = MappingGateOperator(task_id="mapping_gate")
    dbt_mapping = dbt_mapping_group()

    @task
    def mapping_ready() -> str:
        """Reached only when every dbt model built and every gate test passed."""
        return "dbt gate passed"

    sample = select_sample()
    schema = ParamZohoSchemaOperator(task_id="prepare_sandbox_schema", zoho_conn_id="{{ params.zoho_conn_id }}",
                                     run_id_override="{{ journal_run_id(run_id) }}", pool=WAREHOUSE_POOL)
    land() >> gate >> dbt_mapping >> mapping_ready() >> sample >> schema

    plan = render_time_plan(dbt_mapping)
    loads = zoho_load_tasks(plan, plan_path=PLAN_PATH, zoho_conn_id="{{ params.zoho_conn_id }}",
                            files_root="{{ params.source }}")
    first, last = first_and_last(loads, plan)
    load_report = ZohoLoadReportOperator(task_id="load_report", pool=WAREHOUSE_POOL, outlets=[SAMPLE_LOADED])
    schema >> first
    last >> load_report
    load_report >> ZohoSampleDiffOperator(task_id="sample_diff", zoho_conn_id="{{ params.zoho_conn_id }}",
                                          pool=WAREHOUSE_POOL)
