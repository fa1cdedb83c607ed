"""Each FastAPI dependant of the in-process execution API built once, not at every request.

The execution API a `dags test` process serves to itself (in_process_api) replaces its auth
dependencies through FastAPI's `dependency_overrides`. With any override in place, FastAPI's
`solve_dependencies` (0.136) rebuilds every sub-dependency of the route at every request with
`get_dependant`, reading each function's signature again, and Cadwyn solves a route's
dependencies twice. That was about a third of the in-process server's CPU: some 5 ms of every task
of a DAG run (200 empty tasks under `airflow dags test`, a probe outside the repository: 11.0 to
11.6 s before, 10.1 to 10.5 s after). `build_each_dependant_once` makes `get_dependant` return
the dependant it built before for the same arguments: the same function, path, name, scopes and
cache setting give the same dependant, which FastAPI only reads once built, as it reads a route's
own dependant, built once, at every request.

Built every time, as before: a dependency that cannot be a dict key, a call with arguments
other than FastAPI 0.136's, and a closure. Airflow's supervisor overrides the DAG bag dependency
with a new closure over a new DAG bag for every task (`InProcessTestSupervisor._api_client`);
remembering it would keep every task's DAG bag, and the DAGs it loaded, for the life of the
process. A closure's own dependant is small; the dependencies
it declares are still built once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import fastapi.dependencies.utils as fastapi_dependencies

_BUILT: dict[tuple, Any] = {}
_MAX_BUILT = 4096  # the execution API has a few hundred (route, dependency) pairs


# get_dependant's keyword arguments (FastAPI 0.136) and their defaults: a call with any other is built
_ARGUMENTS = {"path": None, "call": None, "name": None, "own_oauth_scopes": None, "parent_oauth_scopes": None,
              "use_cache": True, "scope": None}


def _key_part(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value  # scopes come as lists


def _built_once(build: Callable[..., Any]) -> Callable[..., Any]:
    def get_dependant(*args: Any, **arguments: Any) -> Any:
        call = arguments.get("call")
        if args or not _ARGUMENTS.keys() >= arguments.keys() or getattr(call, "__closure__", None):
            return build(*args, **arguments)  # a call this cache does not know how to key
        key = tuple(_key_part(arguments.get(name, default)) for name, default in _ARGUMENTS.items())
        try:
            built = _BUILT.get(key)
        except TypeError:  # an unhashable dependency (an instance defining __eq__ only)
            return build(**arguments)
        if built is None:
            built = build(**arguments)
            if len(_BUILT) < _MAX_BUILT:
                _BUILT[key] = built
        return built

    get_dependant.built_by = build  # type: ignore[attr-defined]
    return get_dependant


def build_each_dependant_once() -> bool:
    """Point FastAPI's request-time `get_dependant` at one that builds each dependant once
    (idempotent). False, and nothing changed, when FastAPI has no such module-level function."""
    current = getattr(fastapi_dependencies, "get_dependant", None)
    if current is None:
        return False
    if getattr(current, "built_by", None) is not None:
        return True
    fastapi_dependencies.get_dependant = _built_once(current)
    return True
