"""Airflow's execution API, served in-process for one API version: the task SDK's.

`airflow dags test` (what `clinic2zoho migrate` and the demo run) and `dag.test()` serve Airflow's
execution API inside their own process (`supervisor.in_process_api_server`). Its Cadwyn app
generates the routes of every API version it knows (9 in Airflow 3.3) at its first request: 2.3 to
2.7 s of CPU in each such process, before the first task starts. The only client of that server
is the task SDK of the same process, which speaks one version, the newest. Here the in-process
app is built for that version alone. The routes and schemas it serves are the ones Airflow
generates for that version (tests/plugins/test_in_process_api.py compares them). A real API
server (the Celery cluster's, a deployment's) is untouched and keeps every version for
workers of other versions."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)
_airflows_server: Callable[[], Any] | None = None  # the supervisor's own, once replaced


def serve_the_sdks_version_only() -> bool:
    """Point the supervisor's in-process API server at `one_version_api_server` (idempotent).
    False, and nothing changed, when this Airflow builds it another way."""
    global _airflows_server
    from airflow.sdk.execution_time import supervisor

    current = getattr(supervisor, "in_process_api_server", None)
    if current is one_version_api_server:
        return True
    if current is None or not hasattr(current, "__wrapped__"):
        return False
    _airflows_server = current
    supervisor.in_process_api_server = one_version_api_server
    return True


@functools.lru_cache(maxsize=1)
def one_version_api_server() -> Any:
    """Airflow's in-process API server, its app built for the task SDK's API version only; the
    server as Airflow builds it when that cannot be done (another Cadwyn, another SDK version).
    Either way its requests reuse the dependants they build (request_dependants)."""
    from clinic2zoho_airflow.request_dependants import build_each_dependant_once

    build_each_dependant_once()
    api = _airflows_server()
    if getattr(api, "_app", None) is None:  # not built yet
        try:
            build_for_the_sdks_version(api)
        except Exception:  # Airflow builds its own app at the first request, every version in it
            log.debug("in-process execution API left with every version", exc_info=True)
    return api


def build_for_the_sdks_version(api: Any) -> None:
    """Build `api.app` (Airflow's own recipe, InProcessExecutionAPI.app) with a version bundle
    holding only the SDK's version, when that is the newest version the server knows."""
    import airflow.api_fastapi.execution_api.versions as versions
    from airflow.sdk.api.datamodels._generated import API_VERSION
    from cadwyn import HeadVersion, Version, VersionBundle
    from cadwyn.route_generation import _DELETED_ROUTE_TAG

    every_version = versions.bundle
    if every_version.versions[0].value != API_VERSION:
        return
    versions.bundle = VersionBundle(HeadVersion(), Version(API_VERSION))
    try:
        app = api.app
    finally:
        versions.bundle = every_version
    try:
        # routes kept only for older versions (Cadwyn's `only_exists_in_older_versions`) are not
        # this version's; then its routes are generated now, as the first request would
        router = app._latest_version_router
        router.routes[:] = [route for route in router.routes
                            if _DELETED_ROUTE_TAG not in (getattr(route, "tags", None) or ())]
        app._cadwyn_initialize()
    except Exception:
        api._app = None  # Airflow builds its own at the first request
        try:
            del api.app  # the cached property (a slot of Airflow's attrs class)
        except AttributeError:
            pass
        raise


def serves_itself() -> bool:
    """Whether this process serves Airflow's execution API to itself: it runs a DAG run's tasks
    one after another in-process (`airflow dags test`, `dag.test()`), not one task for an executor."""
    from airflow.sdk.execution_time import supervisor

    server = getattr(supervisor, "in_process_api_server", None)
    info = getattr(server, "cache_info", None)
    return bool(info and info().currsize)
