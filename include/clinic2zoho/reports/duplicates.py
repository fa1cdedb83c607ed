"""Duplicates in Zoho: a source record, note or attachment held more than once fails validation,
named by its source id.

Read page by page, once per validation, and shared with the integrity check (`OrgLists`, in
reports/org_lists.py):
- notes: Zoho's org-wide list (GET /Notes, 200 a page), counted by title (it carries the source
  note id and part);
- attachments: Zoho lists them per parent only, so one list per parent the run journaled a
  document on or the table names, counted by file name (it starts with the document id);
- records: each module's external ids (200 a page).
What the reads cost (credits, calls) goes into the reconciliation."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass

from clinic2zoho.reports.org_lists import NOTE_FIELDS, OrgLists
from clinic2zoho.reports.run_context import RunContext

SHOWN = 10  # source ids named in the problem line


@dataclass(frozen=True)
class Duplicate:
    module: str
    key: str  # the source id (the loader's key of the row)
    copies: int
    zoho_ids: tuple[str, ...]

    def to_dict(self) -> dict:
        return asdict(self)


def reads(ctx: RunContext) -> dict[str, list[str]]:
    """module -> the fields `find_duplicates` reads it with (reports.org_lists.wide_reads)."""
    specs = [ctx.plan.spec(m) for m in ctx.plan.order()]
    out = {s.module: [s.external_id] for s in specs if s.kind == "record" and s.external_id}
    if any(s.kind == "note" for s in specs):
        out["Notes"] = list(NOTE_FIELDS)
    return out


def find_duplicates(ctx: RunContext, lists: OrgLists) -> list[Duplicate]:
    out: list[Duplicate] = []
    for module in ctx.plan.order():
        spec = ctx.plan.spec(module)
        if spec.kind == "record" and spec.external_id:
            found = ((r.get(spec.external_id), r) for r in lists.records(module, [spec.external_id]))
            out += _counted(module, ((str(v), r) for v, r in found if v not in (None, "")), None)
        elif spec.kind == "note":
            names = {str(row.get("Note_Title")): key for key, row in ctx.expected_rows(spec).items()}
            out += _counted(module, ((str(n.get("Note_Title")), n) for n in lists.notes()), names)
        elif spec.kind == "attachment":
            rows = ctx.expected_rows(spec)
            names = {str(row.get(spec.file_name_column)): key for key, row in rows.items()}
            found = [(str(a.get("File_Name")), a) for place in _attachment_parents(ctx, spec, rows, lists)
                     for a in lists.attachments(*place)]
            out += _counted(module, found, names)
    return out


def _counted(module: str, found, names: dict[str, str] | None) -> list[Duplicate]:
    """Values seen more than once; `names` maps a title / file name to its source key (None: the
    value is the key)."""
    ids: dict[str, list[str]] = defaultdict(list)
    for value, item in found:
        ids[value].append(str(item.get("id")))
    out = []
    for value, zids in ids.items():
        key = value if names is None else names.get(value)
        if key is not None and len(zids) > 1:
            out.append(Duplicate(module, key, len(zids), tuple(sorted(zids))))
    return sorted(out, key=lambda d: d.key)


def _attachment_parents(ctx: RunContext, spec, rows: dict[str, dict], lists: OrgLists) -> list[tuple[str, str]]:
    """Every parent in Zoho that the run journaled a document on or that the table names (through
    the crosswalk): where the loader puts a document."""
    def parent_module(row: dict) -> str:
        return (row.get(spec.parent_module_column) if spec.parent_module_column else None) or spec.parent_module

    places = {(parent_module(rows.get(k, {})), j.parent_id) for k, j in ctx.journal_rows(spec.module).items()
              if j.parent_id}
    for row in rows.values():
        parent = ctx.crosswalk(parent_module(row)).get(str(row.get(spec.parent_column)))
        if parent:
            places.add((parent_module(row), parent))
    existing: dict[str, set[str]] = {}
    for module in {m for m, _ in places}:
        ext = ctx.plan.spec(module).external_id if module in ctx.plan.modules() else None
        existing[module] = {str(r["id"]) for r in lists.records(module, [ext or "id"])}
    return sorted(p for p in places if p[1] in existing[p[0]])


def problem(duplicates: list[Duplicate]) -> list[str]:
    if not duplicates:
        return []
    shown = ", ".join(f"{d.module} {d.key} ({d.copies} copies)" for d in duplicates[:SHOWN])
    return [f"duplicates in Zoho: {len(duplicates)} source record(s) held more than once ({shown}"
            f"{', ...' if len(duplicates) > SHOWN else ''})"]

