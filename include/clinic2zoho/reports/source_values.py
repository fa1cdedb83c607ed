"""The source side of the diff: for a loaded record, the landed row it came from (file and row) and,
for each Zoho field the mapping file declares as a copy, a cast or a value map of one source
column, the value that column holds, normalised to what Zoho should hold.

Read from the raw tables and the mapping files (`dbt_project/mapping/<format>.yml`, the declared
rules), never from dbt's models: a model that reads the wrong column, or a mapping that points at
the wrong field, then shows as a difference between the source and Zoho. Synthea, FHIR and the
generic layout are read as landed; an export in a vendor layout through its source map
(raw._source_map, rendered with the dbt macro `mapped_value`, as staging reads it).

Fields the mapping does not declare as one column's value (lookups, owners, names built from
several columns, note titles) are `derived`: they keep the comparison with dbt's value, and the
report lists their source inputs."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import yaml

from clinic2zoho import yaml_docs

COPY, CAST, VALUE_MAP, DERIVED = "copy", "cast", "value map", "derived"
CAST_TYPES = frozenset({"date", "datetime", "integer", "bigint", "long", "double", "decimal", "currency",
                        "percent", "boolean"})
REFERENCE_TYPES = frozenset({"lookup", "ownerlookup", "userlookup", "multiselectlookup", "subform"})
# Modules a model fills from the same source entity as another module, whose fields the mapping
# file names for that module only: a patient without visits is a Lead (zoho_leads), an
# appointment with no time a Task (zoho_tasks), a claim also an Invoice (zoho_invoices).
SAME_FIELDS_AS = {"Leads": "Contacts", "Tasks": "Events", "Invoices": "Billing_History"}
_EMAIL = re.compile(r"[^@\s,]+@[^@\s,]+\.[A-Za-z]{2,}")  # dbt macro valid_email: Zoho refuses others
_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")
_TRUE = {"true", "t", "1", "yes", "y"}
_FALSE = {"false", "f", "0", "no", "n"}
_NORMALISE = {"lower_trim": lambda v: v.strip().lower(), "lower": lambda v: v.lower(), "none": lambda v: v}


class SourceError(RuntimeError):
    """A mapping file the diff cannot read: names the file and what is wrong."""


@dataclass(frozen=True)
class FieldRule:
    """One declared rule: the source column `entity.column` of `source_format` feeds `module.field`."""

    kind: str  # copy | cast | value map | derived
    source_format: str
    entity: str
    column: str  # the clinic-model column (generic and vendor layouts) or the landed column
    module: str
    field: str
    data_type: str
    model: str
    map_name: str | None = None
    values: dict[str, str] | None = None  # value map, keys normalised by `normalise`
    normalise: str = "none"
    inputs: tuple[str, ...] = ()  # derived: every source column the rule reads

    def describe(self) -> str:
        how = {CAST: f"cast to {self.data_type}", VALUE_MAP: f"value map {self.map_name}"}.get(self.kind, self.kind)
        source = ", ".join(self.inputs) if self.inputs else f"{self.entity}.{self.column}"
        return f"{how}: {source} → {self.module}.{self.field} (mapping/{self.source_format}.yml, {self.model})"


@dataclass(frozen=True)
class SourceCell:
    header: str  # the column as the export's file names it
    text: str | None  # the value as landed
    clinic_text: str | None  # after the source map's parse rule and value map (as landed otherwise)


@dataclass(frozen=True)
class SourceRow:
    source_format: str
    entity: str
    file: str  # relative to the export folder
    row: int  # the landed row number (1: the first row under the header)
    cells: dict[str, SourceCell]  # clinic column -> cell


@dataclass(frozen=True)
class Expected:
    value: Any  # what Zoho should hold, or None (empty)
    shown: str
    unmapped: bool = False  # a value-map key the map lacks: the model leaves it as is or empty


def _parse_instant(text: str, zone: ZoneInfo) -> datetime | None:
    value = text.strip().replace("Z", "+00:00")
    if " " in value and "T" not in value:
        value = value.replace(" ", "T", 1)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)  # local wall-clock time of the clinic


def expected_value(rule: FieldRule, text: str | None, zone: ZoneInfo) -> Expected:
    """The value Zoho should hold for a source value under a declared rule."""
    if text is None or not str(text).strip():
        return Expected(None, "")
    text = str(text)
    kind = rule.data_type
    if rule.kind == VALUE_MAP and rule.values is not None:
        key = _NORMALISE.get(rule.normalise, _NORMALISE["none"])(text)
        for candidate in (key, text.strip(), text.strip().lower()):
            if candidate in rule.values:
                return Expected(rule.values[candidate], rule.values[candidate])
        return Expected(text.strip(), text.strip(), unmapped=True)
    if kind == "email":
        value = text.strip().lower()
        return Expected(value, value) if _EMAIL.fullmatch(value) else Expected(None, "")  # not an e-mail: not sent
    if kind == "date":
        instant = _parse_instant(text, zone) if "T" in text or ":" in text else None
        try:
            day = instant.astimezone(zone).date() if instant else date.fromisoformat(text.strip()[:10])
        except ValueError:
            return Expected(None, "")  # unreadable: staging leaves it empty (Data Quality Report)
        return Expected(day.isoformat(), day.isoformat())
    if kind == "datetime":
        instant = _parse_instant(text, zone)
        if instant is None:
            return Expected(None, "")
        shown = instant.astimezone(zone).isoformat(timespec="seconds")
        return Expected(shown, shown)
    if kind == "boolean":
        word = text.strip().lower()
        flag = True if word in _TRUE else False if word in _FALSE else None
        return Expected(flag, "" if flag is None else str(flag).lower())
    if kind in CAST_TYPES:  # numbers
        try:
            number = Decimal(text.strip())
        except InvalidOperation:
            return Expected(None, "")
        if not number.is_finite():
            return Expected(None, "")
        return Expected(number, str(number))
    return Expected(text.strip(), text.strip())


def _rule_kind(data_type: str, has_map: bool) -> str:
    if data_type in REFERENCE_TYPES:
        return DERIVED
    if has_map:
        return VALUE_MAP
    return CAST if data_type in CAST_TYPES else COPY


def read_rules(mapping: dict, path: Path) -> tuple[dict[str, dict], dict[tuple[str, str], list[FieldRule]]]:
    """The entities of one mapping file (by name) and its rules per (module, field)."""
    fmt = str(mapping.get("format") or path.stem)
    maps = mapping.get("value_maps") or {}
    entities: dict[str, dict] = {}
    rules: dict[tuple[str, str], list[FieldRule]] = {}
    for entity in mapping.get("entities") or []:
        name = entity.get("entity")
        if not name:
            raise SourceError(f"{path}: an entity without a name")
        entities[name] = entity
        for f in entity.get("fields") or []:
            target = str(f.get("target") or "skip")
            if target == "skip" or "." not in target or not (f.get("mapped_by") or f.get("carried_by")):
                continue
            module, _, field_name = target.partition(".")
            column, data_type = str(f["column"]), str(f.get("data_type") or "text")
            model = str(f.get("mapped_by") or f.get("carried_by"))
            common = dict(source_format=fmt, entity=name, column=column, module=module, field=field_name,
                          data_type=data_type, model=model)
            map_name = str(f.get("value_map_in") or "").rpartition(".")[2] or None
            if map_name:
                spec = maps.get(map_name)
                if not isinstance(spec, dict):
                    raise SourceError(f"{path}: {name}.{column} names value map {map_name}, which the file lacks")
                inputs = tuple(spec.get("source_columns") or ())
                if f"{name}.{column}" not in inputs:  # keyed by another column (a lookup first): derived
                    rule = FieldRule(DERIVED, **common, map_name=map_name,
                                     inputs=tuple(dict.fromkeys((f"{name}.{column}", *inputs))))
                else:
                    norm = _NORMALISE.get(str(spec.get("normalise") or "none"), _NORMALISE["none"])
                    values = {norm(str(v["source"])): str(v["zoho"]) for v in spec.get("values") or []
                              if v.get("zoho") is not None}
                    rule = FieldRule(VALUE_MAP, **common, map_name=map_name, values=values,
                                     normalise=str(spec.get("normalise") or "none"))
            elif f.get("value_map"):
                values = {str(v["source"]): str(v["zoho"]) for v in f["value_map"] if v.get("zoho") is not None}
                rule = FieldRule(_rule_kind(data_type, True), **common, map_name=f"of {name}.{column}",
                                 values=values, inputs=(f"{name}.{column}",))
            else:
                rule = FieldRule(_rule_kind(data_type, False), **common, inputs=(f"{name}.{column}",))
            rules.setdefault((module, field_name), []).append(rule)
    return entities, rules


def clinic_timezone(manifest: Path | None, dbt_dir: Path, given: str | None = None) -> ZoneInfo:
    """The zone dbt built with: `given`, else the run's `clinic_timezone` var (run_results.json
    beside the manifest), else the project's default."""
    names = [given] if given else []
    if manifest is not None:
        results = Path(manifest).with_name("run_results.json")
        if results.is_file():
            names.append(((json.loads(results.read_text()).get("args") or {}).get("vars") or {}).get("clinic_timezone"))
    if (dbt_dir / "dbt_project.yml").is_file():
        project = yaml_docs.safe_load((dbt_dir / "dbt_project.yml").read_text()) or {}
        names.append((project.get("vars") or {}).get("clinic_timezone"))
    for name in names:
        if name:
            try:
                return ZoneInfo(str(name))
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class SourceReader:
    """The landed rows behind the records of a run, and the mapping's rules for their fields."""

    warehouse: Path
    mapping_dir: Path
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    _entities: dict[str, dict[str, dict]] = field(default_factory=dict)
    _rules: dict[str, dict[tuple[str, str], list[FieldRule]]] = field(default_factory=dict)
    _exports: dict[str, str] = field(default_factory=dict)  # batch id -> export folder

    def __post_init__(self) -> None:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            try:
                batches = con.execute("SELECT batch_id, format, source FROM raw._batches").fetchall()
            except duckdb.CatalogException:
                batches = []
        self._exports = {str(b): str(src or "") for b, _, src in batches}
        for fmt in sorted({str(f) for _, f, _ in batches}):
            path = self.mapping_dir / f"{fmt}.yml"
            if not path.is_file():
                continue
            try:
                mapping = yaml_docs.safe_load(path.read_text(encoding="utf-8")) or {}
            except yaml.YAMLError as exc:
                raise SourceError(f"{path}: not readable YAML ({exc.__class__.__name__})") from exc
            self._entities[fmt], self._rules[fmt] = read_rules(mapping, path)

    def rules(self, module: str, field_name: str) -> list[FieldRule]:
        """The declared rules for a field, one per landed format that maps it."""
        module = SAME_FIELDS_AS.get(module, module)
        return [r for fmt in self._rules for r in self._rules[fmt].get((module, field_name), [])]

    def link_column(self, module: str, columns: list[str]) -> tuple[str, list[tuple[str, str, str]]] | None:
        """The column of the module's table holding the source key, and for each format the entity
        and its key column it copies: the field the mapping declares as a copy of an entity's key."""
        module = SAME_FIELDS_AS.get(module, module)
        for column in columns:
            found = []
            for fmt, entities in self._entities.items():
                for rule in self._rules[fmt].get((module, column), []):
                    entity = entities.get(rule.entity) or {}
                    if rule.kind == COPY and entity.get("key") == rule.column and entity.get("table"):
                        found.append((fmt, rule.entity, rule.column))
            if found:
                return column, found
        return None

    def rows(self, fmt: str, entity: str, keys: list[str]) -> dict[str, SourceRow]:
        """The latest landed row of each key (as staging keeps it), with every column."""
        meta = self._entities.get(fmt, {}).get(entity) or {}
        table, key = str(meta.get("table") or f"raw.{fmt}__{entity}"), str(meta.get("key") or "")
        schema, _, name = table.rpartition(".")
        if not keys or not key or schema != "raw":
            return {}
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            landed = [r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'raw' AND table_name = ?"
                " ORDER BY ordinal_position", [name]).fetchall()]
            if not landed:
                return {}
            columns = self._columns(con, fmt, entity, landed)
            if key not in columns:
                return {}
            select = ", ".join(f"{expr} AS {_quote('v:' + c)}, {raw} AS {_quote('t:' + c)}"
                               for c, (_, raw, expr) in columns.items())
            key_expr = columns[key][2]
            cur = con.execute(
                f"SELECT _source_file, _source_row, _batch_id, {select} FROM raw.{_quote(name)}"
                f" WHERE list_contains(?, CAST({key_expr} AS VARCHAR))"
                f" QUALIFY row_number() OVER (PARTITION BY {key_expr} ORDER BY _loaded_at DESC, _source_row DESC) = 1",
                [list(keys)])
            names = [d[0] for d in cur.description]
            found = [dict(zip(names, r)) for r in cur.fetchall()]
        out: dict[str, SourceRow] = {}
        for r in found:
            cells = {c: SourceCell(header, _text(r["t:" + c]), _text(r["v:" + c]))
                     for c, (header, _, _) in columns.items()}
            out[str(r["v:" + key])] = SourceRow(fmt, entity, self._relative(r["_source_file"], r["_batch_id"]),
                                                int(r["_source_row"]), cells)
        return out

    def _columns(self, con: duckdb.DuckDBPyConnection, fmt: str, entity: str,
                 landed: list[str]) -> dict[str, tuple[str, str, str]]:
        """clinic column -> (header in the file, SQL of the landed text, SQL of the clinic value)."""
        plain = {c: (c, _quote(c), _quote(c)) for c in landed if not c.startswith("_")}
        if fmt != "generic":
            return plain
        try:
            rows = con.execute("SELECT clinic_column, part, source_header, raw_column, parse, format, value_map"
                               " FROM raw._source_map WHERE entity = ? AND clinic_column IS NOT NULL ORDER BY clinic_column",
                               [entity]).fetchall()
        except duckdb.CatalogException:
            return plain
        if not rows:
            return plain
        from clinic2zoho.quality.unparsed import macros  # the dbt macros staging reads a source map with

        keys = ("clinic_column", "part", "raw_column", "parse", "format", "value_map")
        out = {}
        for clinic, part, header, raw, parse, fmt_, value_map in rows:
            expr = str(macros().mapped_value(dict(zip(keys, (clinic, part, raw, parse, fmt_, value_map)))))
            out[clinic] = (str(header or "(not in the export)"), _quote(raw) if raw else "CAST(NULL AS VARCHAR)",
                           expr)
        return out

    def _relative(self, file: Any, batch: Any) -> str:
        """The file as the export names it: relative to the folder it was landed from."""
        path, root = str(file or ""), self._exports.get(str(batch), "")
        if root and os.path.isabs(path):
            rel = os.path.relpath(path, root)
            if not rel.startswith(".."):
                return rel
        return os.path.basename(path) if os.path.isabs(path) else path


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value)


