"""The dbt seeds the mapping files drive, written from them (never edited by hand):

- the value maps the models join (`referral_source_map`, `visit_outcome_map`, `claim_status_map`,
  `patient_status_map`, `contact_method_map`, `appointment_type_map`), from each file's `value_maps:` section;
- `zoho_picklists` (module, field, value): every pick-list value the mapping may write, checked
  by the accepted_picklist_values test and created by schema preparation;
- `mapping_model_columns`: every column each zoho_* model must have according to the files
  (column_role `mapped` / `planned` / `helper`, `layout`: a layout-mandatory field's confirmed rule,
  and `extra`: a source column carried into the model by the `clinic_extra_columns` macro), read by
  that macro and by the test `assert_mapping_matches_zoho_models`;
- `layout_mandatory_values`: the rule a person confirmed for each layout-mandatory field the export
  has no source for (mapping/layout_mandatory.py), read by the macro `layout_mandatory_columns`.

`clinic2zoho propose` and `clinic2zoho confirm` call `write_seeds`, so the confirmation's hash
covers what dbt reads. A clinic edits the YAML; a hand edit of one of these CSVs is replaced."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from clinic2zoho.mapping import files, layout_mandatory

# The value-map seeds and their columns, as the models read them.
VALUE_MAP_SEEDS: dict[str, list[str]] = {
    "referral_source_map": ["source_value", "Referral_Source"],
    "visit_outcome_map": ["source_outcome", "Visit_Outcome"],
    "claim_status_map": ["source_status", "Claim_Status"],
    "patient_status_map": ["source_status", "module_without_visits", "Patient_Status", "is_archived", "Lead_Status"],
    "contact_method_map": ["source_method", "Preferred_Contact_Method"],
    "appointment_type_map": ["source_type", "Appointment_Type"],
}
PICKLISTS_SEED = "zoho_picklists"
MODEL_COLUMNS_SEED = "mapping_model_columns"
MODEL_COLUMNS = ["zoho_model", "column_name", "column_role", "source_format", "source_table", "source_column", "data_type",
                 "value_map"]
GENERATED = (*VALUE_MAP_SEEDS, PICKLISTS_SEED, MODEL_COLUMNS_SEED, layout_mandatory.SEED)
_PICKLIST_TYPES = {"picklist", "multiselectpicklist"}
_FIELD_KINDS = {"standard", "custom", "junction"}


class SeedConflict(ValueError):
    """Two mapping files map one source value to different Zoho values."""


def value_map_rows(mappings: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Seed name -> rows (seed columns), the union over the mapping files."""
    out: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in VALUE_MAP_SEEDS}
    origin: dict[tuple[str, str], str] = {}
    for mapping in mappings:
        for name, vm in (mapping.get("value_maps") or {}).items():
            if name not in VALUE_MAP_SEEDS:
                raise ValueError(f"mapping/{mapping['format']}.yml: value_maps.{name} is not a seed the models read "
                                 f"(known: {', '.join(VALUE_MAP_SEEDS)})")
            columns = VALUE_MAP_SEEDS[name]
            key, zoho_column = columns[0], vm["field"].split(".", 1)[1]
            for i, entry in enumerate(vm.get("values") or []):
                if "source" not in entry or "zoho" not in entry:
                    raise ValueError(f"mapping/{mapping['format']}.yml: value_maps.{name}.values[{i}] needs source and zoho")
                source = str(entry["source"])
                row = {key: source, zoho_column: entry["zoho"]}
                row |= {c: entry.get(c) for c in columns if c not in row}
                seen = out[name].get(source)
                if seen is not None and seen != row:
                    raise SeedConflict(f"value_maps.{name}: {source!r} maps to {seen[zoho_column]!r} in "
                                       f"mapping/{origin[(name, source)]}.yml but to {entry['zoho']!r} in "
                                       f"mapping/{mapping['format']}.yml: make them agree")
                out[name][source] = row
                origin[(name, source)] = mapping["format"]
    return {name: sorted(rows.values(), key=lambda r: str(r[VALUE_MAP_SEEDS[name][0]])) for name, rows in out.items()}


