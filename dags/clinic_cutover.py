"""The cutover: land the clinic export → Data Quality Report → mapping gate → prepare the Zoho
schema → dbt build (its tests are the gate) → estimate → ordered load → validate → reports.

Params: source (export folder) and format; zoho_conn_id (the production org, default
`zoho_default`); the plan the estimate assumes (edition, per-minute credits; default: the
Connection's); the clinic's inputs for the mapping (org users file — default: read through the
Connection —, provider-email overrides, confirmed patient merges, time zone); spot_share.

An unconfirmed mapping fails the run at `mapping_gate` with the command to confirm; a failing dbt
test fails its task and nothing after the dbt group runs; a failed validation fails the run and
names the rollback command. Every task that opens the DuckDB warehouse runs in the pool
`clinic_warehouse` of one slot (docs/cluster.md); load tasks run in parallel where the lookups
allow, and defer while a bulk job runs."""

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
from clinic2zoho_airflow.operators.validate import ZohoValidateOperator
from clinic2zoho_airflow.operators.zoho_load import ZohoLoadReportOperator, journal_run_id
from clinic2zoho_airflow.operators.zoho_params import ParamZohoSchemaOperator

RAW = Asset(uri=assets.RAW_URI, name=assets.RAW_NAME, group=assets.GROUP)
LOADED = Asset(uri=assets.LOADED_URI, name=assets.LOADED_NAME, group=assets.GROUP)
PLAN_PATH = "{{ ti.xcom_pull(task_ids='estimate')['plan_path'] }}"


@task(pool=WAREHOUSE_POOL, outlets=[RAW])
def land(params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Land the export into raw.* (idempotent: unchanged rows are not landed again)."""
    from clinic2zoho.orchestration.steps import FILE_VARS, land_source

    p = params or {}
    return land_source(p["source"], p["format"], clinic_timezone=p.get("clinic_timezone") or "",
                       **{k: p.get(k) or "" for k in FILE_VARS})


@task(pool=WAREHOUSE_POOL)
def org_users(params: dict[str, Any] | None = None) -> int:
    """The org's users into raw.zoho_users (from the file param, else read through the Connection)."""
    from clinic2zoho.orchestration.steps import land_org_users
    from clinic2zoho_airflow.hooks.zoho import ZohoHook

    p = params or {}
    if p.get("zoho_users_file"):
        return land_org_users(p["zoho_users_file"], p.get("org_label") or "production")
    client = ZohoHook(p["zoho_conn_id"]).get_conn()
    try:
        return land_org_users(client.users(), p.get("org_label") or "production")
    finally:
        client.close()


@task(pool=WAREHOUSE_POOL)
def quality_report() -> dict[str, Any]:
    """The Data Quality Report of what was landed (reports/data_quality.html)."""
    from clinic2zoho.orchestration.steps import quality_report as build

    return build()


@task(pool=WAREHOUSE_POOL)
def estimate(run_id: str | None = None, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Credits and time of the load on the plan; writes the run's plan for the load tasks."""
    from clinic2zoho.orchestration import steps
    from clinic2zoho_airflow.hooks.zoho import ZohoHook

    p = params or {}
    manifest = steps.dbt_manifest()
    limits = steps.plan_limits(ZohoHook(p["zoho_conn_id"]).config, p.get("edition"), p.get("per_minute_credits"))
    return steps.prepare_load(journal_run_id(run_id or ""), steps.cutover_plan(manifest), limits).to_xcom()


@task(pool=WAREHOUSE_POOL)
def reports(run_id: str | None = None) -> dict[str, Any]:
    """The Workflow Rebuild Reference (workflows are rebuilt in Zoho, not migrated)."""
    from clinic2zoho.orchestration.steps import workflow_rebuild

    return workflow_rebuild()


with DAG(
    dag_id="clinic_cutover",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["clinic2zoho", "cutover"],
    user_defined_macros={"journal_run_id": journal_run_id},
    params={
        "source": Param("", type="string", description="the export folder"),
        "format": Param("generic", enum=["generic", "synthea", "fhir"], description="export format"),
        "zoho_conn_id": Param("zoho_default", type="string", description="Airflow Connection of the production org"),
        "edition": Param("", type="string", description="Zoho edition for the estimate (default: the Connection's)"),
        "per_minute_credits": Param(None, type=["null", "integer"], description="per-minute credit throttle"),
        "spot_share": Param(0.05, type="number", minimum=0, maximum=1, description="share of records spot-checked"),
        "zoho_users_file": Param("", type="string", description="the org's users (JSON); default: read from Zoho"),
        "org_label": Param("production", type="string"),
        "provider_email_overrides_file": Param("", type="string", description="provider_id,email CSV added to the seed"),
        "patient_merges_file": Param("", type="string", description="duplicate_patient_id,surviving_patient_id CSV"),
        "clinic_timezone": Param("", type="string", description="IANA zone; default from the manifest"),
    },
) as dag:
    gate = MappingGateOperator(task_id="mapping_gate")
    schema = ParamZohoSchemaOperator(task_id="prepare_schema", zoho_conn_id="{{ params.zoho_conn_id }}",
                                     run_id_override="{{ journal_run_id(run_id) }}", pool=WAREHOUSE_POOL)
    dbt_mapping = dbt_mapping_group()

    @task
    def mapping_ready() -> str:
        """Reached only when every dbt model built and every gate test passed."""
        return "dbt gate passed"

    ready = mapping_ready()
    planned = estimate()
    land() >> org_users() >> quality_report() >> gate >> schema >> dbt_mapping >> ready >> planned

    plan = render_time_plan(dbt_mapping)
    loads = zoho_load_tasks(plan, plan_path=PLAN_PATH, zoho_conn_id="{{ params.zoho_conn_id }}",
                            files_root="{{ params.source }}")
    first, last = first_and_last(loads, plan)
    load_report = ZohoLoadReportOperator(task_id="load_report", pool=WAREHOUSE_POOL, outlets=[LOADED])
    planned >> first
    last >> load_report
    validate = ZohoValidateOperator(task_id="validate", zoho_conn_id="{{ params.zoho_conn_id }}",
                                    spot_share="{{ params.spot_share }}", pool=WAREHOUSE_POOL)
    load_report >> validate >> reports()
