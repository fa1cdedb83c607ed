"""The path of a record module (Contacts, Accounts, Events...): jobs a crash left running re-attached,
what Zoho holds already read back by external id (rows of an interrupted call that landed, records
to update with their before-image), payloads prepared, then each row by a bulk job or a record
call, whichever costs less (loader/costs; the bulk half is loader/load_bulk)."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from clinic2zoho.loader import activity_links, costs
from clinic2zoho.loader.item import Item
from clinic2zoho.loader.journal import Entry, JournalSegment
from clinic2zoho.loader.load_bulk import BulkLoad
from clinic2zoho.zoho import existing, facts
from clinic2zoho.zoho.errors import ZohoError

if TYPE_CHECKING:
    from clinic2zoho.loader.module_loader import ModuleLoader


class RecordLoad:
    """A record module's rows, upserted by their external id."""

    def __init__(self, loader: ModuleLoader):
        self.loader = loader
        self.spec, self.client, self.settings, self.cp = loader.spec, loader.client, loader.settings, loader.cp
        self.bulk = BulkLoad(loader)

    def load(self, seg: JournalSegment, todo: dict[str, dict], entries: dict[str, Entry]) -> None:
        spec, loader = self.spec, self.loader
        if not spec.external_id:
            raise ValueError(f"{spec.table}: module {spec.module} needs meta external_id for idempotent loading")
        # 1. Bulk jobs started before a crash: re-attach and take their results.
        self.bulk.reattach_jobs(seg, todo, entries)
        if not todo:
            return
        # 2. What Zoho holds already: rows of an interrupted call that landed, and records to update.
        loader.fields_meta = self.client.fields(spec.module)
        loader.known_fields = {f["api_name"] for f in loader.fields_meta}
        if spec.external_id not in loader.known_fields:
            raise ValueError(f"{spec.module} has no field {spec.external_id} in this Zoho org: run prepare-schema first")
        columns = sorted({c for r in todo.values() for c in r if c in loader.known_fields})
        if spec.parent_column:  # an activity's parent may sit in either link: both in the before-image
            columns = sorted(set(columns) | ({activity_links.WHO, activity_links.WHAT} & loader.known_fields))
        found = self.scan(columns, list(todo))
        items: list[Item] = []
        landed: list[dict] = []
        for key, row in todo.items():
            entry = entries.get(key)
            rec = found.get(key)
            item = Item(key, row)
            if entry is not None and entry.status in ("intent", "sent") and entry.operation == "update":
                item.operation, item.zoho_id, item.before_image = "update", entry.zoho_id, entry.before_image
            elif rec is not None and entry is not None and entry.status in ("intent", "sent") and entry.path:
                landed.append({"source_key": key, "zoho_id": str(rec["id"]), "operation": "insert"})
                continue
            elif rec is not None:
                item.operation, item.zoho_id = "update", str(rec["id"])
                item.before_image = {c: rec.get(c) for c in columns if c in rec}
            items.append(item)
        seg.done(landed)
        for key in [d["source_key"] for d in landed]:
            todo.pop(key, None)
        items = self.prepare(seg, items)
        self.dispatch(seg, items)

    def scan(self, columns: list[str], keys: list[str]) -> dict[str, dict]:
        """The module's records carrying an external id: what exists before we write. By COQL on
        the rows' keys (50 a call) when that costs fewer calls than listing the whole module (200 a
        call; the record count decides) and COQL can select every column; else the listing."""
        ext = self.spec.external_id
        fields = [ext] + [c for c in columns if c not in (ext, "id")]
        fields = fields[: facts.FIELDS_PER_LIST - 1]
        if existing.coql_selectable(self.loader.fields_meta, fields) and existing.by_keys_is_cheaper(
                self.client, self.spec.module, len(keys)):
            return existing.find_by_keys(self.client, self.spec.module, ext, keys, select=fields)
        found: dict[str, dict] = {}
        for rec in self.client.iter_records(self.spec.module, fields):
            value = rec.get(ext)
            if value not in (None, ""):
                found[str(value)] = rec
        return found

    def prepare(self, seg: JournalSegment, items: list[Item]) -> list[Item]:
        ready, rejects = [], []
        self.loader.prefetch_links(items)
        for item in items:
            problem = self.loader.resolve_payload(item)
            if problem:
                rejects.append(problem)
            else:
                if item.operation == "update":
                    item.payload["id"] = item.zoho_id
                ready.append(item)
        self.loader.refuse(seg, rejects)
        return ready

    def dispatch(self, seg: JournalSegment, items: list[Item]) -> None:
        """The rows bulk jobs carry (as many as costs.choose_path puts there), then the rest, and
        what bulk could not place, by record calls."""
        forced = self.settings.force_path
        if forced == "record" or not self.spec.bulk_allowed:
            bulk_rows = 0
        elif forced == "bulk":
            bulk_rows = len(items)
        else:
            bulk_rows = sum(costs.choose_path(len(items), True).bulk_chunks)
        bulk_items, record_items = items[:bulk_rows], items[bulk_rows:]
        attempt = 0
        while bulk_items and attempt < self.settings.max_job_attempts:
            attempt += 1
            retry: list[Item] = []
            for start in range(0, len(bulk_items), facts.BULK_MAX_ROWS):
                retry += self.bulk.send(seg, bulk_items[start:start + facts.BULK_MAX_ROWS])
            bulk_items = retry
        record_items = bulk_items + record_items  # what bulk could not place goes by record calls
        self.send_records(seg, record_items)

    def send_records(self, seg: JournalSegment, items: list[Item]) -> None:
        batches = [items[i:i + facts.RECORDS_PER_CALL] for i in range(0, len(items), facts.RECORDS_PER_CALL)]
        if not batches:
            return
        workers = max(1, min(self.settings.record_concurrency, len(batches)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"load-{self.spec.module}") as pool:
            for fut in [pool.submit(self.loader.scoped, self.record_batch, seg, b) for b in batches]:
                fut.result()

    def record_batch(self, seg: JournalSegment, batch: list[Item], send=None) -> None:
        """One call's worth of rows by `send` (default: upsert by the external id; notes: update)."""
        loader = self.loader
        batch_id = f"r{uuid.uuid4().hex[:12]}"
        seg.intent([i.intent() for i in batch], "record", batch_id)
        self.cp("after_intent")
        ext = self.spec.external_id
        send = send or (lambda payloads: self.client.upsert(self.spec.module, payloads, duplicate_check_fields=[ext]))
        for attempt in range(1, self.settings.max_attempts + 1):
            seg.sent([i.key for i in batch])
            try:
                results = send([i.payload for i in batch])
            except ZohoError as exc:
                if exc.transient and attempt < self.settings.max_attempts:
                    time.sleep(min(2 ** attempt, 30))
                    continue  # an upsert by external id, or an update by id, is safe to send again
                loader.settle_failed_call(seg, batch, exc, attempt)
                return
            loader.stats["record_calls"] += 1
            self.cp("after_call")
            batch = loader.journal_outcomes(seg, batch, results, attempt, operation=None)
            if not batch:
                return
