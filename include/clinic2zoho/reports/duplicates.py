"""Duplicates in Zoho: a source record, note or attachment held more than once fails validation,
named by its source id.

Read page by page, once per validation, and shared with the integrity check (`OrgLists`):
- notes: Zoho's org-wide list (GET /Notes, 200 a page), counted by title (it carries the source
  note id and part);
- attachments: Zoho lists them per parent only, so one list per parent the run journaled a
  document on or the table names, counted by file name (it starts with the document id);
- records: each module's external ids (200 a page).
What the reads cost (credits, calls) goes into the reconciliation."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

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


@dataclass
class OrgLists:
    """The org's lists validation reads, each read once, with the credits and calls they cost."""

    client: Any
    credits: int = 0
    calls: int = 0
    read: dict[str, int] = field(default_factory=dict)  # what was read: records per module, notes, lists
    _records: dict[tuple, list[dict]] = field(default_factory=dict, repr=False)
    _notes: list[dict] | None = field(default=None, repr=False)
    _attachments: dict[tuple[str, str], list[dict]] = field(default_factory=dict, repr=False)

    def _measured(self, fn):
        stats = getattr(self.client, "stats", None)
        before = dict(stats) if stats is not None else {}
        out = fn()
        after = dict(stats) if stats is not None else {}
        self.credits += after.get("credits", 0) - before.get("credits", 0)
        self.calls += sum(v - before.get(k, 0) for k, v in after.items() if k != "credits")
        return out

    def records(self, module: str, fields: list[str]) -> list[dict]:
        key = (module, tuple(fields))
        if key not in self._records:
            self._records[key] = self._measured(lambda: list(self.client.iter_records(module, fields)))
            self.read[module] = len(self._records[key])
        return self._records[key]

    def notes(self) -> list[dict]:
        if self._notes is None:
            self._notes = self._measured(lambda: list(self.client.iter_records("Notes", ["Note_Title", "Parent_Id"])))
            self.read["Notes"] = len(self._notes)
        return self._notes

    def attachments(self, parent_module: str, parent_id: str) -> list[dict]:
        key = (parent_module, parent_id)
        if key not in self._attachments:
            self._attachments[key] = self._measured(lambda: self.client.attachments(parent_module, parent_id))
            self.read["attachment lists"] = len(self._attachments)
            self.read["Attachments"] = self.read.get("Attachments", 0) + len(self._attachments[key])
        return self._attachments[key]

    def cost(self) -> dict:
        return {"credits": self.credits, "calls": self.calls, "read": dict(self.read)}


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

