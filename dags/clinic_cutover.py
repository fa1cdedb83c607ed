"""The cutover: land the clinic export, then build the mapping with dbt, whose tests are the
gate — a failing test (severity error) fails its task and nothing after the dbt group runs.

Params: source (export folder), format (generic | synthea | fhir), and the clinic's inputs for
the mapping (org users file, provider-email overrides, confirmed patient merges, time zone).
Later tasks (schema preparation, load, validation, reports) go after `mapping_ready`.

DuckDB takes one writer per file: every task that writes the warehouse runs in the pool
`clinic_warehouse` of one slot (`airflow pools set clinic_warehouse 1 "DuckDB warehouse"`), and
dbt runs as a subprocess so it holds the file only while it works."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import DAG, Param, task
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import InvocationMode, LoadMode, TestBehavior

from clinic2zoho import settings
from clinic2zoho.transform.dbt_runner import TELEMETRY_ENV, dbt_executable

WAREHOUSE_POOL = "clinic_warehouse"
# Render only part of the project, e.g. "+zoho_accounts" for a quick rehearsal (default: all).
DBT_SELECT = [item for item in os.environ.get("CLINIC2ZOHO_DBT_SELECT", "").split() if item]
DBT_ENV = {**TELEMETRY_ENV, "CLINIC2ZOHO_WAREHOUSE": str(settings.warehouse_path())}


@task(pool=WAREHOUSE_POOL)
def land(params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Land the export (and the org's users, when a users file is given) into raw.*."""
    from clinic2zoho.landing import land_export, land_users
    from clinic2zoho.transform.dbt_runner import export_vars

    params = params or {}
    result = land_export(params["source"], params["format"], warehouse=settings.warehouse_path())
    if params.get("zoho_users_file"):
        land_users(params["zoho_users_file"], params.get("org_label") or "production", warehouse=settings.warehouse_path())
    timezone = params.get("clinic_timezone") or export_vars(params["source"], params["format"]).get(
        "clinic_timezone", "America/New_York"
    )
    # dbt runs in a copy of the project folder: file vars must be absolute paths
    files = {
        key: str(Path(params[key]).resolve()) if params.get(key) else ""
        for key in ("provider_email_overrides_file", "patient_merges_file")
    }
    return {"batch_id": result.batch_id, "rows": result.totals(), "clinic_timezone": timezone, **files}


@task
def mapping_ready() -> str:
    """Reached only when every dbt model built and every gate test passed."""
    return "dbt gate passed"


with DAG(
    dag_id="clinic_cutover",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["clinic2zoho", "cutover"],
    params={
        "source": Param("", type="string", description="the export folder"),
        "format": Param("generic", enum=["generic", "synthea", "fhir"], description="export format"),
        "zoho_users_file": Param("", type="string", description="the org's users (JSON), landed into raw.zoho_users"),
        "org_label": Param("production", type="string"),
        "provider_email_overrides_file": Param("", type="string", description="provider_id,email CSV added to the seed"),
        "patient_merges_file": Param("", type="string", description="duplicate_patient_id,surviving_patient_id CSV"),
        "clinic_timezone": Param("", type="string", description="IANA zone; default from the manifest"),
    },
) as dag:
    landed = land()
    dbt_mapping = DbtTaskGroup(
        group_id="dbt_mapping",
        project_config=ProjectConfig(
            dbt_project_path=settings.DBT_PROJECT_DIR, env_vars=DBT_ENV, install_dbt_deps=False
        ),
        profile_config=ProfileConfig(
            profile_name="clinic2zoho",
            target_name="local",
            profiles_yml_filepath=settings.DBT_PROJECT_DIR / "profiles.yml",
        ),
        execution_config=ExecutionConfig(
            invocation_mode=InvocationMode.SUBPROCESS, dbt_executable_path=dbt_executable()
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_LS,
            test_behavior=TestBehavior.BUILD,  # one `dbt build` task per model, with its tests
            select=DBT_SELECT,
            invocation_mode=InvocationMode.SUBPROCESS,
            dbt_executable_path=dbt_executable(),
        ),
        operator_args={
            "pool": WAREHOUSE_POOL,
            "vars": {
                "clinic_timezone": "{{ ti.xcom_pull(task_ids='land')['clinic_timezone'] }}",
                "provider_email_overrides_file": "{{ ti.xcom_pull(task_ids='land')['provider_email_overrides_file'] }}",
                "patient_merges_file": "{{ ti.xcom_pull(task_ids='land')['patient_merges_file'] }}",
            },
        },
    )
    landed >> dbt_mapping >> mapping_ready()
