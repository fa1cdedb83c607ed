"""The path of notes: each row resolved to its parent, notes an earlier run sent matched in Zoho
(loader/children: unchanged, updated in place, or inserted), inserts sent 100 a call. A note insert
is not idempotent, so a call whose outcome is unknown is read back before it is sent again."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from clinic2zoho.loader import children
from clinic2zoho.loader.item import Item
from clinic2zoho.loader.journal import Entry, JournalSegment
from clinic2zoho.loader.load_children import ChildLoad
from clinic2zoho.loader.load_records import RecordLoad
from clinic2zoho.zoho import facts
from clinic2zoho.zoho.errors import ZohoError

if TYPE_CHECKING:
    from clinic2zoho.loader.module_loader import ModuleLoader


class NoteLoad(ChildLoad):
    name_field = "Note_Title"

    def __init__(self, loader: ModuleLoader):
        super().__init__(loader)
        self.records = RecordLoad(loader)  # edited notes go as record updates

    def listed(self, parent_module: str, parent_id: str) -> list[dict]:
        return self.client.notes(parent_module, parent_id)

    def row_name(self, row: dict):
        return row.get("Note_Title")

    def load(self, seg: JournalSegment, todo: dict[str, dict], entries: dict[str, Entry]) -> None:
        inflight = self.resume(seg, todo, entries)
        items = []
        rejects = []
        for key, row in todo.items():
            item = Item(key, row)
            problem = self.loader.resolve_payload(item)
            if problem:
                rejects.append(problem)
                continue
            item.payload = {k: v for k, v in item.payload.items() if k in ("Note_Title", "Note_Content") and v is not None}
            item.label = str(row.get("Note_Title"))
            item.payload["Parent_Id"] = {"module": {"api_name": item.parent_module}, "id": item.parent_id}
            items.append(item)
        self.loader.refuse(seg, rejects)
        # Notes of earlier runs (or this run's updates cut short) are matched, never sent twice.
        resend = {k for k, e in inflight.items() if e.operation == "update" and e.zoho_id}
        for item in items:
            if item.key in resend:
                item.zoho_id = inflight[item.key].zoho_id
        children.match_notes(self.client, self.prior(), items, resend)
        self.journal_unchanged(seg, [i for i in items if i.operation == children.UNCHANGED])
        jobs = []
        for op, fn in (("insert", self.insert_batch), ("update", self.update_batch)):
            todo_op = [i for i in items if i.operation == op]
            jobs += [(fn, todo_op[i:i + facts.RECORDS_PER_CALL]) for i in range(0, len(todo_op), facts.RECORDS_PER_CALL)]
        workers = max(1, min(self.settings.record_concurrency, len(jobs) or 1))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="load-notes") as pool:
            for fut in [pool.submit(self.loader.scoped, fn, seg, b) for fn, b in jobs]:
                fut.result()

    def update_batch(self, seg: JournalSegment, batch: list[Item]) -> None:
        """Edited notes: updated in place by id (Zoho's PUT /Notes), safe to send again."""
        self.records.record_batch(seg, batch, lambda payloads: self.client.update(self.spec.module, payloads))

    def insert_batch(self, seg: JournalSegment, batch: list[Item]) -> None:
        loader = self.loader
        batch_id = f"n{uuid.uuid4().hex[:12]}"
        seg.intent([i.intent() for i in batch], "record", batch_id)
        self.cp("after_intent")
        for attempt in range(1, self.settings.max_attempts + 1):
            seg.sent([i.key for i in batch])
            try:
                results = self.client.add_notes([i.payload for i in batch])
            except ZohoError as exc:
                if exc.transient and attempt < self.settings.max_attempts:
                    time.sleep(min(2 ** attempt, 30))
                    if not getattr(exc, "outcome_unknown", False):
                        continue  # refused before anything happened (429, 5xx before the write)
                    # A note insert is not idempotent: see what landed before sending again.
                    landed = self.recognise(
                        seg, {i.key: Entry(i.key, "sent", None, "insert", None, "record", batch_id, None,
                                           i.parent_id, attempt, i.label, i.parent_module) for i in batch})
                    batch = [i for i in batch if i.key not in landed]
                    if not batch:
                        return
                    continue
                loader.settle_failed_call(seg, batch, exc, attempt)
                return
            loader.stats["record_calls"] += 1
            self.cp("after_call")
            batch = loader.journal_outcomes(seg, batch, results, attempt, operation="insert")
            if not batch:
                return
