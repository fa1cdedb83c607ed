"""Layout-mandatory fields the export has no source for, and the rule a person confirms for each.

A Zoho layout may require a field the clinic's export never holds (Zoho's standard Leads layout
requires Company; a patient lead is a person). Nothing is invented for it: the mapping file
carries one entry per such field in `layout_mandatory:`,

    layout_mandatory:
    - module: Leads
      field: Company
      value: Individual (patient)      # the literal every record gets
      confirmed_by: NAME               # who supplied it
      confirmed_at: '2026-12-05T02:00:00+00:00'
      why: ...

`propose` writes the entry with `value: null` and `status: NEEDS A PERSON` (keeping a rule a person
already confirmed in the file it replaces); only an entry with a value and `confirmed_by` reaches
the models: `write_seeds` puts it in the seed layout_mandatory_values, which the macro
`layout_mandatory_columns` reads into the zoho_* model as a column (NULL while unconfirmed, so the
load's layout gate, loader.layout_gate, counts the rows and stops). The mapping confirmation's hash
covers the file, so a changed value blocks loading until confirmed again."""

from __future__ import annotations

from typing import Any

from clinic2zoho.zoho.errors import ZohoTerminalError
from clinic2zoho.zoho.layouts import STANDARD_LAYOUT_MANDATORY, mandatory_fields

NEEDS_A_PERSON = "NEEDS A PERSON"
SEED = "layout_mandatory_values"
SEED_COLUMNS = ["zoho_model", "module", "column_name", "value", "confirmed_by", "confirmed_at", "source_format"]
# What a clinic might confirm, shown beside the empty value (never written into `value`).
SUGGESTIONS = {
    ("Leads", "Company"): "the patient's employer where the export has one, else a clearly labelled literal such "
                          "as 'Individual (patient)' or the clinic's own name",
}


class LayoutRuleConflict(ValueError):
    """Two mapping files confirm different values for one model column."""


def confirmed(entry: dict[str, Any]) -> bool:
    return entry.get("value") not in (None, "") and bool(entry.get("confirmed_by"))


def required_without_source(module: str, filled: set[str], client: Any = None) -> list[str]:
    """Fields of `module` its layouts require (the org's, read through `client`; else Zoho's
    standard layouts) that no column of the mapping fills."""
    names = list(STANDARD_LAYOUT_MANDATORY.get(module, ()))
    if client is not None:
        try:
            names = [f.api_name for f in mandatory_fields(client, module)]
        except ZohoTerminalError as exc:
            if exc.code != "INVALID_MODULE":
                raise  # a module schema preparation will create: Zoho's standard layouts say what it needs
    return [n for n in names if n not in filled]


def propose_entries(modules: list[dict[str, Any]], entities: list[dict[str, Any]], previous: dict[str, Any] | None,
                    client: Any = None) -> list[dict[str, Any]]:
    """The `layout_mandatory:` section of a proposal: one entry per layout-mandatory field of a
    module the mapping loads that neither a mapped column nor a planned field fills. A rule the
    previous file holds for the same field is kept as it was (a person's decision)."""
    kept = {(e.get("module"), e.get("field")): e for e in (previous or {}).get("layout_mandatory") or []}
    out: list[dict[str, Any]] = []
    for module in modules:
        name = module["api_name"]
        if module.get("kind") in ("attachments", "notes") or not module.get("model"):
            continue
        filled = {f["field"] for f in module.get("planned_fields") or []}
        filled |= {c["target"].split(".", 1)[1] for e in entities for c in e.get("fields") or []
                   if str(c.get("target", "skip")).startswith(f"{name}.")}
        for field in required_without_source(name, filled, client):
            earlier = kept.get((name, field))
            if earlier is not None:
                out.append(earlier)
                continue
            out.append({"module": name, "field": field, "value": None, "confirmed_by": None, "confirmed_at": None,
                        "status": NEEDS_A_PERSON,
                        "why": f"the org's {name} layout makes {field} mandatory and the export has no column for it",
                        **({"suggestion": SUGGESTIONS[(name, field)]} if (name, field) in SUGGESTIONS else {})})
    return out


def seed_rows(mappings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (model, column) the files name in `layout_mandatory:`; `value` empty until a
    person confirmed it. Files confirming different values for one column conflict."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for mapping in mappings:
        models = {m["api_name"]: m.get("model") for m in mapping.get("modules") or []}
        for i, entry in enumerate(mapping.get("layout_mandatory") or []):
            module, field = entry.get("module"), entry.get("field")
            if not module or not field:
                raise ValueError(f"mapping/{mapping['format']}.yml: layout_mandatory[{i}] needs module and field")
            model = models.get(module)
            if not model:
                continue
            row = {"zoho_model": model, "module": module, "column_name": field,
                   "value": entry["value"] if confirmed(entry) else None,
                   "confirmed_by": entry.get("confirmed_by") if confirmed(entry) else None,
                   "confirmed_at": entry.get("confirmed_at") if confirmed(entry) else None,
                   "source_format": mapping["format"]}
            seen = rows.get((model, field))
            if seen is None or seen["value"] is None:
                rows[(model, field)] = row
            elif row["value"] is not None and row["value"] != seen["value"]:
                raise LayoutRuleConflict(
                    f"layout_mandatory {module}.{field}: {seen['value']!r} in mapping/{seen['source_format']}.yml but "
                    f"{row['value']!r} in mapping/{mapping['format']}.yml: one table loads {module}, make them agree")
    return sorted(rows.values(), key=lambda r: (r["zoho_model"], r["column_name"]))


def needing_a_person(mappings: list[dict[str, Any]]) -> list[str]:
    """`Module.Field (format)` of every entry still without a confirmed rule."""
    return [f"{e.get('module')}.{e.get('field')} ({m['format']})" for m in mappings
            for e in m.get("layout_mandatory") or [] if not confirmed(e)]


def supply(dbt_dir: Any, rules: dict[str, str], by: str) -> list[str]:
    """A person's values for layout-mandatory fields (`{"Leads.Company": "Individual (patient)"}`),
    written into every mapping file whose `layout_mandatory:` names the field, with who and when;
    the confirmation that follows (confirmation.confirm) writes the seeds the models read from them
    (seeds imports this module: no import back). Returns the `Module.Field (format)` set; a
    rule naming a field no file lists is refused (nothing is added the proposal did not ask for)."""
    from datetime import datetime, timezone

    from clinic2zoho.mapping import files

    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    mappings = {path: files.read_mapping(path) for path in files.mapping_files(dbt_dir)}
    listed = {f"{e.get('module')}.{e.get('field')}" for m in mappings.values() for e in m.get("layout_mandatory") or []}
    if set(rules) - listed:  # checked before any file changes
        raise ValueError(f"no mapping lists {', '.join(sorted(set(rules) - listed))} under layout_mandatory: "
                         "nothing to supply")
    done: list[str] = []
    for path, mapping in mappings.items():
        changed = False
        for entry in mapping.get("layout_mandatory") or []:
            key = f"{entry.get('module')}.{entry.get('field')}"
            if key in rules:
                entry.update(value=rules[key], confirmed_by=by, confirmed_at=now)
                entry.pop("status", None)
                done.append(f"{key} ({mapping['format']})")
                changed = True
        if changed:
            files.write_mapping(mapping, path)
    return done
