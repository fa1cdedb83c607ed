"""FastAPI builds each dependant of a request once with build_each_dependant_once, and answers as
FastAPI without it does, overrides included."""

from __future__ import annotations

from typing import Annotated

import fastapi.dependencies.utils as fastapi_dependencies
import pytest
from fastapi import Depends, FastAPI, Header
from fastapi.testclient import TestClient

from clinic2zoho_airflow import request_dependants
from clinic2zoho_airflow.request_dependants import build_each_dependant_once


@pytest.fixture
def builds(monkeypatch):
    """FastAPI's own get_dependant counting its builds, with nothing remembered yet; the test
    installs build_each_dependant_once over it when it needs it."""
    original = getattr(fastapi_dependencies.get_dependant, "built_by", fastapi_dependencies.get_dependant)
    calls: list[object] = []

    def counted(**arguments):
        calls.append(arguments["call"])
        return original(**arguments)

    monkeypatch.setattr(fastapi_dependencies, "get_dependant", counted)
    monkeypatch.setattr(request_dependants, "_BUILT", {})
    return calls


def clinic_header(x_clinic: Annotated[str, Header()]) -> str:
    return x_clinic


def real_caller(clinic: Annotated[str, Depends(clinic_header)]) -> str:
    raise AssertionError("overridden in every app below")


def allowed_caller(clinic: Annotated[str, Depends(clinic_header)]) -> str:
    return f"allowed:{clinic}"


def app_with_an_override() -> FastAPI:
    app = FastAPI()

    @app.get("/records/{record_id}")
    def record(record_id: int, caller: Annotated[str, Depends(real_caller)]) -> dict:
        return {"id": record_id, "caller": caller}

    app.dependency_overrides[real_caller] = allowed_caller
    return app


def answers(client: TestClient) -> list[tuple[int, object]]:
    found = []
    for path, headers in (("/records/7", {"x-clinic": "north"}), ("/records/8", {"x-clinic": "south"}),
                          ("/records/x", {"x-clinic": "north"}), ("/records/9", {})):
        response = client.get(path, headers=headers)
        found.append((response.status_code, response.json()))
    return found


def test_requests_build_their_dependants_once_and_answer_as_fastapi_does(builds):
    app = app_with_an_override()
    with TestClient(app) as client:
        as_fastapi = answers(client)
        built_by_fastapi = len(builds)
        assert built_by_fastapi >= 8  # FastAPI alone rebuilds the overridden dependency at every request

        assert build_each_dependant_once() is True
        builds.clear()
        first = answers(client)
        built_first = len(builds)
        again = answers(client)

    assert as_fastapi[0] == (200, {"id": 7, "caller": "allowed:north"})
    assert as_fastapi[2][0] == 422 and as_fastapi[3][0] == 422  # a bad path and a missing header
    assert first == as_fastapi and again == as_fastapi
    assert 0 < built_first < built_by_fastapi
    assert len(builds) == built_first  # nothing built again by the second round of requests


def test_a_dependant_is_shared_only_between_the_same_arguments(builds):
    build_each_dependant_once()
    get = fastapi_dependencies.get_dependant
    one = get(path="/records/{record_id}", call=allowed_caller, name="caller", parent_oauth_scopes=[])
    assert get(path="/records/{record_id}", call=allowed_caller, name="caller", parent_oauth_scopes=[]) is one
    others = [get(path="/notes/{note_id}", call=allowed_caller, name="caller", parent_oauth_scopes=[]),
              get(path="/records/{record_id}", call=allowed_caller, name="other", parent_oauth_scopes=[]),
              get(path="/records/{record_id}", call=allowed_caller, name="caller", parent_oauth_scopes=["read"]),
              get(path="/records/{record_id}", call=allowed_caller, name="caller", use_cache=False)]
    assert all(other is not one for other in others)
    assert len({id(other) for other in others}) == len(others)
    assert [d.dependencies[0].call for d in (one, *others)] == [clinic_header] * 5


def test_a_dependency_that_cannot_be_a_key_is_built_every_time(builds):
    class Unhashable:
        __hash__ = None

        def __call__(self, x_clinic: Annotated[str, Header()]) -> str:
            return x_clinic

    build_each_dependant_once()
    dependency = Unhashable()
    first = fastapi_dependencies.get_dependant(path="/records", call=dependency)
    second = fastapi_dependencies.get_dependant(path="/records", call=dependency)
    assert first is not second
    assert [p.name for p in first.header_params] == [p.name for p in second.header_params] == ["x_clinic"]
    assert builds.count(dependency) == 2


def test_installing_it_again_changes_nothing(builds):
    assert build_each_dependant_once() is True
    installed = fastapi_dependencies.get_dependant
    assert build_each_dependant_once() is True
    assert fastapi_dependencies.get_dependant is installed


def test_a_closure_is_built_every_time_and_not_kept(builds):
    import gc
    import weakref

    class DagBag:  # what Airflow's supervisor closes over, new for every task
        pass

    def override_for_a_task():
        bag = DagBag()
        return (lambda: bag), weakref.ref(bag)

    build_each_dependant_once()
    dependency, bag = override_for_a_task()
    first = fastapi_dependencies.get_dependant(path="/task-instances/{id}/run", call=dependency)
    second = fastapi_dependencies.get_dependant(path="/task-instances/{id}/run", call=dependency)
    assert first is not second and first.call is second.call is dependency
    assert builds.count(dependency) == 2
    builds.clear()  # the test's own count held it
    del dependency, first, second
    gc.collect()
    assert bag() is None  # nothing remembered holds the task's DAG bag


def test_a_call_with_arguments_it_does_not_know_is_built_every_time(builds):
    # a later FastAPI may give get_dependant another argument: such calls are passed on, never keyed
    made = []

    def later_fastapi(**arguments):
        made.append(arguments)
        return object()

    get = request_dependants._built_once(later_fastapi)
    first = get(path="/records", call=allowed_caller, name="caller", new_option=True)
    second = get(path="/records", call=allowed_caller, name="caller", new_option=True)
    assert first is not second and len(made) == 2 and made[0]["new_option"] is True
    assert get(path="/records", call=allowed_caller) is get(path="/records", call=allowed_caller)
    assert len(made) == 3
