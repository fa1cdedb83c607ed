"""What the note and attachment paths (loader/load_notes, loader/load_attachments) share: a resumed
load first finds which children of an interrupted call reached Zoho (read back on their parent by
title / file name, both carrying the source id), and children an earlier run left in Zoho as the
source has them (loader/children) are journaled done with nothing sent."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from clinic2zoho.loader import children
from clinic2zoho.loader.item import Item
from clinic2zoho.loader.journal import Entry, JournalSegment

if TYPE_CHECKING:
    from clinic2zoho.loader.module_loader import ModuleLoader


class ChildLoad:
    """Shared by notes and attachments; a subclass names the Zoho field its children carry their
    name in, how a parent's children are listed and which source column names a row."""

    name_field: str  # Zoho's field holding a child's name: Note_Title, File_Name

    def __init__(self, loader: ModuleLoader):
        self.loader = loader
        self.spec, self.client, self.settings, self.cp = loader.spec, loader.client, loader.settings, loader.cp
        self.rows_by_key: dict[str, dict] = {}

    def listed(self, parent_module: str, parent_id: str) -> list[dict]:
        """The children Zoho holds on one parent."""
        raise NotImplementedError

    def row_name(self, row: dict) -> Any:
        """The name a source row's child is sent with."""
        raise NotImplementedError

    def resume(self, seg: JournalSegment, todo: dict[str, dict], entries: dict[str, Entry]) -> dict[str, Entry]:
        """Rows of an interrupted call (intent or sent): those found in Zoho are journaled done and
        leave `todo`. Returns them all (by key), found or not."""
        self.rows_by_key = todo
        inflight = {k: e for k, e in entries.items() if k in todo and e.status in ("intent", "sent")}
        for key in self.recognise(seg, inflight):
            todo.pop(key)
        self.loader.prefetch_links([Item(key, row) for key, row in todo.items()])
        return inflight

    def recognise(self, seg: JournalSegment, inflight: dict[str, Entry]) -> set[str]:
        """Children (notes/attachments) of an interrupted call that reached Zoho: read the parents'
        notes or attachments and match the title / file name carrying the source id."""
        by_parent: dict[tuple[str, str], list[str]] = {}
        for key, e in inflight.items():
            if e.parent_id and e.operation in (None, "insert"):  # an update or a match inserted nothing
                by_parent.setdefault((e.parent_module or self.spec.parent_module, e.parent_id), []).append(key)
        found: list[dict] = []
        for (parent_module, parent_id), keys in by_parent.items():
            names = {str(c.get(self.name_field)): str(c["id"]) for c in self.listed(parent_module, parent_id)}
            for key in keys:
                name = self.child_name(key, inflight[key])
                if name in names:
                    found.append({"source_key": key, "zoho_id": names[name], "operation": "insert"})
        seg.done(found)
        return {f["source_key"] for f in found}

    def child_name(self, key: str, entry: Entry) -> str:
        if entry.label:
            return entry.label
        return str(self.row_name(self.rows_by_key.get(key, {})))

    def prior(self) -> set[str]:
        """Keys other runs into this org may have sent already (loader/children)."""
        ctx = self.loader.ctx
        return children.prior_children(ctx.journal_root, ctx.run_id, self.spec.module, ctx.org_id)

    def journal_unchanged(self, seg: JournalSegment, items: list[Item]) -> None:
        """Children already in Zoho as the source has them: done, with nothing sent."""
        if items:
            seg.intent([i.intent() for i in items], "match", f"m{uuid.uuid4().hex[:12]}")
            seg.done([{"source_key": i.key, "zoho_id": i.zoho_id, "operation": children.UNCHANGED} for i in items])
