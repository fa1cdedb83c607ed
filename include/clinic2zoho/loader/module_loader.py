"""Loading one module: reconcile the journal with Zoho, prepare payloads (lookups, owner, line
items), pick the cheaper path per batch, and journal every row from intent to outcome."""

from __future__ import annotations

import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clinic2zoho.loader import activity_links, bulk_steps, children, costs, documents
from clinic2zoho.loader.checkpoints import Checkpoint, no_checkpoint
from clinic2zoho.loader.journal import FINAL, Entry, JournalSegment, audit_scope
from clinic2zoho.loader.plan import ModuleSpec
from clinic2zoho.loader.resolve import Crosswalk, OwnerResolver, ProductResolver
from clinic2zoho.loader.row_errors import TRANSIENT_ROW_CODES, bulk_row_transient
from clinic2zoho.loader import links
from clinic2zoho.loader.source import TableSource, parse_subform
from clinic2zoho.zoho import existing, facts, refusals
from clinic2zoho.zoho.errors import ZohoError
from clinic2zoho.zoho.models import BulkJobStatus

log = logging.getLogger(__name__)

PARENT_PENDING = "PARENT_PENDING"  # journal reason of a row waiting for a pending record it points to


@dataclass
class LoadSettings:
    record_concurrency: int = 4  # record calls in flight per module
    force_path: str | None = None  # "record" or "bulk": override the credit choice (tests, benches)
    attachment_max_bytes: int = facts.ATTACHMENT_MAX_BYTES
    # The export folder: document paths are relative to it and must stay inside it (loader/documents).
    # None: the Loader takes the folder landed into the warehouse; no folder known, no document read.
    files_root: Path | None = None
    max_attempts: int = 4  # tries per row on transient failures
    max_job_attempts: int = 2  # bulk jobs per rows before falling back to record calls
    poll_initial: float = 0.5
    poll_max: float = 10.0
    bulk_timeout: float = 3600.0
    work_dir: Path | None = None  # bulk zips
    defer_bulk: bool = False  # stop after a bulk job is started (journaled) instead of polling it


class BulkJobStarted(Exception):
    """Raised in defer_bulk mode once a job is journaled and running: the caller (a deferrable
    Airflow task) waits for it elsewhere, then runs the module again, which re-attaches."""

    def __init__(self, module: str, job_id: str):
        self.module, self.job_id = module, job_id
        super().__init__(f"bulk job {job_id} of {module} is running")


@dataclass
class LoadContext:
    client: Any
    journal_root: Path
    run_id: str
    source: TableSource
    settings: LoadSettings = field(default_factory=LoadSettings)
    checkpoint: Checkpoint = no_checkpoint
    crosswalk: Crosswalk | None = None
    owners: OwnerResolver | None = None
    products: ProductResolver | None = None
    org_id: str = ""  # the Zoho org loaded (run_org): only its runs' journals feed this load


@dataclass
class Item:
    """One source row on its way to Zoho."""

    key: str
    row: dict
    operation: str = "insert"
    zoho_id: str | None = None
    before_image: dict | None = None
    parent_id: str | None = None
    payload: dict = field(default_factory=dict)
    last_code: str | None = None

    label: str | None = None
    parent_module: str | None = None
    file: Path | None = None  # attachments: the document's real path, checked inside the export folder
    url: str | None = None  # a document over the attachment limit: the web address attached as a link

    def intent(self) -> dict:
        return {"source_key": self.key, "operation": self.operation, "zoho_id": self.zoho_id,
                "before_image": self.before_image, "parent_id": self.parent_id, "label": self.label,
                "parent_module": self.parent_module}


