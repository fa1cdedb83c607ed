"""The Python tasks and params the clinic DAGs share (land, the org's users, the quality report,
the load plan, the reports), so the DAG files only wire them. Each task body calls
`clinic2zoho.orchestration.steps`; imports sit inside the tasks to keep DAG parsing light."""

from __future__ import annotations

from typing import Any

from airflow.sdk import Asset, Param, task

from clinic2zoho.cluster.pools import WAREHOUSE_POOL
from clinic2zoho.formats import FORMATS
from clinic2zoho.orchestration import assets
from clinic2zoho_airflow.operators.zoho_load import journal_run_id
from clinic2zoho_airflow.params import param

RAW = Asset(uri=assets.RAW_URI, name=assets.RAW_NAME, group=assets.GROUP)
LOADED = Asset(uri=assets.LOADED_URI, name=assets.LOADED_NAME, group=assets.GROUP)
SAMPLE_LOADED = Asset(uri=assets.SAMPLE_LOADED_URI, name=assets.SAMPLE_LOADED_NAME, group=assets.GROUP)


def clinic_params(zoho_conn_id: str, org: str, org_description: str, **extra: Param) -> dict[str, Param]:
    """The params every clinic DAG takes: the export, the org (Connection), the plan the estimate
    assumes, and the clinic's inputs for the mapping; `extra` adds a DAG's own. Only `source` must
    be filled: an optional param is nullable, so the trigger form leaves it empty, and the task
    applies its default when it reads an empty value (`p.get(k) or ...`)."""
    return {
        # no default: the form and the API refuse a run without it, rather than its first task
        "source": param(type="string", minLength=1, description="the clinic export's folder (required)"),
        "format": param("generic", enum=list(FORMATS), description="the export's format"),
        "zoho_conn_id": param(zoho_conn_id, type="string", description=f"Airflow Connection of the {org_description}"),
        **extra,
        "edition": _optional("Zoho edition the estimate plans with (Free, Standard or Starter, Professional, "
                             "Enterprise, Ultimate); empty: the Connection's"),
        "per_minute_credits": _optional("per-minute credit throttle the estimate assumes; empty: the "
                                        "Connection's (none unless it sets one)", "integer"),
        "zoho_users_file": _optional("the org's users (JSON file); empty: read from Zoho through the Connection"),
        "org_label": param(org, type="string", description="the name the org's users are kept under in the "
                           "warehouse (raw.zoho_users); a run replaces only that name's users"),
        "provider_email_overrides_file": _optional("provider_id,email CSV added to the seed; empty: no overrides"),
        "patient_merges_file": _optional("duplicate_patient_id,surviving_patient_id CSV; empty: the work "
                                         "folder's decisions/patient_merges.csv, if any"),
        "patient_distinct_file": _optional("patient_id_1,patient_id_2,decided_by,decided_at CSV of pairs that "
                                           "are two people; empty: decisions/patient_distinct.csv, if any"),
        "clinic_timezone": _optional("IANA zone; empty: the source map's, the manifest's, else proposed from "
                                     "the patients' addresses"),
        "document_url_base": _optional("where the clinic publishes the export's documents (documents over the "
                                       "attachment limit are linked there); empty: the manifest's"),
    }


def _optional(description: str, kind: str = "string") -> Param:
    """A param the trigger form may leave empty (null): not required, its default named in its help."""
    return param(None, type=["null", kind], description=description)


