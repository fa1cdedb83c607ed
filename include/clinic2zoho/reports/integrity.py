"""Related-list integrity, read back from Zoho for every record the run loaded: each lookup
(Insurance, Treatments, Billing on their Contact; Events and Tasks on their Contact) points at the
record the table names and that record exists; each owner is an active user with the provider's
email; each Note and Attachment hangs on its parent."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Callable

from clinic2zoho.loader import activity_links
from clinic2zoho.loader.plan import ModuleSpec
from clinic2zoho.reports.org_lists import OrgLists
from clinic2zoho.reports.run_context import RunContext


@dataclass(frozen=True)
class IntegrityProblem:
    module: str
    key: str
    relation: str  # the lookup column, Owner, or Parent
    problem: str
    zoho_id: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


class _Ids:
    """Zoho ids present in a module (one paged scan each, shared with the duplicate check)."""

    def __init__(self, ctx: RunContext, lists: OrgLists):
        self.ctx, self.lists = ctx, lists
        self._ids: dict[str, set[str]] = {}

    def of(self, module: str) -> set[str]:
        if module not in self._ids:
            try:
                ext = self.ctx.plan.spec(module).external_id
            except Exception:
                ext = None
            self._ids[module] = {str(r["id"]) for r in self.lists.records(module, [ext or "id"])}
        return self._ids[module]


def check_integrity(ctx: RunContext, client: Any, on_step: Callable[[str], None] | None = None,
                    lists: OrgLists | None = None) -> tuple[list[IntegrityProblem], dict[str, int]]:
    """Problems found, and the number of relations checked per module. `lists`: the org's lists
    validation has read already."""
    lists = lists or OrgLists(client)
    ids = _Ids(ctx, lists)
    problems: list[IntegrityProblem] = []
    checked: dict[str, int] = {}
    active = ctx.active_user_ids(client)
    for module in ctx.plan.order():
        spec = ctx.plan.spec(module)
        if on_step:
            on_step(f"integrity {module}")
        if _links(spec):
            checked[module] = _check_lookups(ctx, client, lists, spec, ids, active, problems)
        elif spec.kind == "note":
            checked[module] = _check_notes(ctx, lists, spec, ids, problems)
        elif spec.kind == "attachment":
            checked[module] = _check_attachments(ctx, lists, spec, ids, problems)
    return problems, checked


def _links(spec: ModuleSpec) -> bool:
    """A record module whose lookups, owner or parent the check follows."""
    return spec.kind == "record" and bool(spec.lookups or spec.owner_column or spec.parent_column)


def _done(ctx: RunContext, spec: ModuleSpec) -> dict[str, Any]:
    return {k: j for k, j in ctx.journal_rows(spec.module).items() if j.status == "done" and j.zoho_id}


def _lookup_fields(ctx: RunContext, client: Any, spec: ModuleSpec) -> list[str]:
    """The fields a module's records are read back with: its key, the lookups its Zoho module has,
    an activity's Who_Id and What_Id, the owner."""
    types = ctx.field_types(client, spec.module)
    columns = [c for c in spec.lookups if c in types]
    links = [f for f in (activity_links.WHO, activity_links.WHAT) if spec.parent_column and f in types]
    return [spec.external_id or "id"] + columns + links + (["Owner"] if spec.owner_column else [])


def reads(ctx: RunContext, client: Any) -> dict[str, list[str]]:
    """module -> the fields `check_integrity` reads it with (for reports.org_lists.wide_reads)."""
    specs = [ctx.plan.spec(m) for m in ctx.plan.order()]
    return {s.module: _lookup_fields(ctx, client, s) for s in specs if _links(s) and _done(ctx, s)}


def _parent_module(spec: ModuleSpec, row: dict) -> str:
    return row.get("Parent_Module") or spec.parent_module or "Contacts"