class ModuleLoader:
    def __init__(self, ctx: LoadContext, spec: ModuleSpec):
        self.ctx = ctx
        self.spec = spec
        self.client = ctx.client
        self.cp = ctx.checkpoint
        self.settings = ctx.settings
        self.stats = {"record_calls": 0, "bulk_jobs": 0, "failed_jobs": 0}
        self.known_fields: set[str] | None = None  # the module's fields in Zoho (record modules)
        self.fields_meta: list[dict] = []

    # ------------------------------------------------------------------ entry point
    def run(self) -> dict:
        with audit_scope(self.spec.module):
            return self._run()

    def _scoped(self, fn, *args):
        """Run `fn` in a worker thread with this module's audit scope."""
        with audit_scope(self.spec.module):
            return fn(*args)

    def _run(self) -> dict:
        seg = JournalSegment(self.ctx.journal_root, self.ctx.run_id, self.spec.module)
        try:
            entries = seg.entries()
            rows = self._read_rows(seg, entries)
            todo = {k: r for k, r in rows.items() if k not in entries or entries[k].status not in FINAL}
            if todo:
                if self.spec.kind == "record":
                    self._load_records(seg, todo, entries)
                elif self.spec.kind == "note":
                    self._load_notes(seg, todo, entries)
                else:
                    self._load_attachments(seg, todo, entries)
            counts = dict(seg.sql("SELECT status, count(*) FROM load_journal WHERE run_id = ? AND module = ?"
                                  " GROUP BY status", [self.ctx.run_id, self.spec.module]))
        finally:
            seg.close()
        return {"module": self.spec.module, "source_rows": len(rows), **{s: counts.get(s, 0) for s in
                ("done", "rejected", "skipped", "intent", "sent")}, **self.stats}

    # ------------------------------------------------------------------ source
    def _key_of(self, row: dict) -> str | None:
        spec = self.spec
        if spec.external_id and row.get(spec.external_id) not in (None, ""):
            return str(row[spec.external_id])
        if spec.kind == "note":
            return row.get("Note_Title")
        if spec.kind == "attachment":
            return row.get(spec.file_name_column)
        return None

    def _read_rows(self, seg: JournalSegment, entries: dict[str, Entry]) -> dict[str, dict]:
        rows: dict[str, dict] = {}
        bad: list[dict] = []
        for position, row in enumerate(self.ctx.source.rows(self.spec), start=1):
            key = self._key_of(row)
            if key is None:
                bad.append({"source_key": f"#row{position}", "code": "MISSING_SOURCE_KEY",
                            "field": self.spec.external_id, "message": f"{self.spec.table} row {position} has no key"})
            elif key in rows:
                bad.append({"source_key": f"{key}#dup{position}", "code": "DUPLICATE_SOURCE_KEY",
                            "field": self.spec.external_id,
                            "message": f"{self.spec.table} row {position} repeats key {key}"})
            else:
                rows[key] = row
        seg.reject([b for b in bad if b["source_key"] not in entries])
        return rows

    # ------------------------------------------------------------------ payloads
    def _resolve_common(self, item: Item) -> dict | None:
        """Lookups, owner and line items into Zoho's shape; a reject dict when one fails."""
        spec, row = self.spec, item.row
        payload: dict[str, Any] = {}
        for col, value in row.items():
            if col.startswith("_") or col in (spec.parent_column, spec.file_column, spec.parent_module_column,
                                              spec.over_limit_column):
                continue
            if self.known_fields is not None and col not in self.known_fields and col != spec.owner_column:
                continue  # a helper column of the model, not a field of the module
            if spec.kind == "attachment":
                continue
            if col in spec.lookups:
                if value in (None, ""):
                    payload[col] = None
                    continue
                zid = self.ctx.crosswalk.resolve(spec.lookups[col], str(value))
                if zid is None:
                    return self._unresolved(item, col, spec.lookups[col], str(value), "LOOKUP_UNRESOLVED")
                payload[col] = {"id": zid}
            elif col == spec.owner_column:
                if value in (None, ""):
                    continue  # no provider: Zoho makes the loading user the owner (the gate warns of these)
                uid = self.ctx.owners.resolve(value)
                if uid is None:
                    return {"source_key": item.key, "code": "OWNER_UNRESOLVED", "field": col,
                            "message": "the provider's email is not an active, confirmed user of this Zoho org "
                                       "(an invited provider owns records once the invitation is accepted)"}
                payload["Owner"] = {"id": uid}
            elif col in spec.subforms:
                try:
                    lines = parse_subform(value, spec.table, col, item.key)
                except ValueError as exc:
                    return {"source_key": item.key, "code": "INVALID_SUBFORM", "field": col, "message": str(exc)}
                if lines is not None:
                    for line in lines:
                        product = line.get("Product_Name")
                        name = product.get("name") if isinstance(product, dict) else product
                        if name and not (isinstance(product, dict) and product.get("id")):
                            pid = self.ctx.products.resolve(str(name))
                            if pid is None:
                                return {"source_key": item.key, "code": "LOOKUP_UNRESOLVED", "field": col,
                                        "message": "an invoice line names a product missing from Zoho"}
                            line["Product_Name"] = {"id": pid}
                    payload[col] = lines
            else:
                payload[col] = value
        if spec.parent_column:
            parent_key = row.get(spec.parent_column)
            pmod = row.get(spec.parent_module_column) if spec.parent_module_column else spec.parent_module
            pmod = pmod or spec.parent_module
            if spec.parent_modules and pmod not in spec.parent_modules:
                return {"source_key": item.key, "code": "INVALID_PARENT_MODULE", "field": spec.parent_module_column,
                        "message": f"parent module {pmod!r} is not one of {', '.join(spec.parent_modules)}"}
            pid = self.ctx.crosswalk.resolve(pmod, str(parent_key)) if parent_key and pmod else None
            if pid is None and parent_key and pmod:
                return self._unresolved(item, spec.parent_column, pmod, str(parent_key), "PARENT_UNRESOLVED")
            if pid is None:
                return {"source_key": item.key, "code": "PARENT_UNRESOLVED", "field": spec.parent_column,
                        "message": f"{pmod} record {parent_key} was not loaded"}
            item.parent_id, item.parent_module = pid, pmod
            if spec.kind == "record":  # an activity on a Contact or a Lead (Who_Id / What_Id)
                payload.update(activity_links.link_fields(pmod, pid, update=item.operation == "update"))
        if item.operation == "insert":
            payload = {k: v for k, v in payload.items() if v is not None}
        item.payload = payload
        return None

    def _prefetch_links(self, items: list[Item]) -> None:
        """The lookup and parent keys of these rows the crosswalk does not know yet, read back per
        target module in one go (Crosswalk.prefetch: 50 keys a call) rather than one get each."""
        spec, wanted = self.spec, {}
        for item in items:
            for col, module in spec.lookups.items():
                if item.row.get(col) not in (None, ""):
                    wanted.setdefault(module, set()).add(str(item.row[col]))
            if spec.parent_column and item.row.get(spec.parent_column) not in (None, ""):
                pmod = (item.row.get(spec.parent_module_column) if spec.parent_module_column else None) or spec.parent_module
                if pmod:
                    wanted.setdefault(pmod, set()).add(str(item.row[spec.parent_column]))
        for module, keys in wanted.items():
            self.ctx.crosswalk.prefetch(module, sorted(keys))

    def _unresolved(self, item: Item, col: str | None, module: str, key: str, code: str) -> dict:
        """A row pointing to a record Zoho does not hold: a reject, unless that record is pending
        after a transient failure; then the row waits for it (pending: a resume sends it)."""
        if self.ctx.crosswalk.pending(module, key):
            return {"source_key": item.key, "code": PARENT_PENDING, "field": col, "pending": True,
                    "message": f"{module} record {key} is pending after a transient failure: sent once it loads"}
        return {"source_key": item.key, "code": code, "field": col, "message": f"{module} record {key} was not loaded"}

    def _refuse(self, seg: JournalSegment, problems: list[dict]) -> None:
        """Rows that cannot be sent: rejected with their reason, or left waiting (pending)."""
        seg.reject([p for p in problems if not p.get("pending")])
        seg.wait([p for p in problems if p.get("pending")])

    # ------------------------------------------------------------------ records
    def _scan(self, columns: list[str], keys: list[str]) -> dict[str, dict]:
        """The module's records carrying an external id: what exists before we write. By COQL on
        the rows' keys (50 a call) when that costs fewer calls than listing the whole module (200 a
        call; the record count decides) and COQL can select every column; else the listing."""
        ext = self.spec.external_id
        fields = [ext] + [c for c in columns if c not in (ext, "id")]
        fields = fields[: facts.FIELDS_PER_LIST - 1]
        if existing.coql_selectable(self.fields_meta, fields) and existing.by_keys_is_cheaper(
                self.client, self.spec.module, len(keys)):
            return existing.find_by_keys(self.client, self.spec.module, ext, keys, select=fields)
        found: dict[str, dict] = {}
        for rec in self.client.iter_records(self.spec.module, fields):
            value = rec.get(ext)
            if value not in (None, ""):
                found[str(value)] = rec
        return found

    def _load_records(self, seg: JournalSegment, todo: dict[str, dict], entries: dict[str, Entry]) -> None:
        spec = self.spec
        if not spec.external_id:
            raise ValueError(f"{spec.table}: module {spec.module} needs meta external_id for idempotent loading")
        # 1. Bulk jobs started before a crash: re-attach and take their results.
        self._reattach_jobs(seg, todo, entries)
        if not todo:
            return
        # 2. What Zoho holds already: rows of an interrupted call that landed, and records to update.
        self.fields_meta = self.client.fields(spec.module)
        self.known_fields = {f["api_name"] for f in self.fields_meta}
        if spec.external_id not in self.known_fields:
            raise ValueError(f"{spec.module} has no field {spec.external_id} in this Zoho org: run prepare-schema first")
        columns = sorted({c for r in todo.values() for c in r if c in self.known_fields})
        if spec.parent_column:  # an activity's parent may sit in either link: both in the before-image
            columns = sorted(set(columns) | ({activity_links.WHO, activity_links.WHAT} & self.known_fields))
        found = self._scan(columns, list(todo))
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
        items = self._prepare(seg, items)
        self._dispatch(seg, items)

    def _prepare(self, seg: JournalSegment, items: list[Item]) -> list[Item]:
        ready, rejects = [], []
        self._prefetch_links(items)
        for item in items:
            problem = self._resolve_common(item)
            if problem:
                rejects.append(problem)
            else:
                if item.operation == "update":
                    item.payload["id"] = item.zoho_id
                ready.append(item)
        self._refuse(seg, rejects)
        return ready

    def _dispatch(self, seg: JournalSegment, items: list[Item]) -> None:
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
                retry += self._send_bulk(seg, bulk_items[start:start + facts.BULK_MAX_ROWS])
            bulk_items = retry
        record_items = bulk_items + record_items  # what bulk could not place goes by record calls
        self._send_records(seg, record_items)

    def _send_records(self, seg: JournalSegment, items: list[Item]) -> None:
        batches = [items[i:i + facts.RECORDS_PER_CALL] for i in range(0, len(items), facts.RECORDS_PER_CALL)]
        if not batches:
            return
        workers = max(1, min(self.settings.record_concurrency, len(batches)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"load-{self.spec.module}") as pool:
            for fut in [pool.submit(self._scoped, self._record_batch, seg, b) for b in batches]:
                fut.result()

    def _journal_outcomes(self, seg: JournalSegment, batch: list[Item], results: list, attempt: int,
                          operation: str | None) -> list[Item]:
        """Journal what one per-record call did: rows done with their Zoho id, rows Zoho refused
        with its reason. Returns the rows to send again (a transient row code, tries left).
        `operation`: what a done row records; None takes each row's own (insert or update)."""
        done, rejected, retry = [], [], []
        for res in results:
            item = batch[res.index]
            if res.ok:
                done.append({"source_key": item.key, "zoho_id": res.id, "operation": operation or item.operation})
            elif res.code in TRANSIENT_ROW_CODES:
                item.last_code = res.code
                if attempt < self.settings.max_attempts:
                    retry.append(item)
                else:
                    self._left_pending([item], res.code)
            else:
                rejected.append({"source_key": item.key, "code": res.code, "field": res.api_name,
                                 "message": res.message})
        seg.done(done)
        seg.reject(rejected)
        self.cp("after_outcome")
        return retry

    def _left_pending(self, items: list[Item], code: str) -> None:
        """Rows still failing transiently after every try stay as journaled (sent), not rejected:
        a resume with the same run id reconciles them with Zoho and tries them again."""
        log.warning("%s: %d row(s) left pending after %d attempts (%s): %s", self.spec.module, len(items),
                    self.settings.max_attempts, code, ", ".join(i.key for i in items[:20]))

    def _record_batch(self, seg: JournalSegment, batch: list[Item], send=None) -> None:
        """One call's worth of rows by `send` (default: upsert by the external id; notes: update)."""
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
                if refusals.stops_work(exc):
                    raise  # credentials refused, or 429 after every retry: the run stops, rows stay pending
                if exc.transient:  # left pending: a resume reconciles them with Zoho before sending again
                    self._left_pending(batch, exc.code or type(exc).__name__)
                    return
                seg.reject([{"source_key": i.key, "code": exc.code or type(exc).__name__, "field": None,
                             "message": f"call failed after {attempt} attempt(s): {exc}"} for i in batch])
                return
            self.stats["record_calls"] += 1
            self.cp("after_call")
            batch = self._journal_outcomes(seg, batch, results, attempt, operation=None)
            if not batch:
                return

    # ------------------------------------------------------------------ bulk
    def _bulk_columns(self, items: list[Item]) -> list[str]:
        ext = self.spec.external_id
        cols = {c for i in items for c in i.payload if c != "id"}
        return [ext] + sorted(cols - {ext})

    def _send_bulk(self, seg: JournalSegment, items: list[Item]) -> list[Item]:
        """One bulk upsert job (find_by the external id); returns the rows to try again."""
        batch_id = f"b{uuid.uuid4().hex[:12]}"
        seg.intent([i.intent() for i in items], "bulk", batch_id)
        self.cp("after_intent")
        columns = self._bulk_columns(items)
        work = self._work_dir() / batch_id
        files = bulk_steps.write_zips(({c: i.payload.get(c) for c in columns} for i in items), columns, work, batch_id)
        retry: list[Item] = []
        for n, bf in enumerate(files):
            part = items[bf.first_row:bf.first_row + bf.row_count]
            part_id = f"{batch_id}-{n}"
            try:
                file_id = bulk_steps.upload(self.client, bf.path)
                self.cp("after_upload")
                job_id = bulk_steps.create_job(self.client, self.spec.module, file_id, columns, "upsert",
                                               self.spec.external_id, self._bulk_lookups(columns), len(part))
            except ZohoError as exc:
                if not exc.transient:
                    raise
                retry += part
                continue
            seg.record_job(part_id, job_id, file_id, "upsert", len(part), "started")
            seg.sent([i.key for i in part], job_id)
            self.stats["bulk_jobs"] += 1
            self.cp("after_job_created")
            if self.settings.defer_bulk:
                raise BulkJobStarted(self.spec.module, job_id)
            retry += self._finish_job(seg, part_id, job_id, {i.key: i for i in part})
        for f in files:
            f.path.unlink(missing_ok=True)
        return retry

    def _bulk_lookups(self, columns: list[str]) -> dict[str, str]:
        lookups = {c: "id" for c in columns if c in self.spec.lookups}
        if "Owner" in columns:
            lookups["Owner"] = "id"
        return lookups

    def _work_dir(self) -> Path:
        base = self.settings.work_dir or (self.ctx.journal_root / self.ctx.run_id / "bulk")
        base.mkdir(parents=True, exist_ok=True)
        return base

    def _poll(self, job_id: str) -> bulk_steps.JobState:
        deadline = time.monotonic() + self.settings.bulk_timeout
        waits = bulk_steps.poll_waits(self.settings.poll_initial, self.settings.poll_max)
        while True:
            try:
                state = bulk_steps.status(self.client, job_id)
            except ZohoError as exc:
                if not exc.transient or time.monotonic() > deadline:
                    raise
                state = None
            if state is not None and state.status.is_terminal():
                return state
            if time.monotonic() > deadline:
                raise TimeoutError(f"bulk job {job_id} of {self.spec.module} still running after "
                                   f"{self.settings.bulk_timeout:.0f}s; rerun to re-attach")
            time.sleep(next(waits))

    def _finish_job(self, seg: JournalSegment, part_id: str, job_id: str, items: dict[str, Item]) -> list[Item]:
        """Wait for a job, journal each row's outcome; rows the job did not place come back."""
        state = self._poll(job_id)
        self.cp("after_job_done")
        if state.status is not BulkJobStatus.COMPLETED:
            self.stats["failed_jobs"] += 1
            seg.job_status(part_id, state.status.value)
            for i in items.values():
                i.last_code = "JOB_FAILED"
            return list(items.values())
        done, rejected, seen = [], [], set()
        keys = list(items)
        for res in bulk_steps.results(self.client, state, self.spec.external_id):
            key = res.key if res.key is not None else (keys[res.row] if res.row < len(keys) else None)
            item = items.get(key) if key is not None else None
            if item is None:
                continue
            seen.add(key)
            if res.ok:
                done.append({"source_key": key, "zoho_id": res.record_id, "operation": item.operation})
                continue
            code, column = res.errors[0] if res.errors else ("UNPROCESSED", None)
            if bulk_row_transient(res.status, res.errors):  # a new job, then record calls, try it again
                item.last_code = code
                seen.discard(key)
            else:
                rejected.append({"source_key": key, "code": code, "field": column,
                                 "message": f"bulk job {job_id}: " + ":".join(f"{c}-{f or ''}" for c, f in res.errors)})
        seg.done(done)
        seg.reject(rejected)
        seg.job_status(part_id, "applied")
        return [i for k, i in items.items() if k not in seen]

    def _reattach_jobs(self, seg: JournalSegment, todo: dict[str, dict], entries: dict[str, Entry]) -> None:
        for job in seg.jobs():
            if job["status"] != "started" or not job["job_id"]:
                continue
            keys = [k for k, e in entries.items() if e.job_id == job["job_id"] and e.status == "sent" and k in todo]
            if not keys:
                seg.job_status(job["batch_id"], "applied")
                continue
            items = {}
            for k in keys:
                e = entries[k]
                items[k] = Item(k, todo[k], operation=e.operation or "insert", zoho_id=e.zoho_id,
                                before_image=e.before_image)
            log.info("re-attaching to bulk job %s of %s (%d rows)", job["job_id"], self.spec.module, len(keys))
            if self.settings.defer_bulk and not bulk_steps.status(self.client, job["job_id"]).status.is_terminal():
                raise BulkJobStarted(self.spec.module, job["job_id"])
            self._finish_job(seg, job["batch_id"], job["job_id"], items)
            final = {k for k, e in seg.entries().items() if e.status in FINAL}
            for k in keys:
                if k in final:
                    todo.pop(k, None)

    # ------------------------------------------------------------------ notes
    def _recognise_children(self, seg: JournalSegment, inflight: dict[str, Entry], kind: str) -> set[str]:
        """Children (notes/attachments) of an interrupted call that reached Zoho: read the parents'
        notes or attachments and match the title / file name carrying the source id."""
        by_parent: dict[tuple[str, str], list[str]] = {}
        for key, e in inflight.items():
            if e.parent_id and e.operation in (None, "insert"):  # an update or a match inserted nothing
                by_parent.setdefault((e.parent_module or self.spec.parent_module, e.parent_id), []).append(key)
        found: list[dict] = []
        for (parent_module, parent_id), keys in by_parent.items():
            if kind == "note":
                children = self.client.notes(parent_module, parent_id)
                names = {str(c.get("Note_Title")): str(c["id"]) for c in children}
            else:
                children = self.client.attachments(parent_module, parent_id)
                names = {str(c.get("File_Name")): str(c["id"]) for c in children}
            for key in keys:
                name = self._child_name(key, inflight[key])
                if name in names:
                    found.append({"source_key": key, "zoho_id": names[name], "operation": "insert"})
        seg.done(found)
        return {f["source_key"] for f in found}

    def _journal_unchanged(self, seg: JournalSegment, items: list[Item]) -> None:
        """Children already in Zoho as the source has them: done, with nothing sent."""
        if items:
            seg.intent([i.intent() for i in items], "match", f"m{uuid.uuid4().hex[:12]}")
            seg.done([{"source_key": i.key, "zoho_id": i.zoho_id, "operation": children.UNCHANGED} for i in items])

    def _child_name(self, key: str, entry: Entry) -> str:
        if entry.label:
            return entry.label
        row = self._rows_by_key.get(key, {})
        return str(row.get("Note_Title") if self.spec.kind == "note" else row.get(self.spec.file_name_column))

    def _load_notes(self, seg: JournalSegment, todo: dict[str, dict], entries: dict[str, Entry]) -> None:
        self._rows_by_key = todo
        inflight = {k: e for k, e in entries.items() if k in todo and e.status in ("intent", "sent")}
        for key in self._recognise_children(seg, inflight, "note"):
            todo.pop(key)
        items = []
        rejects = []
        self._prefetch_links([Item(key, row) for key, row in todo.items()])
        for key, row in todo.items():
            item = Item(key, row)
            problem = self._resolve_common(item)
            if problem:
                rejects.append(problem)
                continue
            item.payload = {k: v for k, v in item.payload.items() if k in ("Note_Title", "Note_Content") and v is not None}
            item.label = str(row.get("Note_Title"))
            item.payload["Parent_Id"] = {"module": {"api_name": item.parent_module}, "id": item.parent_id}
            items.append(item)
        self._refuse(seg, rejects)
        # Notes of earlier runs (or this run's updates cut short) are matched, never sent twice.
        resend = {k for k, e in inflight.items() if e.operation == "update" and e.zoho_id}
        for item in items:
            if item.key in resend:
                item.zoho_id = inflight[item.key].zoho_id
        prior = children.prior_children(self.ctx.journal_root, self.ctx.run_id, self.spec.module, self.ctx.org_id)
        children.match_notes(self.client, prior, items, resend)
        self._journal_unchanged(seg, [i for i in items if i.operation == children.UNCHANGED])
        jobs = []
        for op, fn in (("insert", self._note_batch), ("update", self._note_update_batch)):
            todo_op = [i for i in items if i.operation == op]
            jobs += [(fn, todo_op[i:i + facts.RECORDS_PER_CALL]) for i in range(0, len(todo_op), facts.RECORDS_PER_CALL)]
        workers = max(1, min(self.settings.record_concurrency, len(jobs) or 1))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="load-notes") as pool:
            for fut in [pool.submit(self._scoped, fn, seg, b) for fn, b in jobs]:
                fut.result()

    def _note_update_batch(self, seg: JournalSegment, batch: list[Item]) -> None:
        """Edited notes: updated in place by id (Zoho's PUT /Notes), safe to send again."""
        self._record_batch(seg, batch, lambda payloads: self.client.update(self.spec.module, payloads))

    def _note_batch(self, seg: JournalSegment, batch: list[Item]) -> None:
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
                    landed = self._recognise_children(
                        seg, {i.key: Entry(i.key, "sent", None, "insert", None, "record", batch_id, None,
                                           i.parent_id, attempt, i.label, i.parent_module) for i in batch}, "note")
                    batch = [i for i in batch if i.key not in landed]
                    if not batch:
                        return
                    continue
                if refusals.stops_work(exc):
                    raise  # credentials refused, or 429 after every retry: the run stops, rows stay pending
                if exc.transient:  # left pending: a resume reconciles them with Zoho before sending again
                    self._left_pending(batch, exc.code or type(exc).__name__)
                    return
                seg.reject([{"source_key": i.key, "code": exc.code or type(exc).__name__, "field": None,
                             "message": f"call failed after {attempt} attempt(s): {exc}"} for i in batch])
                return
            self.stats["record_calls"] += 1
            self.cp("after_call")
            batch = self._journal_outcomes(seg, batch, results, attempt, operation="insert")
            if not batch:
                return

    # ------------------------------------------------------------------ attachments
    def _document(self, row: dict) -> Path:
        """The real path of the row's document inside the export folder; raises DocumentRefused."""
        value = row.get(self.spec.file_column)
        if not value:
            raise documents.DocumentRefused(documents.NOT_FOUND, "no document path")
        return documents.locate(str(value), self.settings.files_root)

    def _load_attachments(self, seg: JournalSegment, todo: dict[str, dict], entries: dict[str, Entry]) -> None:
        self._rows_by_key = todo
        inflight = {k: e for k, e in entries.items() if k in todo and e.status in ("intent", "sent")}
        for key in self._recognise_children(seg, inflight, "attachment"):
            todo.pop(key)
        items, rejects, candidates = [], [], []
        limit = self.settings.attachment_max_bytes
        self._prefetch_links([Item(key, row) for key, row in todo.items()])
        for key, row in todo.items():
            item = Item(key, row, label=str(row.get(self.spec.file_name_column) or key))
            problem = self._resolve_common(item)
            if problem:
                rejects.append(problem)
            else:
                candidates.append(item)
        # Documents an earlier run uploaded are left alone (Zoho cannot update an attachment).
        prior = children.prior_children(self.ctx.journal_root, self.ctx.run_id, self.spec.module, self.ctx.org_id)
        children.match_attachments(self.client, prior, candidates)
        self._journal_unchanged(seg, [i for i in candidates if i.operation == children.UNCHANGED])
        for item in candidates:
            if item.operation == children.UNCHANGED:
                continue
            key, row = item.key, item.row
            try:  # refused paths (outside the export, missing, unreadable) are never opened, never sent
                path = self._document(row)
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
        self._refuse(seg, rejects)
        workers = max(1, min(self.settings.record_concurrency, len(items) or 1))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="load-attachments") as pool:
            for fut in [pool.submit(self._scoped, self._upload_one, seg, i) for i in items]:
                fut.result()

    def _upload_one(self, seg: JournalSegment, item: Item) -> None:
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
                    if self._recognise_children(seg, {item.key: entry}, "attachment"):
                        return
                    continue
                if refusals.stops_work(exc):
                    raise  # credentials refused, or 429 after every retry: the run stops, rows stay pending
                if exc.transient:
                    self._left_pending([item], exc.code or type(exc).__name__)
                    return
                seg.reject([{"source_key": item.key, "code": exc.code or type(exc).__name__, "field": None,
                             "message": f"upload failed after {attempt} attempt(s): {exc}"}])
                return
            self.stats["record_calls"] += 1
            self.cp("after_call")
            if res.ok:
                seg.done([{"source_key": item.key, "zoho_id": res.id, "operation": "insert"}])
            elif res.code in TRANSIENT_ROW_CODES and attempt < self.settings.max_attempts:
                continue
            elif res.code in TRANSIENT_ROW_CODES:
                self._left_pending([item], res.code)
            else:
                seg.reject([{"source_key": item.key, "code": res.code, "field": res.api_name, "message": res.message}])
            self.cp("after_outcome")
            return
