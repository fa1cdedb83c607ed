"""The path of attachments: each row resolved to its parent, documents an earlier run uploaded left
alone (loader/children), every other document checked inside the export folder (loader/documents)
and uploaded one call each, or attached as a link when over Zoho's size limit (loader/links)."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from clinic2zoho.loader import children, documents, links
from clinic2zoho.loader.item import Item
from clinic2zoho.loader.journal import Entry, JournalSegment
from clinic2zoho.loader.load_children import ChildLoad
from clinic2zoho.loader.row_errors import TRANSIENT_ROW_CODES
from clinic2zoho.zoho.errors import ZohoError


class AttachmentLoad(ChildLoad):
    name_field = "File_Name"

    def listed(self, parent_module: str, parent_id: str) -> list[dict]:
        return self.client.attachments(parent_module, parent_id)

    def row_name(self, row: dict):
        return row.get(self.spec.file_name_column)

    def document(self, row: dict) -> Path:
        """The real path of the row's document inside the export folder; raises DocumentRefused."""
        value = row.get(self.spec.file_column)
        if not value:
            raise documents.DocumentRefused(documents.NOT_FOUND, "no document path")
        return documents.locate(str(value), self.settings.files_root)

    def load(self, seg: JournalSegment, todo: dict[str, dict], entries: dict[str, Entry]) -> None:
        self.resume(seg, todo, entries)
        items, rejects, candidates = [], [], []
        limit = self.settings.attachment_max_bytes
        for key, row in todo.items():
            item = Item(key, row, label=str(row.get(self.spec.file_name_column) or key))
            problem = self.loader.resolve_payload(item)
            if problem:
                rejects.append(problem)
            else:
                candidates.append(item)
        # Documents an earlier run uploaded are left alone (Zoho cannot update an attachment).
        children.match_attachments(self.client, self.prior(), candidates)
        self.journal_unchanged(seg, [i for i in candidates if i.operation == children.UNCHANGED])
        for item in candidates:
            if item.operation == children.UNCHANGED:
                continue
            key, row = item.key, item.row
            try:  # refused paths (outside the export, missing, unreadable) are never opened, never sent
                path = self.document(row)
                size = path.stat().st_size
                over = size > limit or (self.spec.over_limit_column and row.get(self.spec.over_limit_column)
                                        in (True, "true", "True", 1))
                if not over:
                    documents.check_readable(path)
            except documents.DocumentRefused as exc:
                rejects.append({"source_key": key, "code": exc.code, "field": self.spec.file_column,
                                "message": f"document {key}: {exc.message}"})
                continue
            if over:  # linked where the clinic keeps it; with no web address, a reject naming what to set
                item.url = links.web_url(row.get(self.spec.url_column)) if self.spec.url_column else None
                if item.url is None:
                    rejects.append(links.no_url(key, size, limit, self.spec.url_column))
                    continue
            else:
                item.file = path
            items.append(item)
        self.loader.refuse(seg, rejects)
        workers = max(1, min(self.settings.record_concurrency, len(items) or 1))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="load-attachments") as pool:
            for fut in [pool.submit(self.loader.scoped, self.upload_one, seg, i) for i in items]:
                fut.result()

    def upload_one(self, seg: JournalSegment, item: Item) -> None:
        loader = self.loader
        batch_id = f"a{uuid.uuid4().hex[:12]}"
        seg.intent([item.intent()], links.LINK if item.url else "upload", batch_id)
        self.cp("after_intent")
        name = item.label or item.key  # the name it is journaled and read back by
        for attempt in range(1, self.settings.max_attempts + 1):
            seg.sent([item.key])
            try:
                if item.url:  # titled with the file's name, as an upload would be named
                    res = self.client.link_attachment(item.parent_module, item.parent_id, item.url, title=name)
                else:
                    res = self.client.upload_attachment(item.parent_module, item.parent_id, item.file,
                                                        file_name=name, opener=documents.opener(item.file))
            except documents.DocumentUnreadable as exc:
                # The file could not be opened for this attempt, so nothing of it was sent: a reject
                # (not a row left `sent` that every resume would trip over again).
                seg.reject([{"source_key": item.key, "code": documents.UNREADABLE, "field": self.spec.file_column,
                             "message": f"document {item.key}: {exc.strerror}"}])
                return
            except ZohoError as exc:
                if exc.transient and attempt < self.settings.max_attempts:
                    time.sleep(min(2 ** attempt, 30))
                    if not getattr(exc, "outcome_unknown", False):
                        continue  # refused before anything happened: nothing to read back
                    entry = Entry(item.key, "sent", None, "insert", None, "upload", batch_id, None, item.parent_id, 1,
                                  item.label, item.parent_module)
                    if self.recognise(seg, {item.key: entry}):
                        return
                    continue
                loader.settle_failed_call(seg, [item], exc, attempt, "upload")
                return
            loader.stats["record_calls"] += 1
            self.cp("after_call")
            if res.ok:
                seg.done([{"source_key": item.key, "zoho_id": res.id, "operation": "insert"}])
            elif res.code in TRANSIENT_ROW_CODES and attempt < self.settings.max_attempts:
                continue
            elif res.code in TRANSIENT_ROW_CODES:
                loader.left_pending([item], res.code)
            else:
                seg.reject([{"source_key": item.key, "code": res.code, "field": res.api_name, "message": res.message}])
            self.cp("after_outcome")
            return
