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


SURE = 0.9  # a first choice at this confidence or more is not listed for review: wrong there is silent


def confidences(mapping: dict[str, Any]) -> dict[str, float]:
    """The proposal's confidence in each first choice, keyed as first_choices keys them."""
    out: dict[str, float] = {}
    for ent in mapping["entities"]:
        out[ent["entity"]] = float(ent.get("confidence", 0.0))
        for f in ent.get("fields") or []:
            out[f"{ent['entity']}.{f['column']}"] = float(f.get("confidence", 0.0))
    return out


def silently_wrong(mapping: dict[str, Any], expected: dict[str, str],
                   sure: float = SURE) -> list[tuple[str, str, str, float]]:
    """Misses the proposal was sure of (confidence ≥ `sure`): (key, expected, proposed, confidence)."""
    conf = confidences(mapping)
    _, misses = accuracy(mapping, expected)
    return [(k, want, got, conf.get(k, 0.0)) for k, want, got in misses if conf.get(k, 0.0) >= sure]
