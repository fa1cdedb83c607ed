"""The delta DAG's Python tasks (dags/clinic_delta.py only wires them): each opens the window the
run works in and makes one call into `clinic2zoho.delta`; imports sit inside the tasks to keep
DAG parsing light."""

from __future__ import annotations

import logging
from typing import Any

from airflow.sdk import task

from clinic2zoho.cluster.pools import WAREHOUSE_POOL  # DuckDB takes one writer: every warehouse writer shares it

log = logging.getLogger(__name__)


@task.short_circuit(pool=WAREHOUSE_POOL)
def check_window() -> dict[str, Any] | bool:
    """The open window (XCom), or False: no window, or this check closed it (later tasks skip)."""
    from clinic2zoho.delta import check_window as check

    checked = check()
    log.info("%s", checked.message)
    return checked.window.to_dict() if checked.proceed else False


@task(pool=WAREHOUSE_POOL)
def land(window: dict[str, Any], run_id: str | None = None) -> dict[str, Any]:
    from clinic2zoho.delta import get_window, land_changes

    return land_changes(get_window(window["window_id"]), run_id)


@task(pool=WAREHOUSE_POOL)
def rebuild(window: dict[str, Any], landed: dict[str, Any], run_id: str | None = None) -> dict[str, Any]:
    from clinic2zoho.delta import get_window, rebuild_models

    return rebuild_models(get_window(window["window_id"]), run_id, landed["tables"])


@task(pool=WAREHOUSE_POOL)
def stage(window: dict[str, Any], run_id: str | None = None) -> dict[str, Any]:
    from clinic2zoho.delta import get_window, stage_delta

    return {**stage_delta(get_window(window["window_id"]), run_id), "window_id": window["window_id"]}


@task
def modules_to_load(staged: dict[str, Any]) -> list[list[str]]:
    """One load task over every module with rows to send (the loader orders them), or none."""
    return [staged["modules"]] if staged["modules"] else []


@task(pool=WAREHOUSE_POOL, trigger_rule="none_failed_min_one_success")
def finish(staged: dict[str, Any], run_id: str | None = None) -> dict[str, Any]:
    """Runs after the load, or right after staging when nothing was to be sent."""
    from clinic2zoho.delta import finish_run, get_window

    return finish_run(get_window(staged["window_id"]), run_id)