def _check_lookups(ctx: RunContext, client: Any, lists: OrgLists, spec: ModuleSpec, ids: _Ids, active: set[str],
                   problems: list[IntegrityProblem]) -> int:
    done = _done(ctx, spec)
    if not done:
        return 0
    types = ctx.field_types(client, spec.module)
    columns = [c for c in spec.lookups if c in types]
    rows = ctx.expected_rows(spec)
    for col in [c for c in spec.lookups if c not in types]:  # the link was dropped on load
        for key, j in done.items():
            if rows.get(key, {}).get(col) not in (None, ""):
                problems.append(IntegrityProblem(spec.module, key, col, f"{spec.module} has no field {col} in Zoho:"
                                                 f" the link to {spec.lookups[col]} is lost", j.zoho_id))
    records = {str(r["id"]): r for r in lists.records(spec.module, _lookup_fields(ctx, client, spec))}
    n = 0
    for key, j in done.items():
        rec = records.get(j.zoho_id)
        if rec is None:
            problems.append(IntegrityProblem(spec.module, key, "(record)", "loaded record not found in Zoho", j.zoho_id))
            continue
        row = rows.get(key, {})
        for col in columns:
            target = spec.lookups[col]
            want_key = row.get(col)
            got = rec.get(col)
            got_id = str(got["id"]) if isinstance(got, dict) and got.get("id") else None
            if want_key in (None, ""):
                continue
            n += 1
            want_id = ctx.crosswalk(target).get(str(want_key))
            if got_id is None:
                problems.append(IntegrityProblem(spec.module, key, col, f"not linked to {target} {want_key}", j.zoho_id))
            elif got_id not in ids.of(target):
                problems.append(IntegrityProblem(spec.module, key, col,
                                                 f"linked to {target} id {got_id}, which does not exist", j.zoho_id))
            elif want_id != got_id:
                problems.append(IntegrityProblem(spec.module, key, col, f"linked to {target} "
                                                 f"{ctx.key_of(target, got_id) or 'id ' + got_id}, not {want_key}",
                                                 j.zoho_id))
        if spec.parent_column and row.get(spec.parent_column) not in (None, ""):
            n += 1
            _activity_parent(ctx, spec, key, j.zoho_id, row, rec, ids, problems)
        if spec.owner_column:
            n += 1
            owner = rec.get("Owner")
            owner_id = str(owner["id"]) if isinstance(owner, dict) and owner.get("id") else None
            want = str(row.get(spec.owner_column) or "").strip().lower()
            email = ctx.user_email(client, owner_id) if owner_id else None
            if owner_id is None or owner_id not in active:
                problems.append(IntegrityProblem(spec.module, key, "Owner", "owner is not an active user", j.zoho_id))
            elif want and email != want:
                problems.append(IntegrityProblem(spec.module, key, "Owner",
                                                 f"owned by user {owner_id}, not the provider's user", j.zoho_id))
    return n


def _activity_parent(ctx: RunContext, spec: ModuleSpec, key: str, zoho_id: str, row: dict, rec: dict, ids: _Ids,
                     problems: list[IntegrityProblem]) -> None:
    """An activity (a Call) on the patient the table names: Who_Id for a Contact, What_Id for a Lead."""
    want_module = _parent_module(spec, row)
    want_key = str(row[spec.parent_column])
    got_module, got_id = activity_links.linked_parent(rec)
    if got_id is None:
        problems.append(IntegrityProblem(spec.module, key, spec.parent_column, f"not linked to {want_module} {want_key}",
                                         zoho_id))
    elif got_module != want_module or got_id not in ids.of(want_module):
        problems.append(IntegrityProblem(spec.module, key, spec.parent_column,
                                         f"linked to {got_module} id {got_id}, not an existing {want_module}", zoho_id))
    elif ctx.crosswalk(want_module).get(want_key) != got_id:
        problems.append(IntegrityProblem(spec.module, key, spec.parent_column, f"linked to {want_module} "
                                         f"{ctx.key_of(want_module, got_id) or 'id ' + got_id}, not {want_key}", zoho_id))


def _check_notes(ctx: RunContext, lists: OrgLists, spec: ModuleSpec, ids: _Ids, problems: list[IntegrityProblem]) -> int:
    done = _done(ctx, spec)
    if not done:
        return 0
    notes = {str(n["id"]): n for n in lists.notes()}
    rows = ctx.expected_rows(spec)
    for key, j in done.items():
        row = rows.get(key, {})
        parent_module = _parent_module(spec, row)
        want = ctx.crosswalk(parent_module).get(str(row.get(spec.parent_column or "Parent_Id")))
        note = notes.get(j.zoho_id)
        parent = (note or {}).get("Parent_Id") or {}
        got = str(parent.get("id")) if isinstance(parent, dict) and parent.get("id") else None
        if note is None:
            problems.append(IntegrityProblem(spec.module, key, "Parent", "note not found in Zoho", j.zoho_id))
        elif got is None or got not in ids.of(parent_module):
            problems.append(IntegrityProblem(spec.module, key, "Parent",
                                             f"the note's parent {parent_module} record no longer exists", j.zoho_id))
        elif want is not None and got != want:
            problems.append(IntegrityProblem(spec.module, key, "Parent", "the note hangs on another record", j.zoho_id))
    return len(done)


def _check_attachments(ctx: RunContext, lists: OrgLists, spec: ModuleSpec, ids: _Ids,
                       problems: list[IntegrityProblem]) -> int:
    done = _done(ctx, spec)
    rows = ctx.expected_rows(spec)
    by_parent: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for key, j in done.items():
        parent_module = _parent_module(spec, rows.get(key, {}))
        by_parent.setdefault((parent_module, j.parent_id or ""), []).append((key, j.zoho_id))
    for (parent_module, parent_id), items in by_parent.items():
        if not parent_id or parent_id not in ids.of(parent_module):
            for key, zid in items:
                problems.append(IntegrityProblem(spec.module, key, "Parent",
                                                 f"the attachment's parent {parent_module} record no longer exists", zid))
            continue
        present = {str(a.get("id")) for a in lists.attachments(parent_module, parent_id)}
        for key, zid in items:
            if zid not in present:
                problems.append(IntegrityProblem(spec.module, key, "Parent",
                                                 "attachment not on its parent record", zid))
    return len(done)
