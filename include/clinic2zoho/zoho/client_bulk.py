"""Bulk Write: in steps (upload a zipped CSV, create a job, poll it, download its result), for a
deferrable operator, and end to end (rows -> zips -> jobs -> per-row outcomes)."""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from clinic2zoho.zoho.bulk_files import read_result_zip, write_bulk_zips
from clinic2zoho.zoho.client_base import API, BULK_API, ClientBase
from clinic2zoho.zoho.errors import ZohoBulkJobTimeout, ZohoTerminalError
from clinic2zoho.zoho.facts import BULK_JOB_CREDITS, BULK_REFUSED
from clinic2zoho.zoho.models import BulkJobPart, BulkJobResult, BulkJobStatus, BulkRowResult
from clinic2zoho.zoho.transport import Call

log = logging.getLogger(__name__)


class BulkCalls(ClientBase):
    """Reads the org's zgid (OrgCalls.org_id) for each upload."""

    # -- bulk write, in steps -----------------------------------------------------------------
    def bulk_upload(self, zip_path: Path | str) -> str:
        """Upload a zipped CSV to the upload host; return Zoho's file_id. Resending an upload
        only leaves an unused file behind, so uploads retry freely."""
        zip_path = Path(zip_path)
        org_id = self.org_id()

        def files() -> dict[str, Any]:
            return {"file": (zip_path.name, zip_path.open("rb"), "application/zip")}

        body = self._json(Call("POST", f"{API}/upload", f"{API}/upload", host="upload",
                               headers={"feature": "bulk-write", "X-CRM-ORG": org_id}, files=files))
        if not isinstance(body, dict):
            raise ZohoTerminalError("upload answer is empty", method="POST", path=f"{API}/upload")
        if body.get("status") == "error" or body.get("code") not in (None, "FILE_UPLOAD_SUCCESS", "SUCCESS"):
            raise ZohoTerminalError(str(body.get("message") or "upload refused")[:200], method="POST",
                                    path=f"{API}/upload", code=body.get("code"))
        file_id = (body.get("details") or {}).get("file_id")
        if not file_id:
            raise ZohoTerminalError("upload answer holds no file_id", method="POST", path=f"{API}/upload")
        return str(file_id)

    def bulk_create_job(
        self,
        module: str,
        file_id: str,
        columns: Sequence[str],
        operation: str = "insert",
        find_by: str | None = None,
        lookups: Mapping[str, str] | None = None,
        *,
        ignore_empty: bool = True,
        callback_url: str | None = None,
        record_count: int = 0,
    ) -> str:
        """Start a Bulk Write job over an uploaded file; return the job id (500 credits).
        An insert job whose creation went unanswered is not created again (it may be running):
        ZohoTransientError(outcome_unknown=True) is raised. Update/upsert jobs retry freely."""
        self._check_bulk_args(module, columns, operation, find_by, lookups)
        lookups = dict(lookups or {})
        mappings = []
        for index, column in enumerate(columns):
            mapping: dict[str, Any] = {"api_name": column, "index": index}
            if column in lookups:
                mapping["find_by"] = lookups[column]
            mappings.append(mapping)
        resource: dict[str, Any] = {"type": "data", "module": {"api_name": module}, "file_id": str(file_id),
                                    "field_mappings": mappings}
        if find_by:
            resource["find_by"] = find_by
        body: dict[str, Any] = {"operation": operation, "ignore_empty": ignore_empty, "resource": [resource]}
        if callback_url:
            body["callback"] = {"url": callback_url, "method": "post"}
        path = f"{BULK_API}/write"
        answer = self._json(Call("POST", path, path, module=module, record_count=record_count,
                                 credits=BULK_JOB_CREDITS, json=body, idempotent=operation != "insert"))
        if not isinstance(answer, dict) or answer.get("status") == "error":
            raise ZohoTerminalError(str((answer or {}).get("message") or "job refused")[:200], method="POST",
                                    path=path, code=(answer or {}).get("code"))
        job_id = (answer.get("details") or {}).get("id")
        if not job_id:
            raise ZohoTerminalError("job answer holds no id", method="POST", path=path)
        return str(job_id)

    def bulk_status(self, job_id: str) -> dict[str, Any]:
        """The job as Zoho describes it: `status`, `resource[].file` counts, `result.download_url`."""
        body = self._json(Call("GET", f"{BULK_API}/write/{job_id}", f"{BULK_API}/write/{{job_id}}"))
        if not isinstance(body, dict):
            raise ZohoTerminalError("job status answer is empty", method="GET", path=f"{BULK_API}/write/{{job_id}}")
        # Zoho answers with the job object; tolerate a {"data": [job]} wrapper.
        if "status" not in body and isinstance(body.get("data"), list) and body["data"]:
            body = body["data"][0]
        return body

    def bulk_wait(self, job_id: str, timeout: float | None = None) -> dict[str, Any]:
        """Poll a job with growing pauses until it is COMPLETED, FAILED or SKIPPED."""
        deadline = time.monotonic() + (self.config.bulk_timeout if timeout is None else timeout)
        pause = self.config.poll_initial
        while True:
            job = self.bulk_status(job_id)
            if BulkJobStatus.parse(str(job.get("status", ""))).is_terminal():
                return job
            if time.monotonic() + pause > deadline:
                raise ZohoBulkJobTimeout(f"bulk job still {job.get('status')} at the deadline", job_id=job_id,
                                         method="GET", path=f"{BULK_API}/write/{{job_id}}")
            self._sleep(pause)
            pause = min(self.config.poll_max, pause * 1.5)

    def bulk_download(self, download_url: str, dest: Path | str) -> Path:
        """Stream a job's result zip to `dest`."""
        dest = Path(dest)
        url = download_url if download_url.startswith(("http://", "https://")) else self.config.api_base + (
            download_url if download_url.startswith("/") else "/" + download_url)
        self._transport.send(Call("GET", url, "{download_url}", host="url", stream_to=dest))
        return dest

    def bulk_results(
        self, download_url: str, key_column: str | None = None, first_row: int = 0
    ) -> Iterator[BulkRowResult]:
        """A job's per-row outcomes (status, record id, errors; `key` = the `key_column` value),
        in file order. The zip is streamed to a temporary file, read row by row, then removed;
        the record values in the file are not handed out."""
        with tempfile.TemporaryDirectory(prefix="zoho-bulk-result-") as tmp:
            path = self.bulk_download(download_url, Path(tmp) / "result.zip")
            yield from read_result_zip(path, first_row=first_row, key_column=key_column)

    # -- bulk write, end to end ---------------------------------------------------------------
    def bulk_write(
        self,
        module: str,
        rows: Iterable[Mapping[str, Any]],
        columns: list[str],
        operation: str = "insert",
        find_by: str | None = None,
        lookups: Mapping[str, str] | None = None,
        *,
        key_column: str | None = None,
        work_dir: Path | str | None = None,
        ignore_empty: bool = True,
    ) -> BulkJobResult:
        """Rows -> zipped CSV (streamed, split at 25,000 rows / 25 MB) -> upload -> job -> poll ->
        result zips downloaded. A FAILED job is returned as such (its rows `unprocessed`), not
        raised. Read per-row outcomes with `result.rows()`; call `result.cleanup()` when done."""
        self._check_bulk_args(module, columns, operation, find_by, lookups)
        if key_column is None and find_by in columns:
            key_column = find_by
        if work_dir is not None:
            Path(work_dir).mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="zoho-bulk-", dir=work_dir))
        result = BulkJobResult(module=module, operation=operation, parts=[], key_column=key_column, work_dir=work)
        try:
            for bulk_file in write_bulk_zips(rows, list(columns), work, stem=f"{module}-{operation}"):
                file_id = self.bulk_upload(bulk_file.path)
                job_id = self.bulk_create_job(module, file_id, columns, operation, find_by, lookups,
                                              ignore_empty=ignore_empty, record_count=bulk_file.row_count)
                bulk_file.path.unlink()
                job = self.bulk_wait(job_id)
                result.parts.append(self._finish_part(job, job_id, bulk_file.first_row, bulk_file.row_count, work))
        except BaseException:
            result.cleanup()
            raise
        return result

    def _finish_part(self, job: dict[str, Any], job_id: str, first_row: int, row_count: int, work: Path) -> BulkJobPart:
        status = BulkJobStatus.parse(str(job.get("status")))
        counts: dict[str, int] = {}
        for resource in job.get("resource") or []:
            for name, value in ((resource or {}).get("file") or {}).items():
                if name.endswith("_count") and isinstance(value, int):
                    counts[name] = counts.get(name, 0) + value
        part = BulkJobPart(job_id=job_id, first_row=first_row, row_count=row_count, status=status, counts=counts)
        url = (job.get("result") or {}).get("download_url")
        if url and status is BulkJobStatus.COMPLETED:
            part.result_file = self.bulk_download(url, work / f"result-{job_id}.zip")
        if status is not BulkJobStatus.COMPLETED:
            log.warning("zoho bulk job %s ended %s (%d rows)", job_id, status.value, row_count)
        return part

    @staticmethod
    def _check_bulk_args(
        module: str, columns: Sequence[str], operation: str, find_by: str | None, lookups: Mapping[str, str] | None
    ) -> None:
        if module in BULK_REFUSED:
            raise ValueError(f"Zoho's Bulk Write does not take {module}; use the record APIs (insert/add_notes)")
        if operation not in ("insert", "update", "upsert"):
            raise ValueError(f"bulk operation must be insert, update or upsert, got {operation!r}")
        if operation != "insert" and not find_by:
            raise ValueError(f"a bulk {operation} needs find_by (id, or a unique / external field)")
        unknown = set(lookups or {}) - set(columns)
        if unknown:
            raise ValueError(f"lookups name columns that are not written: {sorted(unknown)}")
