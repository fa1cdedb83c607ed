"""Reading back from Zoho the records the field check compares (reports/field_check.py): which
fields, and how — one GET per record when they are few or carry line items (lists leave those
out), else a paged list of the module (200 a page) keeping the ids asked for.

Validation passes its shared lists (reports/org_lists.py), which read a module once with the
fields of every check: the field check's list read is then one of them, and each record it keeps
is cut back to the fields it asked for, as its own read would have returned it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from math import ceil
from typing import Any, Iterable

from clinic2zoho.loader import activity_links
from clinic2zoho.loader.plan import ModuleSpec
from clinic2zoho.reports.run_context import RunContext
from clinic2zoho.zoho.facts import FIELDS_PER_LIST, PER_PAGE

NOTE_FIELDS = ["Note_Title", "Note_Content", "Parent_Id"]
GETS_IN_FLIGHT = 4  # as the loader's record calls in flight per module (LoadSettings.record_concurrency)


def compared_columns(spec: ModuleSpec, row: dict) -> list[str]:
    """The columns the loader sends as fields (loader.module_loader, ModuleLoader.resolve_payload)."""
    if spec.kind == "note":  # the loader sends a note's title and text only
        return [c for c in ("Note_Title", "Note_Content") if c in row]
    skip = {spec.parent_column, spec.file_column, "Parent_Module"}
    return [c for c in row if not c.startswith("_") and c not in skip]


def loaded_ids(ctx: RunContext, spec: ModuleSpec, keys: Iterable[str]) -> dict[str, str]:
    """key -> Zoho id of the records of `keys` the run loaded."""
    journal_rows = ctx.journal_rows(spec.module)
    return {k: j.zoho_id for k in keys if (j := journal_rows.get(k)) is not None and j.status == "done" and j.zoho_id}


def record_fields(spec: ModuleSpec, types: dict[str, str], keys: Iterable[str], expected: dict[str, dict]) -> list[str]:
    """The Zoho fields compared on the records `keys` of a record module."""
    fields = sorted({("Owner" if c == spec.owner_column else c) for k in keys for c in
                     compared_columns(spec, expected.get(k, {}))} & (set(types) | {"Owner"}))
    if spec.parent_column:  # an activity's patient: Who_Id (a Contact) or What_Id (a Lead)
        fields = sorted(set(fields) | ({activity_links.WHO, activity_links.WHAT} & set(types)))
    return fields


def _scan_fields(ctx: RunContext, spec: ModuleSpec, ids: list[str], fields: list[str]) -> list[str] | None:
    """The fields of the module's list read for the records `ids`; None: one GET each instead."""
    known = len([j for j in ctx.journal_rows(spec.module).values() if j.status == "done"])
    scan_fields = sorted({f for f in fields if f != "id"})
    if spec.subforms or len(scan_fields) > FIELDS_PER_LIST - 1 or len(ids) <= ceil(max(known, 1) / PER_PAGE):
        return None
    return scan_fields or ["id"]


def list_fields(ctx: RunContext, client: Any, spec: ModuleSpec, keys: list[str],
                expected: dict[str, dict]) -> list[str] | None:
    """The fields the field check of `keys` lists the module with (None: it lists none of it), so
    validation's shared read of the module can carry them."""
    loaded = loaded_ids(ctx, spec, keys)
    if not loaded or spec.kind == "attachment":
        return None
    if spec.kind == "note":
        return NOTE_FIELDS
    fields = record_fields(spec, ctx.field_types(client, spec.module), loaded, expected)
    return _scan_fields(ctx, spec, list(loaded.values()), fields)


def _listed(client: Any, lists: Any, module: str, fields: list[str], ids: list[str]) -> dict[str, dict]:
    wanted = set(ids)
    if lists is None:
        return {str(r["id"]): r for r in client.iter_records(module, fields) if str(r.get("id")) in wanted}
    keep = set(fields) | {"id"}
    return {str(r["id"]): {k: v for k, v in r.items() if k in keep or k.startswith("$")}
            for r in lists.records(module, fields) if str(r.get("id")) in wanted}


def fetch_records(ctx: RunContext, client: Any, spec: ModuleSpec, ids: list[str], fields: list[str],
                  lists: Any = None) -> dict[str, dict]:
    """Records by Zoho id: one GET each, or from a list read of the module."""
    if not ids:
        return {}
    scan_fields = _scan_fields(ctx, spec, ids, fields)
    if scan_fields is None:
        return _get_each(client, spec.module, ids)
    return _listed(client, lists, spec.module, scan_fields, ids)


def _get_each(client: Any, module: str, ids: list[str]) -> dict[str, dict]:
    """One GET per record, a few in flight (a sample's invoices are some hundred GETs, each mostly
    waiting on Zoho); the client's throttle keeps them within the edition's concurrency."""
    with ThreadPoolExecutor(max_workers=min(GETS_IN_FLIGHT, len(ids)), thread_name_prefix="read-back") as pool:
        got = list(pool.map(lambda zid: client.get(module, zid), ids))
    return {zid: rec for zid, rec in zip(ids, got) if rec is not None}


def fetch_notes(client: Any, ids: list[str], lists: Any = None) -> dict[str, dict]:
    if not ids:
        return {}
    return _listed(client, lists, "Notes", NOTE_FIELDS, ids)


def fetch_attachments(client: Any, parent_module: str, by_parent: dict[str, list[str]],
                      lists: Any = None) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for parent_id, ids in by_parent.items():
        wanted = set(ids)
        listed = lists.attachments(parent_module, parent_id) if lists is not None else \
            client.attachments(parent_module, parent_id)
        for a in listed:
            if str(a.get("id")) in wanted:
                found[str(a["id"])] = dict(a, _parent_id=parent_id)
    return found
