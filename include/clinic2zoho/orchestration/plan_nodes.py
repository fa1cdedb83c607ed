"""The load plan as known when a DAG file is parsed: from the dbt nodes Cosmos has rendered
(their `meta`), before any manifest exists. It fixes the DAG's shape only — one load task per
Zoho module, each after the modules its lookups point at; at run time the load tasks read the
plan written by `prepare_load` from the manifest of the build that just ran."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from clinic2zoho.loader.plan import LoadPlan
from clinic2zoho.loader.plan import _spec_from_node as spec_from_manifest_node  # one reading of meta for both


def plan_from_nodes(nodes: Iterable[Mapping[str, Any]]) -> LoadPlan:
    """nodes: dicts with `name`, `config` (holding `meta`, optionally `schema`, `alias`) — what
    Cosmos's DbtNode carries. Models without `zoho_module` in their meta are left out."""
    specs = []
    for node in nodes:
        config = dict(node.get("config") or {})
        manifest_like = {"name": node["name"], "alias": config.get("alias") or node["name"],
                         "schema": config.get("schema") or "zoho", "config": {"meta": config.get("meta") or {}}}
        spec = spec_from_manifest_node(manifest_like)
        if spec is not None:
            specs.append(spec)
    return LoadPlan(tuple(specs))


def upstream_modules(plan: LoadPlan) -> dict[str, list[str]]:
    """module -> the modules of the plan it must wait for (lookups and note/attachment parents)."""
    known = set(plan.modules())
    return {s.module: sorted(d for d in s.dependencies() if d in known) for s in plan.specs}
