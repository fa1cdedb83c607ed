"""Zoho schema preparation from the confirmed mapping: custom modules, custom fields (types,
lengths, pick-list values, lookups, External ID fields) and the records the mapping needs (the
"Clinic services" product). Idempotent: the plan is the difference between the mapping and the
org's live metadata. It never deletes or narrows a field; a field of the same name with another
type stops the run. What it creates is recorded in `ops.schema_changes` for rollback `--schema`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

import duckdb

from clinic2zoho.mapping.seeds import picklist_values
from clinic2zoho.zoho.criteria import equals

# Zoho answers some types under more than one name.
_SAME_TYPE = [{"integer", "bigint"}, {"double", "decimal"}, {"lookup", "ownerlookup"}]
_FIELD_KINDS = {"standard", "custom", "junction"}


class SchemaConflict(RuntimeError):
    """An existing field has the mapping's name but another type (or a module is missing)."""


class SchemaClient(Protocol):
    def modules(self) -> list[dict]: ...
    def fields(self, module: str) -> list[dict]: ...
    def create_module(self, singular_label: str, plural_label: str, api_name: str | None = None) -> dict: ...
    def create_field(self, module: str, field_spec: dict) -> dict: ...
    def add_picklist_values(self, module: str, field_api_name: str, values: list[str]) -> dict: ...


@dataclass
class FieldWant:
    module: str
    api_name: str
    data_type: str
    length: int | None = None
    lookup: str | None = None
    external: bool = False
    values: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


@dataclass
class Step:
    kind: str  # module | field | picklist_values | record
    module: str
    field: str | None
    detail: dict[str, Any]

    def describe(self) -> str:
        if self.kind == "module":
            return f"create custom module {self.module} ({self.detail['plural_label']})"
        if self.kind == "field":
            d = self.detail
            extra = "".join([f", length {d['length']}" if d.get("length") else "",
                             f", lookup to {d['lookup']}" if d.get("lookup") else "",
                             ", External ID" if d.get("external") else "",
                             f", {len(d['values'])} values" if d.get("values") else ""])
            return f"create field {self.module}.{self.field} ({d['data_type']}{extra})"
        if self.kind == "picklist_values":
            return f"add pick-list values to {self.module}.{self.field}: {', '.join(self.detail['values'])}"
        return f"create {self.module} record {self.detail['values']}"


@dataclass
class Plan:
    steps: list[Step]
    notes: list[str]
    # the fields of the modules that were in the org when planned (module -> lower api_name ->
    # field): apply_plan starts from them rather than reading each module again
    live_fields: dict[str, dict[str, dict]] = field(default_factory=dict)

    def describe(self) -> str:
        if not self.steps:
            return "schema is up to date: nothing to change"
        return "\n".join(f"{i + 1}. {s.describe()}" for i, s in enumerate(self.steps))


def _same_type(a: str, b: str) -> bool:
    return a == b or any(a in s and b in s for s in _SAME_TYPE)


def wanted(mappings: list[dict[str, Any]]) -> tuple[dict[str, dict], dict[tuple[str, str], FieldWant], list[dict]]:
    """Modules, fields and records the mapping files ask for."""
    modules: dict[str, dict] = {}
    fields: dict[tuple[str, str], FieldWant] = {}
    records: list[dict] = []

    def want(module: str, spec: dict, source: str) -> None:
        key = (module, spec["field"])
        cur = fields.get(key)
        if cur is None:
            cur = fields[key] = FieldWant(module, spec["field"], spec["data_type"], spec.get("length"),
                                          spec.get("lookup"), bool(spec.get("external_id")))
        elif not _same_type(cur.data_type, spec["data_type"]):
            raise SchemaConflict(f"the mapping asks for {module}.{spec['field']} as {cur.data_type} "
                                 f"({', '.join(cur.sources)}) and as {spec['data_type']} ({source})")
        cur.length = max(filter(None, [cur.length, spec.get("length")]), default=None)
        cur.lookup = cur.lookup or spec.get("lookup")
        cur.external = cur.external or bool(spec.get("external_id"))
        for v in list(spec.get("values") or []) + [vm["zoho"] for vm in spec.get("value_map") or []]:
            if v not in cur.values:
                cur.values.append(v)
        cur.sources.append(source)

    for mapping in mappings:
        kinds = {m["api_name"]: m for m in mapping.get("modules", [])}
        for m in mapping.get("modules", []):
            modules.setdefault(m["api_name"], m)
            for spec in m.get("planned_fields") or []:
                if m["kind"] in _FIELD_KINDS:
                    want(m["api_name"], spec, f"{mapping['format']}: design")
        for ent in mapping.get("entities", []):
            for choice in ent.get("fields") or []:
                if choice.get("target", "skip") == "skip":
                    continue
                module = choice["target"].split(".", 1)[0]
                if kinds.get(module, {}).get("kind") not in _FIELD_KINDS:
                    continue
                spec = {**choice, "field": choice["target"].split(".", 1)[1]}
                want(module, spec, f"{mapping['format']}: {ent['entity']}.{choice['column']}")
        for rec in mapping.get("records") or []:
            if rec not in records:
                records.append(rec)
    # the value maps' Zoho values (and a pick-list column of a value map, e.g. Leads.Lead_Status)
    for key, values in picklist_values(mappings).items():
        if key in fields:
            fields[key].values += [v for v in values if v not in fields[key].values]
    return modules, fields, records


