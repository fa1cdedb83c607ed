"""Loading one module: ModuleLoader reads the module's rows from the warehouse, hands the rows the
journal has not finished to the path for the module's kind (loader/load_records, with its bulk half
loader/load_bulk; loader/load_notes; loader/load_attachments) and counts the journal's outcome. It
holds what those paths share: payloads in Zoho's shape (lookups, owner, line items, parent, through
the crosswalk), rows refused or left waiting, and a per-record call's outcomes journaled."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clinic2zoho.loader import activity_links
from clinic2zoho.loader.checkpoints import Checkpoint, no_checkpoint
from clinic2zoho.loader.item import Item
from clinic2zoho.loader.journal import FINAL, Entry, JournalSegment, audit_scope
from clinic2zoho.loader.load_attachments import AttachmentLoad
from clinic2zoho.loader.load_bulk import BulkJobStarted
from clinic2zoho.loader.load_notes import NoteLoad
from clinic2zoho.loader.load_records import RecordLoad
from clinic2zoho.loader.plan import ModuleSpec
from clinic2zoho.loader.resolve import Crosswalk, OwnerResolver, ProductResolver
from clinic2zoho.loader.row_errors import TRANSIENT_ROW_CODES
from clinic2zoho.loader.source import TableSource, parse_subform
from clinic2zoho.zoho import facts, refusals
from clinic2zoho.zoho.errors import ZohoError

__all__ = ["BulkJobStarted", "Item", "LoadContext", "LoadSettings", "ModuleLoader", "PARENT_PENDING"]

log = logging.getLogger(__name__)

PARENT_PENDING = "PARENT_PENDING"  # journal reason of a row waiting for a pending record it points to

# The path per kind of module (ModuleSpec.kind); any other kind loads as attachments.
PATHS = {"record": RecordLoad, "note": NoteLoad, "attachment": AttachmentLoad}


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


class ModuleLoader:
    """One module of one run: the rows to load, the path that loads them, what the paths share."""

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

    def scoped(self, fn, *args):
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
                PATHS.get(self.spec.kind, AttachmentLoad)(self).load(seg, todo, entries)
            counts = dict(seg.sql("SELECT status, count(*) FROM load_journal WHERE run_id = ? AND module = ?"
                                  " GROUP BY status", [self.ctx.run_id, self.spec.module]))
        finally:
            seg.close()
        return {"module": self.spec.module, "source_rows": len(rows), **{s: counts.get(s, 0) for s in
                ("done", "rejected", "skipped", "intent", "sent")}, **self.stats}

    # ------------------------------------------------------------------ source
    def _read_rows(self, seg: JournalSegment, entries: dict[str, Entry]) -> dict[str, dict]:
        rows: dict[str, dict] = {}
        bad: list[dict] = []
        for position, row in enumerate(self.ctx.source.rows(self.spec), start=1):
            key = self.spec.row_key(row)
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

    # ------------------------------------------------------------------ shared by the paths
    def resolve_payload(self, item: Item) -> dict | None:
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
                    return self.unresolved(item, col, spec.lookups[col], str(value), "LOOKUP_UNRESOLVED")
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
                return self.unresolved(item, spec.parent_column, pmod, str(parent_key), "PARENT_UNRESOLVED")
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

    def prefetch_links(self, items: list[Item]) -> None:
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

    def unresolved(self, item: Item, col: str | None, module: str, key: str, code: str) -> dict:
        """A row pointing to a record Zoho does not hold: a reject, unless that record is pending
        after a transient failure; then the row waits for it (pending: a resume sends it)."""
        if self.ctx.crosswalk.pending(module, key):
            return {"source_key": item.key, "code": PARENT_PENDING, "field": col, "pending": True,
                    "message": f"{module} record {key} is pending after a transient failure: sent once it loads"}
        return {"source_key": item.key, "code": code, "field": col, "message": f"{module} record {key} was not loaded"}

    def refuse(self, seg: JournalSegment, problems: list[dict]) -> None:
        """Rows that cannot be sent: rejected with their reason, or left waiting (pending)."""
        seg.reject([p for p in problems if not p.get("pending")])
        seg.wait([p for p in problems if p.get("pending")])

    def journal_outcomes(self, seg: JournalSegment, batch: list[Item], results: list, attempt: int,
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
                    self.left_pending([item], res.code)
            else:
                rejected.append({"source_key": item.key, "code": res.code, "field": res.api_name,
                                 "message": res.message})
        seg.done(done)
        seg.reject(rejected)
        self.cp("after_outcome")
        return retry

    def settle_failed_call(self, seg: JournalSegment, items: list[Item], exc: ZohoError, attempt: int,
                           what: str = "call") -> None:
        """A call that failed for good: credentials refused or 429 after every retry stop the run
        (rows stay pending); a transient failure leaves the rows pending (a resume reconciles them
        with Zoho before sending again); any other rejects them with Zoho's error."""
        if refusals.stops_work(exc):
            raise exc
        code = exc.code or type(exc).__name__
        if exc.transient:
            self.left_pending(items, code)
            return
        seg.reject([{"source_key": i.key, "code": code, "field": None,
                     "message": f"{what} failed after {attempt} attempt(s): {exc}"} for i in items])

    def left_pending(self, items: list[Item], code: str) -> None:
        """Rows still failing transiently after every try stay as journaled (sent), not rejected:
        a resume with the same run id reconciles them with Zoho and tries them again."""
        log.warning("%s: %d row(s) left pending after %d attempts (%s): %s", self.spec.module, len(items),
                    self.settings.max_attempts, code, ", ".join(i.key for i in items[:20]))
