"""Notes and attachments that earlier runs sent: a rerun, with the same run id or a new one, sends
none of them twice.

Zoho has no external id on notes or attachments. The journal of every other run into this org
says which children may be in Zoho already (inserted and not rolled back, or left in flight by a
run that died); those are then looked for in the org this run loads, on the parent this run
resolves, by title / file name (both carry the source id). Never by a journaled Zoho id alone.
Runs of unknown org (journaled before runs recorded theirs, loader/run_org) are asked too: one
may have loaded this org, and a wrong guess costs only a read; runs into other orgs are not.
- notes: one paged read of the org's notes (GET /Notes, 200 a page); a note with the same title
  and content is left alone (journaled done, operation `unchanged`, no call), an edited one is
  updated in place (PUT, before-image journaled, so rolling back the rerun restores it), one not
  found is inserted;
- attachments: one list per parent (Zoho lists attachments per parent only); a file name found
  is left alone (`unchanged`). Zoho cannot update an attachment and the loader never deletes one,
  so a document whose file changed in the export keeps its first upload (a new document id
  uploads as a new attachment).
A run that was rolled back has deleted its children: they are loaded again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clinic2zoho.loader import journal, run_org

UNCHANGED = "unchanged"  # journal operation of a child already in Zoho as the source has it
NOTE_FIELDS = ("Note_Title", "Note_Content")


def prior_children(root: Path, run_id: str, module: str, org_id: str) -> set[str]:
    """Source keys of `module` that another run into org `org_id` (or of unknown org) inserted,
    or may have, and did not roll back."""
    others = [r for r in run_org.runs_of(root, org_id) + run_org.runs_of(root, None)
              if r != run_id and (Path(root) / r / f"{module}.duckdb").is_file()]
    if not others:
        return set()
    with journal.JournalReader(root, runs=others, modules=[module]) as reader:
        rows = reader.sql(
            """SELECT DISTINCT j.source_key FROM load_journal j
               LEFT JOIN rollback_journal r USING (run_id, module, source_key)
               WHERE j.module = ? AND j.operation = 'insert' AND j.status IN ('done', 'intent', 'sent')
                 AND (r.status IS NULL OR r.status <> 'done')""", [module])
    return {r[0] for r in rows}


def _same(a: Any, b: Any) -> bool:
    return (a or "") == (b or "")


def match_notes(client: Any, prior: set[str], items: list, resend: set[str]) -> None:
    """Sets each item's operation: `unchanged` (in Zoho as the source has it), `update` (in Zoho,
    edited since: zoho_id, before_image and an update payload set) or leaves `insert`. `resend`:
    keys this run was updating when it stopped (their zoho_id set by the caller), sent again as
    updates so the journal keeps their first before-image."""
    if not any(i.key in prior or i.key in resend for i in items):
        return
    by_id: dict[str, dict] = {}
    by_place: dict[tuple[str, str], dict] = {}
    for note in client.iter_records("Notes", ["Note_Title", "Note_Content", "Parent_Id"]):
        by_id[str(note["id"])] = note
        parent = note.get("Parent_Id") or {}
        by_place.setdefault((str(parent.get("id")), str(note.get("Note_Title"))), note)
    for item in items:
        note = by_id.get(str(item.zoho_id)) if item.key in resend else None
        note = note or by_place.get((str(item.parent_id), str(item.label)))
        if note is None:  # never sent, or deleted from Zoho since: insert it
            item.operation, item.zoho_id, item.before_image = "insert", None, None
            continue
        item.zoho_id = str(note["id"])
        if item.key not in resend and all(_same(note.get(f), item.payload.get(f)) for f in NOTE_FIELDS):
            item.operation = UNCHANGED
            continue
        item.operation = "update"
        item.before_image = {f: note.get(f) for f in NOTE_FIELDS}
        item.payload = {"id": item.zoho_id, **{f: item.payload.get(f) for f in NOTE_FIELDS}}


def match_attachments(client: Any, prior: set[str], items: list) -> None:
    """Items another run may have uploaded are looked for on their parent by file name (one list
    per parent); found ones become `unchanged` with their Zoho id. The rest are left to upload."""
    wanted: dict[tuple[str, str], dict[str, Any]] = {}
    for item in items:
        if item.key in prior:
            wanted.setdefault((item.parent_module, item.parent_id), {})[str(item.label)] = item
    for (parent_module, parent_id), by_name in wanted.items():
        for a in client.attachments(parent_module, parent_id):
            item = by_name.get(str(a.get("File_Name")))
            if item is not None:
                item.operation, item.zoho_id = UNCHANGED, str(a["id"])
