"""Field-by-field comparison of loaded records, read back from Zoho. Shared by the validation spot
check (a random share of the loaded records) and the sample diff (every record of the sample).

Each record is traced to the landed row it came from (file and row). A field the mapping file
declares as a copy, a cast or a value map of one source column is compared with that column's
value, normalised by type (reports/source_values.py), not with dbt's: a model reading the wrong
column is a difference. Derived fields (lookups, owners, values built from several columns) are
compared with the value dbt computed, and list the source columns they read."""

from __future__ import annotations

from dataclasses import dataclass, fields as dataclass_fields
from functools import lru_cache
from pathlib import Path
from typing import Any

from clinic2zoho.loader import activity_links, links
from clinic2zoho.loader.plan import ModuleSpec
from clinic2zoho.reports import compare
from clinic2zoho.reports.compare import MATCH, MISMATCH, MISSING_RECORD, NO_FIELD, NOT_LOADED
from clinic2zoho.reports.read_back import (compared_columns, fetch_attachments, fetch_notes, fetch_records,
                                           record_fields)
from clinic2zoho.reports.run_context import RunContext
from clinic2zoho.reports.source_values import (DERIVED, FieldRule, SourceReader, SourceRow, accepted_actuals,
                                               clinic_timezone, expected_value, with_placeholder)


@dataclass(frozen=True)
class FieldCheck:
    module: str
    key: str  # the record's clinic key (external id; a note's title; an attachment's file name)
    field: str
    status: str  # match | mismatch | no_field | not_loaded | missing_record
    expected: str
    actual: str
    rule: str
    zoho_id: str | None = None
    kind: str = DERIVED  # the rule's kind: copy | cast | value map (compared with the source) | derived
    source_file: str = ""  # relative to the export folder
    source_row: int | None = None  # the landed row (1: the first row under the header)
    source_column: str = ""  # the column(s) as the export's file names them
    source_value: str = ""  # as landed
    dbt_value: str = ""  # what the dbt model computed (the expected value of a derived field)

    def to_dict(self) -> dict:
        # every field is a str, an int or None: no deep copy to make (dataclasses.asdict would, at
        # some 40 µs a check, over thousands of checks in a report)
        return {name: getattr(self, name) for name in _CHECK_FIELDS}


_CHECK_FIELDS = tuple(f.name for f in dataclass_fields(FieldCheck))


@lru_cache(maxsize=8)
def _reader(warehouse: str, mapping_dir: str, manifest: str, dbt_dir: str, stamp: tuple) -> SourceReader:
    return SourceReader(Path(warehouse), Path(mapping_dir),
                        clinic_timezone(Path(manifest) if manifest else None, Path(dbt_dir)))


def source_reader(ctx: RunContext, dbt_dir: Path | None = None) -> SourceReader:
    """The reader of the run's warehouse and mapping files (cached while neither changes)."""
    from clinic2zoho.mapping import files

    dbt_dir = Path(dbt_dir) if dbt_dir else files.dbt_project_dir()
    mapping_dir = files.mapping_dir(dbt_dir)
    stamp = tuple((p.name, p.stat().st_mtime_ns) for p in sorted(mapping_dir.glob("*.yml"))) + (
        ctx.warehouse.stat().st_mtime_ns,)
    return _reader(str(ctx.warehouse), str(mapping_dir), str(ctx.manifest or ""), str(dbt_dir), stamp)


def _source_rows(sources: SourceReader, spec: ModuleSpec, expected: dict[str, dict],
                 keys: list[str]) -> dict[str, SourceRow]:
    """record key -> the landed row it came from, through the field the mapping declares as a copy
    of the source entity's key (the external id; a note's or a document's source id)."""
    columns = list(dict.fromkeys([c for c in (spec.external_id,) if c] +
                                 [c for k in keys[:1] for c in expected.get(k, {})]))
    link = sources.link_column(spec.module, columns)
    if link is None:
        return {}
    column, entities = link
    wanted = {k: str(expected[k][column]) for k in keys if expected.get(k, {}).get(column) not in (None, "")}
    out: dict[str, SourceRow] = {}
    for fmt, entity, _ in entities:  # one format per landed export; the first that holds a key wins
        found = sources.rows(fmt, entity, sorted({v for k, v in wanted.items() if k not in out}))
        for key, source_key in wanted.items():
            if key not in out and source_key in found:
                out[key] = found[source_key]
    return out


def check_records(ctx: RunContext, client: Any, spec: ModuleSpec, keys: list[str],
                  expected: dict[str, dict], sources: SourceReader | None = None,
                  lists: Any = None) -> list[FieldCheck]:
    """Every compared field of the records `keys` of one module. `lists`: validation's shared
    reads of the org (reports/org_lists.py), which list reads go through."""
    sources = sources or source_reader(ctx)
    journal_rows = ctx.journal_rows(spec.module)
    types = ctx.field_types(client, spec.module)
    out: list[FieldCheck] = []
    loaded: dict[str, str] = {}
    for key in keys:
        j = journal_rows.get(key)
        if j is None or j.status != "done" or not j.zoho_id:
            why = "not in this run's journal" if j is None else (
                f"{j.status}: {j.error_code or ''} {j.error_field or ''} {j.error or ''}".strip())
            out.append(FieldCheck(spec.module, key, "(record)", NOT_LOADED, "loaded", why,
                                  ctx.rule(spec, spec.external_id or ""), None))
        else:
            loaded[key] = j.zoho_id
    if spec.kind == "note":
        records = fetch_notes(client, list(loaded.values()), lists)
    elif spec.kind == "attachment":
        by_parent: dict[str, list[str]] = {}
        for key, zid in loaded.items():
            by_parent.setdefault(journal_rows[key].parent_id or "", []).append(zid)
        by_parent.pop("", None)
        records = fetch_attachments(client, spec.parent_module or "Contacts", by_parent, lists)
    else:
        fields = record_fields(spec, types, loaded, expected)
        records = fetch_records(ctx, client, spec, list(loaded.values()), fields, lists)
    source_rows = _source_rows(sources, spec, expected, list(loaded))
    for key, zid in loaded.items():
        row = expected.get(key)
        rec = records.get(zid)
        if row is None:
            continue  # journaled but no longer in the table: reconciliation reports it
        src = source_rows.get(key)
        if rec is None:
            out.append(FieldCheck(spec.module, key, "(record)", MISSING_RECORD, f"id {zid}", "not found in Zoho",
                                  ctx.rule(spec, spec.external_id or ""), zid, source_file=src.file if src else "",
                                  source_row=src.row if src else None))
            continue
        out.extend(_check_fields(ctx, client, spec, key, zid, row, rec, types, sources, src))
    return out


def _declared(sources: SourceReader, module: str, column: str, src: SourceRow | None) -> FieldRule | None:
    """The mapping's rule for the field in the record's format: the one of the source entity."""
    rules = sources.rules(module, column)
    if src is not None:
        rules = [r for r in rules if (r.source_format, r.entity) == (src.source_format, src.entity)]
    return rules[0] if rules else None


def _inputs(rule: FieldRule | None, src: SourceRow | None) -> tuple[str, str]:
    """(column headers, values as landed) of a rule's source columns in the record's row."""
    if rule is None or src is None:
        return "", ""
    names = [i.partition(".")[2] if i.startswith(f"{src.entity}.") else i for i in rule.inputs or (rule.column,)]
    cells = [(n, src.cells.get(n)) for n in names]
    return (", ".join(c.header if c else n for n, c in cells),
            " | ".join((c.text or "") if c else "(another file)" for _, c in cells))


def _check_fields(ctx: RunContext, client: Any, spec: ModuleSpec, key: str, zid: str, row: dict, rec: dict,
                  types: dict[str, str], sources: SourceReader, src: SourceRow | None) -> list[FieldCheck]:
    checks: list[FieldCheck] = []
    where = dict(source_file=src.file if src else "", source_row=src.row if src else None)

    def add(column: str, verdict: compare.Verdict) -> None:
        """A derived field: compared with dbt's value, its source inputs listed."""
        rule = _declared(sources, spec.module, column, src)
        headers, values = _inputs(rule, src)
        text = ctx.rule(spec, column) + (f" [derived from {', '.join(rule.inputs)}]" if rule and rule.inputs else "")
        checks.append(FieldCheck(spec.module, key, column, MATCH if verdict.ok else MISMATCH, verdict.expected,
                                 verdict.actual, text, zid, DERIVED, source_column=headers, source_value=values,
                                 dbt_value=verdict.expected, **where))

    def add_from_source(column: str, data_type: str) -> bool:
        """A field the mapping declares as one source column's copy, cast or value map: compared
        with that column's value in the landed row. False when it is not one."""
        rule = _declared(sources, spec.module, column, src)
        if rule is None or rule.kind == DERIVED or src is None or rule.column not in src.cells:
            return False
        cell = src.cells[rule.column]
        want = with_placeholder(column, expected_value(rule, cell.clinic_text, sources.zone))
        verdicts = [compare.compare_scalar(want.value, actual, data_type)
                    for actual in accepted_actuals(spec.module, column, want, rec)]
        if want.unmapped:  # a value the map lacks: the model passes it on or leaves it empty
            verdicts.append(compare.compare_scalar(None, rec.get(column), data_type))
        ok = any(v.ok for v in verdicts)
        checks.append(FieldCheck(spec.module, key, column, MATCH if ok else MISMATCH, want.shown,
                                 compare.show(rec.get(column)), rule.describe(), zid, rule.kind,
                                 source_column=cell.header, source_value=cell.text or "",
                                 dbt_value=compare.show(row.get(column)), **where))
        return True

    if spec.kind == "attachment":
        add(spec.file_name_column, compare.compare_scalar(row.get(spec.file_name_column), rec.get("File_Name"), "text"))
        if rec.get("$link_url") and spec.url_column:  # over the attachment limit: a link, whose size Zoho shows 0
            expected_url = links.web_url(row.get(spec.url_column))
            add(spec.url_column, compare.compare_scalar(expected_url, rec["$link_url"], "text"))
        elif "Size_Bytes" in row:
            add("Size_Bytes", compare.compare_scalar(row.get("Size_Bytes"), rec.get("Size"), "bigint"))
        parent_module = row.get("Parent_Module") or spec.parent_module or "Contacts"
        add(spec.parent_column or "Parent_Id", compare.compare_lookup(
            row.get(spec.parent_column or "Parent_Id"), {"id": rec.get("_parent_id")},
            lambda k: ctx.crosswalk(parent_module).get(k), lambda i: ctx.key_of(parent_module, i)))
        return checks
    if spec.kind == "note":
        parent_module = row.get("Parent_Module") or spec.parent_module or "Contacts"
        add(spec.parent_column or "Parent_Id", compare.compare_lookup(
            row.get(spec.parent_column or "Parent_Id"), rec.get("Parent_Id"),
            lambda k: ctx.crosswalk(parent_module).get(k), lambda i: ctx.key_of(parent_module, i)))
    if spec.kind == "record" and spec.parent_column and spec.parent_column in row:
        parent_module = row.get(spec.parent_module_column or "Parent_Module") or spec.parent_module or "Contacts"
        got_module, got_id = activity_links.linked_parent(rec)
        shown = got_id if got_module == parent_module or got_id is None else f"{got_id} ({got_module})"
        add(spec.parent_column, compare.compare_lookup(
            row.get(spec.parent_column), {"id": shown} if shown else None,
            lambda k: ctx.crosswalk(parent_module).get(k), lambda i: ctx.key_of(parent_module, i)))
    for column in compared_columns(spec, row):
        expected = row.get(column)
        if column == spec.owner_column:
            add(column, compare.compare_owner(expected, rec.get("Owner"), lambda uid: ctx.user_email(client, uid),
                                              ctx.loading_user_email(client)))
        elif column in spec.lookups:
            target = spec.lookups[column]
            add(column, compare.compare_lookup(expected, rec.get(column), lambda k, t=target: ctx.crosswalk(t).get(k),
                                               lambda i, t=target: ctx.key_of(t, i)))
        elif column not in types:
            if expected not in (None, ""):
                checks.append(FieldCheck(spec.module, key, column, NO_FIELD, compare.show(expected),
                                         f"{spec.module} has no field {column}: the value is not stored",
                                         ctx.rule(spec, column), zid, dbt_value=compare.show(expected), **where))
        elif column in spec.subforms:
            add(column, compare.compare_line_items(expected, rec.get(column), lambda n: ctx.product_id(client, n)))
        elif spec.kind == "record" and add_from_source(column, types[column]):
            continue
        else:
            add(column, compare.compare_scalar(expected, rec.get(column), types[column]))
    return checks