def _field_spec(w: FieldWant) -> dict[str, Any]:
    # Zoho derives the api_name from the label (spaces become underscores)
    spec: dict[str, Any] = {"field_label": w.api_name.replace("_", " "), "data_type": w.data_type}
    if w.length and w.data_type in {"text", "textarea", "email", "phone", "website"}:
        spec["length"] = w.length
    if w.data_type in {"picklist", "multiselectpicklist"}:
        spec["pick_list_values"] = [{"display_value": v, "actual_value": v} for v in w.values or ["-None-"]]
    if w.lookup:
        spec["lookup"] = {"module": {"api_name": w.lookup}}
    if w.external:
        spec["external"] = {"type": "org"}
    return spec


def build_plan(mappings: list[dict[str, Any]], client: SchemaClient, find_record=None) -> Plan:
    modules, fields, records = wanted(mappings)
    live_modules = {m["api_name"] for m in client.modules()}
    steps: list[Step] = []
    notes: list[str] = []
    live_fields: dict[str, dict[str, dict]] = {}
    for name, m in modules.items():
        if m["kind"] not in _FIELD_KINDS:
            continue
        if name in live_modules:
            # Zoho compares api names without case
            live_fields[name] = {f["api_name"].lower(): f for f in client.fields(name)}
        elif m["kind"] in {"custom", "junction"}:
            steps.append(Step("module", name, None, {"singular_label": m.get("singular_label") or name,
                                                     "plural_label": m.get("plural_label") or name}))
            live_fields[name] = {}
        else:
            raise SchemaConflict(f"standard module {name} is not in the org (is the module enabled?)")
    field_steps, value_steps = [], []
    for (module, name), w in fields.items():
        if module not in live_fields:
            continue
        live = live_fields[module].get(name.lower())
        if live is None:
            field_steps.append(Step("field", module, name, {"spec": _field_spec(w), "data_type": w.data_type,
                                                             "length": w.length, "values": w.values, "lookup": w.lookup,
                                                             "external": w.external, "sources": w.sources}))
            continue
        live_type = str(live.get("data_type"))
        if live["api_name"] != name:
            notes.append(f"{module}.{name} exists in Zoho as {live['api_name']}: use that spelling in the mapping")
        if not _same_type(live_type, w.data_type):
            raise SchemaConflict(
                f"Zoho already has {module}.{name} as {live_type}, but the mapping needs {w.data_type} "
                f"(from {', '.join(w.sources)}). Rename the target in the mapping or change the field in Zoho; "
                "prepare-schema never changes or deletes an existing field.")
        if w.length and live.get("length") and int(live["length"]) < w.length:
            notes.append(f"{module}.{name} holds {live['length']} characters, the mapping asks {w.length}: "
                         "left as it is (never narrowed or changed); longer values will be rejected by Zoho")
        if w.data_type in {"picklist", "multiselectpicklist"}:
            have = {v.get("actual_value") or v.get("display_value") for v in live.get("pick_list_values") or []}
            missing = [v for v in w.values if v not in have]
            if missing:
                value_steps.append(Step("picklist_values", module, name, {"values": missing}))
    # lookups to modules created in this plan come after those modules; plain fields first
    field_steps.sort(key=lambda s: s.detail.get("data_type") == "lookup")
    steps += field_steps + value_steps
    for rec in records:
        if rec["module"] not in live_modules:
            notes.append(f"module {rec['module']} not in the org: record {rec['values']} not created")
            continue
        if find_record is None or not find_record(rec):
            steps.append(Step("record", rec["module"], rec.get("key_field"), {"values": rec["values"], "why": rec.get("why")}))
    return Plan(steps, notes, {name: fields for name, fields in live_fields.items() if name in live_modules})


SCHEMA_CHANGES_DDL = """
create schema if not exists ops;
create table if not exists ops.schema_changes (
    run_id varchar not null,
    kind varchar not null,        -- module | field | picklist_values | record
    module varchar not null,
    field varchar,
    detail json,                  -- what was created: field spec, values added, record id
    created_at timestamptz not null
)"""


