"""The source map of one export (docs/source_map.md): which file is which clinic entity, which
header is which clinic-model column, how its text is parsed and which values mean which.

Read by the landing (files and keys) and, through the warehouse table `raw._source_map`, by the
dbt macro `mapped_source` (columns, parse rules, value maps)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from clinic2zoho import yaml_docs
from clinic2zoho.landing.names import snake

VERSION = 1
PRESETS = ("generic",)

# The clinic model's contract: the generic layout (docs/generic_export.md), entity -> columns.
# The staging models stg_generic__* read exactly these (tests/mapping/test_source_map.py checks).
CLINIC_MODEL: dict[str, tuple[str, ...]] = {
    "clinics": ("clinic_id", "name", "phone", "email", "website", "address_line", "city", "state", "postal_code"),
    "providers": ("provider_id", "clinic_id", "first_name", "last_name", "email", "npi", "specialty", "phone",
                  "status"),
    "referral_sources": ("referral_source_id", "name", "category"),
    "patients": ("patient_id", "clinic_id", "first_name", "last_name", "birth_date", "sex", "email", "phone",
                 "address_line", "city", "state", "postal_code", "status", "referral_source_id",
                 "primary_provider_id", "created_at", "updated_at", "email_opt_out", "sms_opt_out",
                 "preferred_contact_method"),
    "appointments": ("appointment_id", "patient_id", "provider_id", "clinic_id", "visit_date", "start_time",
                     "end_time", "appointment_type", "reason", "outcome", "created_at", "updated_at"),
    "insurance_plans": ("plan_id", "patient_id", "priority", "carrier", "policy_number", "group_id",
                        "coverage_type", "subscriber_name", "effective_date", "termination_date"),
    "claims": ("claim_id", "patient_id", "appointment_id", "provider_id", "service_date", "cpt_code",
               "amount_billed", "amount_paid", "balance", "payer", "status", "submitted_at"),
    "treatments": ("treatment_id", "patient_id", "appointment_id", "provider_id", "code_system", "code",
                   "description", "treatment_date", "outcome"),
    "clinical_notes": ("note_id", "patient_id", "appointment_id", "provider_id", "note_date", "note_type",
                       "content_format", "content"),
    "documents": ("document_id", "patient_id", "file_name", "file_path", "mime_type", "size_bytes",
                  "document_type", "created_at"),
    "care_programs": ("program_id", "name", "description", "start_date", "coordinator_provider_id"),
    "program_enrollments": ("enrollment_id", "program_id", "patient_id", "enrolled_on", "role"),
    "communications": ("communication_id", "patient_id", "provider_id", "channel", "direction", "started_at",
                       "duration_seconds", "subject", "body", "outcome"),
}
KEYS = {entity: columns[0] for entity, columns in CLINIC_MODEL.items()}

# How each clinic column is parsed in staging (the rule a source column mapped to it needs).
COLUMN_KINDS: dict[str, str] = {
    **{c: "date" for c in ("birth_date", "visit_date", "effective_date", "termination_date", "service_date",
                           "treatment_date", "start_date", "enrolled_on")},
    **{c: "datetime" for c in ("created_at", "updated_at", "start_time", "end_time", "note_date",
                               "submitted_at", "started_at")},
    **{c: "amount" for c in ("amount_billed", "amount_paid", "balance")},
    "size_bytes": "integer",
    "duration_seconds": "integer",
    **{c: "boolean" for c in ("email_opt_out", "sms_opt_out")},
}

PARSES = ("text", "date", "datetime", "amount", "boolean", "name")
FORMATS = {"date": ("YMD", "DMY", "MDY"), "datetime": ("YMD", "DMY", "MDY"),
           "amount": ("decimal_point", "decimal_comma"), "name": ("last_first", "first_last")}
NAME_PARTS = ["first_name", "last_name"]


class SourceMapError(ValueError):
    """A source map that cannot be read or used: names the file and the field."""

    def __init__(self, message: str, path: Path | str, field: str | None = None) -> None:
        self.path, self.field = str(path), field
        super().__init__(f"{path}: {field + ': ' if field else ''}{message}")


@dataclass(frozen=True)
class MappedColumn:
    entity: str
    source: str  # the header as written
    raw_column: str  # the landed column (header normalised)
    columns: tuple[str, ...]  # clinic columns it fills (two for a split name; none for an extra)
    parse: str
    format: str | None
    values: dict[str, str]
    reason: str = ""  # why a column filling no clinic column is left out (its reasons in the map)


def export_name(source: Path | str) -> str:
    """The name a source map of the export folder `source` is filed under."""
    name = snake(Path(source).resolve().name)
    return name or "export"


def sources_dir(dbt_dir: Path | None = None) -> Path:
    from clinic2zoho.mapping.files import mapping_dir

    return mapping_dir(dbt_dir) / "sources"


def source_map_files(dbt_dir: Path | None = None) -> list[Path]:
    folder = sources_dir(dbt_dir)
    return sorted(folder.glob("*.yml")) if folder.is_dir() else []


def source_map_path(export: str, dbt_dir: Path | None = None) -> Path:
    return sources_dir(dbt_dir) / f"{export}.yml"


def find_for(source: Path | str, dbt_dir: Path | None = None) -> Path | None:
    """The source map filed for the export folder `source`, if any."""
    path = source_map_path(export_name(source), dbt_dir)
    return path if path.is_file() else None


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


_HEADER = """\
# Source map of the export `{export}`, proposed by `clinic2zoho propose` ({proposed_at}).
# It says which file is which clinic entity and which column is which clinic-model column, with
# its parse rule and value map (docs/source_map.md). Review it (the review page lists the choices
# that need a look first), correct `column`, `parse`, `format` or `values` where they are wrong,
# then record your decision: `clinic2zoho confirm --by NAME`.
"""


def write_source_map(doc: dict[str, Any], path: Path) -> Path:
    from clinic2zoho.mapping.files import _Dumper

    check(doc, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)
    path.write_text(_HEADER.format(export=doc.get("export"), proposed_at=doc.get("proposed_at")) + body,
                    encoding="utf-8")
    return path


def new_source_map(export: str, entities: dict[str, Any], timezone_name: str | None = None,
                   timezone_reason: str | None = None) -> dict[str, Any]:
    return {"version": VERSION, "export": export, "preset": "generic",
            "proposed_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
            "timezone": timezone_name, "timezone_reason": timezone_reason, "entities": entities}


def read_source_map(path: Path) -> dict[str, Any]:
    try:
        doc = yaml_docs.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SourceMapError(f"not valid YAML: {exc}", path) from exc
    except OSError as exc:
        raise SourceMapError(f"cannot read: {exc.strerror or type(exc).__name__}", path) from exc
    check(doc, path)
    return doc


def check(doc: Any, path: Path | str) -> None:
    """Refuse what staging would misread, naming the field: unknown entities or clinic columns,
    a clinic column filled twice, parse rules and formats that do not exist."""
    if not isinstance(doc, dict) or not isinstance(doc.get("entities"), dict):
        raise SourceMapError("not a source map (needs an `entities` object)", path)
    if doc.get("version") != VERSION:
        raise SourceMapError(f"version {doc.get('version')!r} is not supported (supported: {VERSION})", path,
                             "version")
    if doc.get("preset", "generic") not in PRESETS:
        raise SourceMapError(f"preset {doc.get('preset')!r} is not one of {', '.join(PRESETS)}", path, "preset")
    if doc.get("timezone"):
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(str(doc["timezone"]))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SourceMapError(f"{doc['timezone']!r} is not an IANA time zone", path, "timezone") from exc
    files: dict[str, str] = {}
    for entity, spec in doc["entities"].items():
        where = f"entities.{entity}"
        if entity not in CLINIC_MODEL:
            raise SourceMapError(f"{entity!r} is not a clinic entity ({', '.join(CLINIC_MODEL)})", path, where)
        if not isinstance(spec, dict) or not isinstance(spec.get("file"), str) or not spec["file"].strip():
            raise SourceMapError("needs a `file`", path, f"{where}.file")
        if spec["file"] in files:
            raise SourceMapError(f"file {spec['file']!r} is already entity {files[spec['file']]!r}", path,
                                 f"{where}.file")
        files[spec["file"]] = entity
        filled: dict[str, str] = {}
        headers = set()
        for i, col in enumerate(spec.get("columns") or []):
            at = f"{where}.columns[{i}]"
            if not isinstance(col, dict) or not isinstance(col.get("source"), str):
                raise SourceMapError("needs a `source` (the header as written)", path, at)
            if col["source"] in headers:
                raise SourceMapError(f"header {col['source']!r} is listed twice", path, at)
            headers.add(col["source"])
            targets = _targets(col.get("column"))
            if targets is None:
                raise SourceMapError(f"`column` must be a clinic column, a list of two, or null, not "
                                     f"{col.get('column')!r}", path, f"{at}.column")
            for target in targets:
                if target not in CLINIC_MODEL[entity]:
                    raise SourceMapError(f"{target!r} is not a column of {entity} "
                                         f"({', '.join(CLINIC_MODEL[entity])})", path, f"{at}.column")
                if target in filled:
                    raise SourceMapError(f"{target!r} is already filled from {filled[target]!r}", path,
                                         f"{at}.column")
                filled[target] = col["source"]
            parse = col.get("parse") or "text"
            if parse not in PARSES:
                raise SourceMapError(f"parse {parse!r} is not one of {', '.join(PARSES)}", path, f"{at}.parse")
            fmt = col.get("format")
            if parse in FORMATS and fmt not in FORMATS[parse]:
                raise SourceMapError(f"parse {parse} needs a format: one of {', '.join(FORMATS[parse])}", path,
                                     f"{at}.format")
            if parse == "name" and list(targets) != NAME_PARTS:
                raise SourceMapError(f"parse name fills {NAME_PARTS} (in that order)", path, f"{at}.column")
            if len(targets) > 1 and parse != "name":
                raise SourceMapError("only parse name fills two columns", path, f"{at}.column")
            values = col.get("values")
            if values is not None and not isinstance(values, dict):
                raise SourceMapError("`values` must map source values to clinic values", path, f"{at}.values")
        key = spec.get("key")
        if key is not None and key not in headers:
            raise SourceMapError(f"key {key!r} is not one of the listed columns", path, f"{where}.key")


def _targets(column: Any) -> tuple[str, ...] | None:
    if column is None:
        return ()
    if isinstance(column, str) and column:
        return (column,)
    if isinstance(column, list) and all(isinstance(c, str) for c in column) and 1 <= len(column) <= 2:
        return tuple(column)
    return None


def mapped_columns(doc: dict[str, Any]) -> list[MappedColumn]:
    out = []
    for entity, spec in doc["entities"].items():
        for col in spec.get("columns") or []:
            values = {str(k): ("" if v is None else str(v)) for k, v in (col.get("values") or {}).items()}
            reasons = [str(r) for r in col.get("reasons") or []]
            out.append(MappedColumn(entity, col["source"], snake(col["source"]), _targets(col.get("column")) or (),
                                    col.get("parse") or "text", col.get("format"), values, "; ".join(reasons)))
    return out


def landing_entities(doc: dict[str, Any]) -> dict[str, dict[str, str | None]]:
    """entity -> {file, key} as a manifest would give them."""
    return {entity: {"file": spec["file"], "key": spec.get("key")} for entity, spec in doc["entities"].items()}


SOURCE_MAP_TABLE = "raw._source_map"


def record_in_warehouse(con: Any, doc: dict[str, Any] | None, path: Path | None) -> None:
    """What staging reads: one row per (entity, clinic column) with the landed column, the parse
    rule and the value map (no landed column: the map leaves it out). Replaced at every landing
    (no map: empty, staging reads raw as is)."""
    con.execute(f"CREATE OR REPLACE TABLE {SOURCE_MAP_TABLE} (entity VARCHAR, clinic_column VARCHAR, "
                "part INTEGER, source_header VARCHAR, raw_column VARCHAR, parse VARCHAR, format VARCHAR, "
                "value_map VARCHAR, source_map_file VARCHAR, source_map_hash VARCHAR, reason VARCHAR)")
    if doc is None or path is None:
        return
    digest = file_hash(path)
    rows, filled = [], set()
    for col in mapped_columns(doc):
        for part, target in enumerate(col.columns):
            filled.add((col.entity, target))
            rows.append((col.entity, target, part, col.source, col.raw_column, col.parse, col.format,
                         json.dumps(col.values, ensure_ascii=False) if col.values else None, path.name, digest, None))
        if not col.columns:  # a vendor column the clinic model has no place for: listed, with why
            rows.append((col.entity, None, 0, col.source, col.raw_column, None, None, None, path.name, digest,
                         col.reason or "no clinic-model column (column: null in the source map)"))
    for entity in doc["entities"]:  # every clinic column the map leaves out: NULL in staging
        rows.extend((entity, column, 0, None, None, None, None, None, path.name, digest, None)
                    for column in CLINIC_MODEL[entity] if (entity, column) not in filled)
    if rows:
        con.executemany(f"INSERT INTO {SOURCE_MAP_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def normalised_header(header: str) -> str:
    return re.sub(r"\s+", " ", header.strip())