@task(pool=WAREHOUSE_POOL, outlets=[RAW])
def land(params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Land the export into raw.* (idempotent: unchanged rows are not landed again)."""
    from clinic2zoho.orchestration.steps import FILE_VARS, land_source

    p = params or {}
    return land_source(p["source"], p["format"], clinic_timezone=p.get("clinic_timezone") or "",
                       document_url_base=p.get("document_url_base") or "",
                       **{k: p.get(k) or "" for k in FILE_VARS})


@task(pool=WAREHOUSE_POOL)
def org_users(params: dict[str, Any] | None = None) -> int:
    """The org's users into raw.zoho_users (from the file param, else read through the Connection):
    record owners resolve against them."""
    from clinic2zoho.orchestration.steps import land_org_users
    from clinic2zoho_airflow.hooks.zoho import ZohoHook

    p = params or {}
    if p.get("zoho_users_file"):
        return land_org_users(p["zoho_users_file"], p["org_label"])
    client = ZohoHook(p["zoho_conn_id"]).get_conn()
    try:
        return land_org_users(client.users(), p["org_label"])
    finally:
        client.close()


@task(pool=WAREHOUSE_POOL)
def quality_report() -> dict[str, Any]:
    """The Data Quality Report of what was landed (reports/data_quality.html)."""
    from clinic2zoho.orchestration.steps import quality_report as build

    return build()


@task
def mapping_ready() -> str:
    """Reached only when every dbt model built and every gate test passed."""
    return "dbt gate passed"


@task(pool=WAREHOUSE_POOL)
def estimate(run_id: str | None = None, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Credits and time of the whole load on the plan; writes the run's plan for the load tasks."""
    from clinic2zoho import settings
    from clinic2zoho.orchestration import steps

    p = params or {}
    plan = steps.cutover_plan(steps.load_manifest(settings.warehouse_path()))  # the work folder's while current
    _layouts_filled(plan, p)  # before the first load task: no module loads while another would stop
    return steps.prepare_load(journal_run_id(run_id or ""), plan, _limits(p)).to_xcom()


@task(pool=WAREHOUSE_POOL)
def select_sample(run_id: str | None = None, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Choose the sample (ops.sample_patients, schema sample) and write the run's plan over it
    (clinic2zoho.sample.task), the org's layout-mandatory fields checked first."""
    from airflow.sdk.exceptions import AirflowFailException

    from clinic2zoho.loader.layout_gate import LayoutGapsFound
    from clinic2zoho.sample.task import select_for_run
    from clinic2zoho_airflow.hooks.zoho import ZohoHook

    p = params or {}
    client = ZohoHook(p["zoho_conn_id"]).get_conn()
    try:
        return select_for_run(journal_run_id(run_id or ""), client, _limits(p), seed=int(p["seed"]),
                              minimum=int(p["minimum"]), maximum=int(p["maximum"]))
    except LayoutGapsFound as exc:
        raise AirflowFailException(str(exc)) from None
    finally:
        client.close()


@task(pool=WAREHOUSE_POOL)
def open_delta_window(run_id: str | None = None, params: dict[str, Any] | None = None,
                      ti: Any = None) -> dict[str, Any]:
    """Once the load is validated: open the delta window (`delta_window_hours`) during which the
    DAG clinic_delta carries changes to the export into Zoho, rebuilding with this run's dbt vars."""
    from clinic2zoho.delta import open_window
    from clinic2zoho.orchestration.steps import FILE_VARS

    p = params or {}
    landed = ti.xcom_pull(task_ids="land") or {}
    dbt_vars = {k: landed[k] for k in ("clinic_timezone", "document_url_base", *FILE_VARS) if landed.get(k)}
    window = open_window(journal_run_id(run_id or ""), float(p["delta_window_hours"]), p["source"], p["format"],
                         dbt_vars=dbt_vars)
    return window.to_dict()


@task(pool=WAREHOUSE_POOL)
def reports() -> dict[str, Any]:
    """The Workflow Rebuild Reference (workflows are rebuilt in Zoho, not migrated)."""
    from clinic2zoho.orchestration.steps import workflow_rebuild

    return workflow_rebuild()


def _layouts_filled(plan: Any, p: dict[str, Any]) -> None:
    """The org's layout-mandatory fields filled by every table of the plan (loader.layout_gate),
    checked once before any load task starts; each load task checks its own modules again."""
    from airflow.sdk.exceptions import AirflowFailException

    from clinic2zoho import settings
    from clinic2zoho.loader.layout_gate import LayoutGapsFound, require_layouts_filled
    from clinic2zoho.loader.source import TableSource
    from clinic2zoho_airflow.hooks.zoho import ZohoHook

    client = ZohoHook(p["zoho_conn_id"]).get_conn()
    try:
        with TableSource(settings.warehouse_path()).held() as tables:  # one connection for every table's check
            require_layouts_filled(client, plan, tables)
    except LayoutGapsFound as exc:
        raise AirflowFailException(str(exc)) from None
    finally:
        client.close()


def _limits(p: dict[str, Any]) -> Any:
    from clinic2zoho.orchestration import steps
    from clinic2zoho_airflow.hooks.zoho import ZohoHook

    return steps.plan_limits(ZohoHook(p["zoho_conn_id"]).config, p.get("edition"), p.get("per_minute_credits"))
