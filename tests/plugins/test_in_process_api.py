"""The execution API a `dags test` process serves to itself is built for the task SDK's version
only, and serves that version as Airflow's own app, built with every version, does; its requests
build each FastAPI dependant once (request_dependants)."""

from __future__ import annotations

import fastapi.dependencies.utils as fastapi_dependencies
import httpx
import pytest
from airflow.api_fastapi.execution_api.app import InProcessExecutionAPI, create_task_execution_api_app
from airflow.sdk.api.datamodels._generated import API_VERSION
from airflow.sdk.execution_time import supervisor
from fastapi.openapi.utils import get_openapi

import clinic2zoho_airflow.plugin  # noqa: F401  (loading the plugin points the supervisor at it)
from clinic2zoho_airflow import in_process_api
from clinic2zoho_airflow.in_process_api import build_for_the_sdks_version, one_version_api_server, serve_the_sdks_version_only


def openapi(routes) -> dict:
    return get_openapi(title="execution API", version=API_VERSION, routes=routes)


@pytest.fixture
def server(monkeypatch):
    """The one-version server over a new Airflow server (this process's own may already be built)."""
    monkeypatch.setattr(in_process_api, "_airflows_server", InProcessExecutionAPI)
    one_version_api_server.cache_clear()
    yield one_version_api_server()
    one_version_api_server.cache_clear()


def test_the_plugin_points_the_supervisor_at_the_one_version_server():
    assert supervisor.in_process_api_server is one_version_api_server
    assert serve_the_sdks_version_only()  # idempotent
    assert supervisor.in_process_api_server is one_version_api_server


def test_it_serves_the_sdks_version_as_airflows_app_of_every_version_does(server):
    assert sorted(server.app.router.versioned_routers) == [API_VERSION]
    assert getattr(fastapi_dependencies.get_dependant, "built_by", None)  # its requests build each dependant once
    with httpx.Client(transport=server.transport, base_url="http://in-process.invalid.") as client:
        response = client.get("/health/ping", headers={"airflow-api-version": API_VERSION})
    assert response.status_code == 200

    every_version = create_task_execution_api_app()
    every_version._cadwyn_initialize()
    assert len(every_version.router.versioned_routers) > 1  # Airflow's own app has older versions too
    ours = server.app.router.versioned_routers[API_VERSION].routes
    theirs = every_version.router.versioned_routers[API_VERSION].routes
    assert sorted((r.path, sorted(r.methods or ())) for r in ours) == sorted((r.path, sorted(r.methods or ())) for r in theirs)
    assert openapi(ours) == openapi(theirs)  # the same requests and responses, schema by schema


def test_an_sdk_of_another_version_gets_airflows_app_of_every_version(monkeypatch):
    import airflow.sdk.api.datamodels._generated as generated

    monkeypatch.setattr(generated, "API_VERSION", "2025-04-11")  # an older SDK than the server
    api = InProcessExecutionAPI()
    build_for_the_sdks_version(api)
    assert api._app is None  # left to Airflow, which builds every version at the first request
    with httpx.Client(transport=api.transport, base_url="http://in-process.invalid.") as client:
        assert client.get("/health/ping", headers={"airflow-api-version": "2025-04-11"}).status_code == 200
    assert "2025-04-11" in api.app.router.versioned_routers and API_VERSION in api.app.router.versioned_routers
