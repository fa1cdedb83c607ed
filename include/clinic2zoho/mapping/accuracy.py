"""How often the proposal's first choice matches a hand-written expected mapping.

An expected mapping is a YAML dict `entity.column: choice`, where a choice is `Module.Field` (an
existing or planned field), `new Module <data_type>` (a new custom field of that type), `skip`, or
`not_migrated` (for an entity: `entity: not_migrated` / `entity: Module`)."""

from __future__ import annotations

from typing import Any


def first_choices(mapping: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for ent in mapping["entities"]:
        if ent["kind"] != "module":
            out[ent["entity"]] = ent["kind"] if ent["kind"] == "not_migrated" else f"{ent['kind']} {ent['module']}.{ent['field']}"
            continue
        out[ent["entity"]] = ent["module"]
        for f in ent["fields"]:
            key = f"{ent['entity']}.{f['column']}"
            if f["target"] == "skip" and not f.get("unmapped_target"):
                out[key] = "skip"
            elif f.get("new_field"):
                out[key] = f"new {f['module']} {f['data_type']}"
            else:  # a match the model cannot carry yet (unmapped_target) still counts as the match
                out[key] = f.get("unmapped_target") or f["target"]
    return out


def accuracy(mapping: dict[str, Any], expected: dict[str, str]) -> tuple[float, list[tuple[str, str, str]]]:
    """Share of expected entries the proposal's first choice matches, and the misses
    (key, expected, proposed)."""
    got = first_choices(mapping)
    misses = [(k, v, got.get(k, "<absent>")) for k, v in expected.items() if got.get(k) != v]
    return (1 - len(misses) / len(expected)) if expected else 0.0, misses
