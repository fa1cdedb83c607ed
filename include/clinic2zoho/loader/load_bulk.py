"""The record path's bulk half: rows sent as Bulk Write upsert jobs (find_by the external id), each
job journaled before any wait, its result file journaled row by row, and jobs a crash left
running re-attached. Rows a job could not place come back to the caller for record calls.
The steps of one job (zip, upload, create, status, results) are loader/bulk_steps."""

from __future__ import annotations

import logging
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from clinic2zoho.loader import bulk_steps
from clinic2zoho.loader.item import Item
from clinic2zoho.loader.journal import FINAL, Entry, JournalSegment
from clinic2zoho.loader.row_errors import bulk_row_transient
from clinic2zoho.zoho.errors import ZohoError
from clinic2zoho.zoho.models import BulkJobStatus

if TYPE_CHECKING:
    from clinic2zoho.loader.module_loader import ModuleLoader

log = logging.getLogger(__name__)


class BulkJobStarted(Exception):
    """Raised in defer_bulk mode once a job is journaled and running: the caller (a deferrable
    Airflow task) waits for it elsewhere, then runs the module again, which re-attaches."""

    def __init__(self, module: str, job_id: str):
        self.module, self.job_id = module, job_id
        super().__init__(f"bulk job {job_id} of {module} is running")


class BulkLoad:
    """A record module's rows by Bulk Write jobs."""

    def __init__(self, loader: ModuleLoader):
        self.loader = loader
        self.spec, self.client, self.settings, self.cp = loader.spec, loader.client, loader.settings, loader.cp

    def send(self, seg: JournalSegment, items: list[Item]) -> list[Item]:
        """One bulk upsert job (find_by the external id); returns the rows to try again."""
        batch_id = f"b{uuid.uuid4().hex[:12]}"
        seg.intent([i.intent() for i in items], "bulk", batch_id)
        self.cp("after_intent")
        columns = self.columns(items)
        work = self.work_dir() / batch_id
        files = bulk_steps.write_zips(({c: i.payload.get(c) for c in columns} for i in items), columns, work, batch_id)
        retry: list[Item] = []
        for n, bf in enumerate(files):
            part = items[bf.first_row:bf.first_row + bf.row_count]
            part_id = f"{batch_id}-{n}"
            try:
                file_id = bulk_steps.upload(self.client, bf.path)
                self.cp("after_upload")
                job_id = bulk_steps.create_job(self.client, self.spec.module, file_id, columns, "upsert",
                                               self.spec.external_id, self.lookups(columns), len(part))
            except ZohoError as exc:
                if not exc.transient:
                    raise
                retry += part
                continue
            seg.record_job(part_id, job_id, file_id, "upsert", len(part), "started")
            seg.sent([i.key for i in part], job_id)
            self.loader.stats["bulk_jobs"] += 1
            self.cp("after_job_created")
            if self.settings.defer_bulk:
                raise BulkJobStarted(self.spec.module, job_id)
            retry += self.finish_job(seg, part_id, job_id, {i.key: i for i in part})
        for f in files:
            f.path.unlink(missing_ok=True)
        return retry

    def columns(self, items: list[Item]) -> list[str]:
        ext = self.spec.external_id
        cols = {c for i in items for c in i.payload if c != "id"}
        return [ext] + sorted(cols - {ext})

    def lookups(self, columns: list[str]) -> dict[str, str]:
        lookups = {c: "id" for c in columns if c in self.spec.lookups}
        if "Owner" in columns:
            lookups["Owner"] = "id"
        return lookups

    def work_dir(self) -> Path:
        ctx = self.loader.ctx
        base = self.settings.work_dir or (ctx.journal_root / ctx.run_id / "bulk")
        base.mkdir(parents=True, exist_ok=True)
        return base

    def poll(self, job_id: str) -> bulk_steps.JobState:
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

    def finish_job(self, seg: JournalSegment, part_id: str, job_id: str, items: dict[str, Item]) -> list[Item]:
        """Wait for a job, journal each row's outcome; rows the job did not place come back."""
        state = self.poll(job_id)
        self.cp("after_job_done")
        if state.status is not BulkJobStatus.COMPLETED:
            self.loader.stats["failed_jobs"] += 1
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

    def reattach_jobs(self, seg: JournalSegment, todo: dict[str, dict], entries: dict[str, Entry]) -> None:
        """Bulk jobs started before a crash: wait for each, take its results, drop its final rows from `todo`."""
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
            self.finish_job(seg, job["batch_id"], job["job_id"], items)
            final = {k for k, e in seg.entries().items() if e.status in FINAL}
            for k in keys:
                if k in final:
                    todo.pop(k, None)