def picklist_values(mappings: list[dict[str, Any]]) -> dict[tuple[str, str], list[str]]:
    """(module, field) -> every pick-list value the mapping files may write there."""
    out: dict[tuple[str, str], list[str]] = {}

    def add(module: str, field: str, values) -> None:
        have = out.setdefault((module, field), [])
        for v in values:
            if v is not None and str(v) not in have:
                have.append(str(v))

    for mapping in mappings:
        for m in mapping.get("modules") or []:
            for spec in m.get("planned_fields") or []:
                if spec.get("data_type") in _PICKLIST_TYPES:
                    add(m["api_name"], spec["field"], spec.get("values") or [])
        for ent in mapping.get("entities") or []:
            for choice in ent.get("fields") or []:
                if choice.get("target", "skip") != "skip" and choice.get("data_type") in _PICKLIST_TYPES:
                    module, field = choice["target"].split(".", 1)
                    add(module, field, [vm["zoho"] for vm in choice.get("value_map") or []])
        for vm in (mapping.get("value_maps") or {}).values():
            values = vm.get("values") or []
            for target in [vm["field"], *(vm.get("also") or [])]:
                add(*target.split(".", 1), [v["zoho"] for v in values])
            for column, spec in (vm.get("columns") or {}).items():
                if isinstance(spec, dict) and spec.get("field"):
                    add(*spec["field"].split(".", 1), [v.get(column) for v in values])
    return {k: v for k, v in out.items() if v}


def model_column_rows(mappings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every column the mapping files expect on each zoho_* model, and where an extra one comes from."""
    rows: dict[tuple, dict[str, Any]] = {}

    def add(**row: Any) -> None:
        full = {c: row.get(c) for c in MODEL_COLUMNS}
        rows.setdefault((full["zoho_model"], full["column_name"].lower(), full["column_role"], full["source_format"]), full)

    for mapping in mappings:
        fmt = mapping["format"]
        models = {m["api_name"]: m.get("model") for m in mapping.get("modules") or []}
        for m in mapping.get("modules") or []:
            if not m.get("model"):
                continue
            for spec in m.get("planned_fields") or []:
                add(zoho_model=m["model"], column_name=spec["field"], column_role="planned", source_format=fmt, data_type=spec.get("data_type"))
            for helper in m.get("helper_columns") or []:
                add(zoho_model=m["model"], column_name=helper, column_role="helper", source_format=fmt)
        for entry in mapping.get("layout_mandatory") or []:  # the column the macro layout_mandatory_columns adds
            if models.get(entry.get("module")):
                add(zoho_model=models[entry["module"]], column_name=entry["field"], column_role="layout", source_format=fmt)
        for ent in mapping.get("entities") or []:
            for choice in ent.get("fields") or []:
                if choice.get("target", "skip") == "skip":
                    continue
                module, field = choice["target"].split(".", 1)
                model = models.get(module)
                if not model:
                    continue
                column = choice.get("via") or field
                if choice.get("carried_by") == "clinic_extra_columns":
                    translate = {str(v["source"]): v["zoho"] for v in choice.get("value_map") or []
                                 if str(v["source"]) != str(v["zoho"])}
                    add(zoho_model=model, column_name=column, column_role="extra", source_format=fmt, source_table=ent["table"],
                        source_column=choice["column"], data_type=choice.get("data_type"),
                        value_map=json.dumps(translate, ensure_ascii=False, sort_keys=True) if translate else None)
                else:
                    add(zoho_model=model, column_name=column, column_role="mapped", source_format=fmt, data_type=choice.get("data_type"))
    return sorted(rows.values(), key=lambda r: (r["zoho_model"], r["column_role"], r["column_name"], r["source_format"]))


def _csv(columns: list[str], rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: _cell(row.get(c)) for c in columns})
    return buf.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def seed_texts(mappings: list[dict[str, Any]]) -> dict[str, str]:
    """File name -> CSV text of every generated seed."""
    texts = {f"{name}.csv": _csv(VALUE_MAP_SEEDS[name], rows) for name, rows in value_map_rows(mappings).items()}
    picklists = [{"module": m, "field": f, "value": v} for (m, f), values in sorted(picklist_values(mappings).items())
                 for v in values]
    texts[f"{PICKLISTS_SEED}.csv"] = _csv(["module", "field", "value"], picklists)
    texts[f"{MODEL_COLUMNS_SEED}.csv"] = _csv(MODEL_COLUMNS, model_column_rows(mappings))
    texts[f"{layout_mandatory.SEED}.csv"] = _csv(layout_mandatory.SEED_COLUMNS, layout_mandatory.seed_rows(mappings))
    return texts


def write_seeds(dbt_dir: Path | None = None) -> list[Path]:
    """Write the generated seeds from every mapping file in the project; returns the files that
    changed. Without a mapping file nothing is written (the project's seeds stay as they are)."""
    dbt_dir = dbt_dir or files.dbt_project_dir()
    mappings = files.read_all(dbt_dir)
    if not mappings:
        return []
    changed = []
    seeds_dir = dbt_dir / "seeds"
    seeds_dir.mkdir(parents=True, exist_ok=True)
    for name, text in seed_texts(mappings).items():
        path = seeds_dir / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed
