"""Field-by-field comparison of loaded records, read back from Zoho, with the rows of the
Zoho-shaped tables they were loaded from. Shared by the validation spot check (a random share of
the loaded records) and the sample diff (every record of the sample)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from math import ceil
from typing import Any

from clinic2zoho.loader import links
from clinic2zoho.loader.plan import ModuleSpec
from clinic2zoho.reports import compare
from clinic2zoho.reports.compare import MATCH, MISMATCH, MISSING_RECORD, NO_FIELD, NOT_LOADED
from clinic2zoho.reports.run_context import RunContext

LIST_FIELD_LIMIT = 50  # Zoho lists at most 50 fields per read
PAGE = 200


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

    def to_dict(self) -> dict:
        return asdict(self)


def compared_columns(spec: ModuleSpec, row: dict) -> list[str]:
    """The columns the loader sends as fields (loader.module_loader._resolve_common)."""
    if spec.kind == "note":  # the loader sends a note's title and text only
        return [c for c in ("Note_Title", "Note_Content") if c in row]
    skip = {spec.parent_column, spec.file_column, "Parent_Module"}
    return [c for c in row if not c.startswith("_") and c not in skip]


def _fetch_records(ctx: RunContext, client: Any, spec: ModuleSpec, ids: list[str], fields: list[str]) -> dict[str, dict]:
    """Records by Zoho id: one GET each when they are few (or carry line items, which lists
    leave out), else a paged scan of the module (200 a page) keeping the ids asked for."""
    if not ids:
        return {}
    known = len([j for j in ctx.journal_rows(spec.module).values() if j.status == "done"])
    scan_fields = sorted({f for f in fields if f != "id"})
    if spec.subforms or len(scan_fields) > LIST_FIELD_LIMIT - 1 or len(ids) <= ceil(max(known, 1) / PAGE):
        found = {}
        for zid in ids:
            rec = client.get(spec.module, zid)
            if rec is not None:
                found[zid] = rec
        return found
    wanted = set(ids)
    return {str(r["id"]): r for r in client.iter_records(spec.module, scan_fields or ["id"]) if str(r.get("id")) in wanted}


def _fetch_notes(client: Any, ids: list[str]) -> dict[str, dict]:
    wanted = set(ids)
    if not wanted:
        return {}
    return {str(n["id"]): n for n in client.iter_records("Notes", ["Note_Title", "Note_Content", "Parent_Id"])
            if str(n.get("id")) in wanted}


def _fetch_attachments(client: Any, parent_module: str, by_parent: dict[str, list[str]]) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for parent_id, ids in by_parent.items():
        wanted = set(ids)
        for a in client.attachments(parent_module, parent_id):
            if str(a.get("id")) in wanted:
                found[str(a["id"])] = dict(a, _parent_id=parent_id)
    return found


def check_records(ctx: RunContext, client: Any, spec: ModuleSpec, keys: list[str],
                  expected: dict[str, dict]) -> list[FieldCheck]:
    """Every compared field of the records `keys` of one module."""
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
        records = _fetch_notes(client, list(loaded.values()))
    elif spec.kind == "attachment":
        by_parent: dict[str, list[str]] = {}
        for key, zid in loaded.items():
            by_parent.setdefault(journal_rows[key].parent_id or "", []).append(zid)
        by_parent.pop("", None)
        records = _fetch_attachments(client, spec.parent_module or "Contacts", by_parent)
    else:
        fields = sorted({("Owner" if c == spec.owner_column else c) for k in loaded for c in
                         compared_columns(spec, expected.get(k, {}))} & (set(types) | {"Owner"}))
        records = _fetch_records(ctx, client, spec, list(loaded.values()), fields)
    for key, zid in loaded.items():
        row = expected.get(key)
        rec = records.get(zid)
        if row is None:
            continue  # journaled but no longer in the table: reconciliation reports it
        if rec is None:
            out.append(FieldCheck(spec.module, key, "(record)", MISSING_RECORD, f"id {zid}", "not found in Zoho",
                                  ctx.rule(spec, spec.external_id or ""), zid))
            continue
        out.extend(_check_fields(ctx, client, spec, key, zid, row, rec, types))
    return out


def _check_fields(ctx: RunContext, client: Any, spec: ModuleSpec, key: str, zid: str, row: dict, rec: dict,
                  types: dict[str, str]) -> list[FieldCheck]:
    checks: list[FieldCheck] = []

    def add(column: str, verdict: compare.Verdict) -> None:
        checks.append(FieldCheck(spec.module, key, column, MATCH if verdict.ok else MISMATCH, verdict.expected,
                                 verdict.actual, ctx.rule(spec, column), zid))

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
                                         ctx.rule(spec, column), zid))
        elif column in spec.subforms:
            add(column, compare.compare_line_items(expected, rec.get(column), lambda n: ctx.product_id(client, n)))
        else:
            add(column, compare.compare_scalar(expected, rec.get(column), types[column]))
    return checks