# What the models do beyond a field's declared rule, for product rules the README documents: a
# patient sharing an e-mail holds it in Secondary_Email; a clinic sharing a name gets it qualified
# `Name (City)`; Zoho requires a Last_Name, so a blank one is written as a placeholder.
HELD_INSTEAD_IN = {"Email": "Secondary_Email"}
QUALIFIED_WHEN_SHARED = frozenset({("Accounts", "Account_Name")})
REQUIRED_PLACEHOLDER = {"Last_Name": "(no last name)"}


def accepted_actuals(module: str, field_name: str, expected: Expected, record: dict) -> list[Any]:
    """Zoho's value for the field, and the other values a documented treatment may hold instead."""
    actual = record.get(field_name)
    out = [actual]
    blank = actual in (None, "")
    if field_name in HELD_INSTEAD_IN and blank:
        out.append(record.get(HELD_INSTEAD_IN[field_name]))
    if (module, field_name) in QUALIFIED_WHEN_SHARED and isinstance(actual, str) and expected.value \
            and actual.startswith(f"{expected.value} (") and actual.endswith(")"):
        out.append(expected.value)
    return out


def with_placeholder(field_name: str, expected: Expected) -> Expected:
    if expected.value is None and field_name in REQUIRED_PLACEHOLDER:
        return Expected(REQUIRED_PLACEHOLDER[field_name], REQUIRED_PLACEHOLDER[field_name])
    return expected