class ChangeLog:
    """ops.schema_changes of one run: one connection for the run's changes, opened at the first
    (a plan with nothing to change does not open the warehouse; the DAGs run prepare-schema alone
    on it, in the warehouse pool). Each row is committed the moment its change is made, so a crash
    leaves a true record."""

    def __init__(self, warehouse: Path, run_id: str) -> None:
        self.warehouse, self.run_id = warehouse, run_id
        self._con: duckdb.DuckDBPyConnection | None = None

    def record(self, step: Step, detail: dict[str, Any]) -> None:
        if self._con is None:
            self._con = duckdb.connect(str(self.warehouse))
            self._con.execute(SCHEMA_CHANGES_DDL)
        self._con.execute("insert into ops.schema_changes values (?, ?, ?, ?, ?, ?)",
                          [self.run_id, step.kind, step.module, step.field, json.dumps(detail, default=str),
                           datetime.now(timezone.utc)])

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None


def apply_plan(plan: Plan, client: Any, warehouse: Path, run_id: str, log=print) -> list[Step]:
    """Carry out the plan through the metadata API; returns the steps done. A module's fields are
    read once (the plan's, or after the module is created: it comes with default fields, e.g.
    Name) and kept up to date with what is created, instead of read around every field."""
    done = []
    known = {module: dict(fields) for module, fields in plan.live_fields.items()}
    profiles = None  # the org's profiles, read once for every module created (each gets them all)

    def fields_of(module: str) -> dict[str, dict]:
        if module not in known:  # Zoho compares api names without case
            known[module] = {f["api_name"].lower(): f for f in client.fields(module)}
        return known[module]

    changes = ChangeLog(warehouse, run_id)
    try:
        for step in plan.steps:
            if step.kind == "module":
                if profiles is None and hasattr(client, "profiles"):
                    profiles = [{"id": str(p["id"])} for p in client.profiles() if p.get("id")]
                extra = {"profiles": profiles} if profiles is not None else {}
                reply = client.create_module(step.detail["singular_label"], step.detail["plural_label"],
                                             api_name=step.module, **extra)
                # the client answers with the module as Zoho lists it: no need to list them again
                if not (isinstance(reply, dict) and reply.get("api_name") == step.module):
                    names = {m["api_name"] for m in client.modules()}
                    if step.module not in names:
                        raise SchemaConflict(f"created module {step.module!r} but Zoho lists {sorted(names)}")
                known.pop(step.module, None)  # read its default fields before its first field
                detail = {**step.detail, "reply": reply}
            elif step.kind == "field":
                spec = step.detail["spec"]
                # a module created above comes with default fields (e.g. Name): look before creating
                present = fields_of(step.module).get(step.field.lower())
                if present is not None:
                    if not _same_type(str(present.get("data_type")), step.detail["data_type"]):
                        raise SchemaConflict(f"Zoho already has {step.module}.{present['api_name']} as {present.get('data_type')}, "
                                             f"but the mapping needs {step.detail['data_type']}")
                    log(f"already there: {step.module}.{present['api_name']}")
                    continue
                reply = client.create_field(step.module, spec)
                # the client answers with the field as Zoho lists it (read back by its id)
                if isinstance(reply, dict) and reply.get("api_name"):
                    known[step.module][reply["api_name"].lower()] = reply
                else:
                    known.pop(step.module)
                created = fields_of(step.module).get(step.field.lower())
                if created is None or created["api_name"] != step.field:
                    # Zoho derives the api_name from the label: check it did
                    raise SchemaConflict(f"created {step.module} field labelled {spec['field_label']!r} but no "
                                         f"{step.field} appears in the module's fields")
                detail = {"data_type": step.detail["data_type"], "length": step.detail.get("length"),
                          "field_id": created.get("id"), "reply": reply}
            elif step.kind == "picklist_values":
                reply = client.add_picklist_values(step.module, step.field, step.detail["values"])
                detail = {"values": step.detail["values"], "reply": reply}
            else:
                results = client.insert(step.module, [step.detail["values"]])
                result = results[0]
                if not result.ok:
                    raise SchemaConflict(f"could not create {step.module} record {step.detail['values']}: {result.code} {result.message}")
                detail = {"values": step.detail["values"], "id": result.id}
            changes.record(step, detail)
            log(f"done: {step.describe()}")
            done.append(step)
    finally:
        changes.close()
    return done


def product_finder(client: Any):
    """Finds a design record (e.g. the Clinic services product) by its key field."""
    def find(rec: dict) -> bool:
        key = rec.get("key_field")
        value = rec["values"].get(key) if key else None
        if not key or value is None:
            return False
        return any(True for _ in client.search(rec["module"], equals(key, value)))
    return find
