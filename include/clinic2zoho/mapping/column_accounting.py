"""Every landed column of the export accounted for: migrated (to which Zoho field, by which rule),
read by the dbt models (a key, a join, a derived field), or not migrated with its reason. A
column none of these covers was dropped without a reason, and the mapping gate refuses to let
anything reach Zoho until the mapping file says what becomes of it.

Sources of the accounting, per landed table `raw.<format>__<entity>` (information_schema, minus
the landing's lineage columns):
- the mapping file `dbt_project/mapping/<format>.yml`: fields with a target (migrated), fields
  with `target: skip` and their reasons (not migrated), entities not migrated with their reasons;
- for an export in a vendor layout, the source map as landed (`raw._source_map`): which landed
  column fills which clinic column, so the mapping file's clinic-model names apply to it;
- the staging SQL: the columns a `stg_<format>__<entity>` model reads (rendered with the macros
  stubbed, as tests/dbt/test_parse_rules.py does).
Only names and counts are read: no value of the export."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from clinic2zoho.formats import FORMATS
from clinic2zoho.mapping import files

LINEAGE_COLUMNS = frozenset({"_source_file", "_source_row", "_batch_id", "_loaded_at", "_row_hash"})
MIGRATED, READ, NOT_MIGRATED, UNACCOUNTED = "migrated", "read by the models", "not migrated", "no reason"
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ColumnsUnaccounted(RuntimeError):
    """Raised by the gate: landed columns the mapping neither migrates nor gives a reason for."""


@dataclass(frozen=True)
class ColumnAccount:
    table: str  # raw.<format>__<entity>
    column: str  # the landed column
    status: str  # MIGRATED | READ | NOT_MIGRATED | UNACCOUNTED
    target: str = ""  # Module.Field, or what reads it
    rule: str = ""  # how: the model that maps it, a value map, a clinic column of the source map
    reason: str = ""  # why not migrated

    @property
    def accounted(self) -> bool:
        return self.status != UNACCOUNTED


# ------------------------------------------------------------------------------------ staging SQL
def _text_args(*args: Any, **kwargs: Any) -> str:
    """Any other macro renders its text arguments, so the columns it names still count as read."""
    return " " + " ".join(a for a in args if isinstance(a, str)) + " "


_CALLED = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def _strip(sql: str) -> str:
    sql = re.sub(r"--[^\n]*", " ", sql)
    sql = re.sub(r"'(?:[^']|'')*'", " ", sql)  # JSON paths and literals are no column reads
    return re.sub(r"(?i)\bas\s+\"?[A-Za-z_][A-Za-z0-9_]*\"?", " ", sql)  # nor the names it gives


def staging_reads(dbt_dir: Path) -> dict[str, set[str]]:
    """raw table -> the column names its staging model reads (lower-case identifiers of its SQL)."""
    out: dict[str, set[str]] = defaultdict(set)
    models = dbt_dir / "models" / "staging"
    for path in sorted(models.rglob("stg_*.sql")) if models.is_dir() else []:
        seen: dict[str, tuple[str, str]] = {}

        def source(fmt: str, table: str, columns: Any = None) -> str:
            seen["source"] = (fmt, table)
            return " src "

        def fhir(table: str) -> str:
            seen["source"] = ("fhir", table)
            return " resource "  # fhir_resources reads the landed resource column

        sql = path.read_text(encoding="utf-8")
        env = jinja2.Environment()
        env.globals.update({name: _text_args for block in re.findall(r"\{\{(.*?)\}\}", sql, re.S)
                            for name in _CALLED.findall(block)})
        env.globals.update(source_or_empty=source, mapped_source=source, fhir_resources=fhir,
                           ref=lambda name, *a: f" {name} ", var=lambda name, default=None: "",
                           config=lambda **kw: "")
        try:
            text = env.from_string(sql).render()
        except jinja2.TemplateError:
            continue
        if "source" in seen:
            fmt, table = seen["source"]
            out[f"raw.{fmt}__{table}"] |= {i.lower() for i in _IDENT.findall(_strip(text))}
    return dict(out)


# ------------------------------------------------------------------------------------ the warehouse
def landed_columns(con: Any) -> dict[str, list[str]]:
    """raw.<format>__<entity> -> its landed columns, lineage left out."""
    rows = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'raw' "
        "ORDER BY table_name, ordinal_position").fetchall()
    out: dict[str, list[str]] = defaultdict(list)
    for table, column in rows:
        fmt = table.split("__", 1)[0]
        if "__" in table and fmt in FORMATS and column not in LINEAGE_COLUMNS:
            out[f"raw.{table}"].append(column)
    return dict(out)


def source_map_columns(con: Any) -> dict[str, dict[str, list[str]]]:
    """For an export read through a source map: raw table -> landed column -> the clinic columns it
    fills (raw._source_map; empty when the export is in the generic layout)."""
    found = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'raw' "
                        "AND table_name = '_source_map'").fetchone()[0]
    out: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    if found:
        for entity, clinic_column, raw_column in con.execute(
                "SELECT entity, clinic_column, raw_column FROM raw._source_map WHERE raw_column IS NOT NULL "
                "AND clinic_column IS NOT NULL ORDER BY entity, raw_column, part").fetchall():
            out[f"raw.generic__{entity}"][raw_column].append(clinic_column)
    return {t: dict(c) for t, c in out.items()}


def source_map_left_out(con: Any) -> dict[str, dict[str, str]]:
    """Vendor columns the source map gives no clinic column: raw table -> landed column -> why."""
    found = con.execute("SELECT count(*) FROM information_schema.columns WHERE table_schema = 'raw' "
                        "AND table_name = '_source_map' AND column_name = 'reason'").fetchone()[0]
    out: dict[str, dict[str, str]] = defaultdict(dict)
    if found:
        for entity, raw_column, reason in con.execute(
                "SELECT entity, raw_column, reason FROM raw._source_map WHERE clinic_column IS NULL "
                "AND raw_column IS NOT NULL").fetchall():
            out[f"raw.generic__{entity}"][raw_column] = reason
    return dict(out)


# ------------------------------------------------------------------------------------ the accounting
def _rule(choice: dict[str, Any]) -> str:
    parts = []
    if choice.get("mapped_by"):
        parts.append(f"mapped by {choice['mapped_by']}")
    elif choice.get("carried_by"):
        parts.append(f"carried by {choice['carried_by']}")
    if choice.get("value_map"):
        parts.append("value map")
    return ", ".join(parts) or "mapping file"


def _reason(reasons: list[str] | None, default: str) -> str:
    reasons = [str(r) for r in reasons or []]
    skipped = [r for r in reasons if r.startswith(("skipped", "not migrated", "sensitive"))]
    return "; ".join(skipped or reasons[-1:]) or default


def account_table(table: str, columns: list[str], entity: dict[str, Any] | None, reads: set[str],
                  clinic_of: dict[str, list[str]], fmt: str,
                  left_out: dict[str, str] | None = None) -> list[ColumnAccount]:
    """The accounting of one landed table (see the module's doc)."""
    out = []
    choices = {str(c["column"]).lower(): c for c in (entity or {}).get("fields") or []}
    for column in columns:
        clinic = clinic_of.get(column) or []
        via = f"source map: {column} → {' + '.join(clinic)}" if clinic else ""
        names = [c.lower() for c in clinic] or [column.lower()]
        if entity is not None and entity.get("kind") == "not_migrated":
            out.append(ColumnAccount(table, column, NOT_MIGRATED,
                                     reason=f"entity {entity['entity']} not migrated: "
                                            + _reason(entity.get("reasons"), "no target module")))
            continue
        if entity is not None and entity.get("kind") == "value_list":
            out.append(ColumnAccount(table, column, MIGRATED, f"{entity.get('module')}.{entity.get('field')}",
                                     ", ".join(filter(None, ["pick-list values", via]))))
            continue
        found = [choices[n] for n in names if n in choices]
        kept = [c for c in found if c.get("target") not in (None, "skip")]
        read = [n for n in names if n in reads]
        if kept:
            out.append(ColumnAccount(table, column, MIGRATED, ", ".join(str(c["target"]) for c in kept),
                                     ", ".join(filter(None, [_rule(kept[0]), via]))))
        elif read:
            note = _reason(found[0].get("reasons"), "") if found else ""
            out.append(ColumnAccount(table, column, READ, f"stg_{fmt}__{table.split('__', 1)[1]}",
                                     ", ".join(filter(None, [f"reads {', '.join(read)}", via])), note))
        elif found:
            out.append(ColumnAccount(table, column, NOT_MIGRATED, rule=via,
                                     reason=_reason(found[0].get("reasons"), "target: skip")))
        elif column in (left_out or {}):
            out.append(ColumnAccount(table, column, NOT_MIGRATED, rule="source map: no clinic-model column",
                                     reason=f"left out by the export's source map: {left_out[column]}"))
        else:
            out.append(ColumnAccount(table, column, UNACCOUNTED, rule=via,
                                     reason=f"not in dbt_project/mapping/{fmt}.yml and read by no staging model"))
    return out


def account(con: Any, dbt_dir: Path | None = None, formats: tuple[str, ...] = FORMATS) -> list[ColumnAccount]:
    """Every landed column of the warehouse `con` (of `formats`), accounted for by the mapping
    files of the formats landed, the source map and the staging SQL."""
    dbt_dir = dbt_dir or files.dbt_project_dir()
    landed = {t: c for t, c in landed_columns(con).items() if t.split(".", 1)[1].split("__", 1)[0] in formats}
    reads = staging_reads(dbt_dir)
    mapped = source_map_columns(con)
    left_out = source_map_left_out(con)
    mappings: dict[str, dict[str, dict[str, Any]]] = {}
    out: list[ColumnAccount] = []
    for table in sorted(landed):
        fmt = table.split(".", 1)[1].split("__", 1)[0]
        if fmt not in mappings:
            path = files.mapping_path(fmt, dbt_dir)
            doc = files.read_mapping(path) if path.is_file() else {"entities": []}
            mappings[fmt] = {str(e.get("table")): e for e in doc.get("entities") or []}
        out += account_table(table, landed[table], mappings[fmt].get(table), reads.get(table, set()),
                             mapped.get(table, {}), fmt, left_out.get(table))
    return out


def require_accounted(warehouse: Path, dbt_dir: Path | None = None, task: str = "this task") -> list[ColumnAccount]:
    """The gate: raises naming every landed column dropped without a reason (names only)."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = account(con, dbt_dir)
    missing = [r for r in rows if not r.accounted]
    if missing:
        by_table: dict[str, list[str]] = defaultdict(list)
        for r in missing:
            by_table[r.table].append(r.column)
        listed = "; ".join(f"{t}: {', '.join(c)}" for t, c in sorted(by_table.items()))
        raise ColumnsUnaccounted(
            f"{task} writes to Zoho, but {len(missing)} landed column(s) are neither migrated nor listed as not "
            f"migrated with a reason ({listed}). Say what becomes of each in dbt_project/mapping/<format>.yml "
            f"(a target, or target: skip with its reasons; `clinic2zoho propose` proposes them), then run "
            f"`clinic2zoho confirm --by NAME`.")
    return rows


STATUS_ORDER = {UNACCOUNTED: 0, NOT_MIGRATED: 1, READ: 2, MIGRATED: 3}


def ordered(rows: list[ColumnAccount]) -> list[ColumnAccount]:
    """Dropped without a reason first, then not migrated, read by the models, migrated."""
    return sorted(rows, key=lambda r: (STATUS_ORDER[r.status], r.table, r.column))


def summary(rows: list[ColumnAccount]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for r in rows:
        counts[r.status] += 1
    return dict(counts)
