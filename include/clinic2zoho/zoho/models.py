"""Plain result types handed back by the client. They carry Zoho ids and codes, never the
record values sent."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

# A bulk result file's rows are read (and typed) by bulk_files; this module only imports it.
from clinic2zoho.zoho.bulk_files import BulkRowResult, read_result_zip


@dataclass(frozen=True)
class CallEvent:
    """One remote call, as the audit log sees it (`on_call` callback). No record data."""

    method: str
    path: str  # path template, ids only, no query string
    module: str | None
    record_count: int
    credits: int  # credits this call spent by Zoho's cost model (0 when refused: 401/429/5xx/network)
    status: int | None  # HTTP status; None when no answer came (timeout, dropped connection)
    duration: float  # seconds
    outcome: str  # "ok", "partial" (some records failed), "error", "transient", "rate_limited", "auth"
    attempt: int = 1
    code: str | None = None  # Zoho's error code when the call failed as a whole
    credits_remaining: int | None = None


@dataclass(frozen=True)
class RecordResult:
    """The outcome of one record of a write call; `index` is its position in the caller's input."""

    index: int
    ok: bool
    code: str
    id: str | None = None
    action: str | None = None  # insert / update / delete
    api_name: str | None = None  # the field an error is about
    message: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_zoho(cls, index: int, item: dict[str, Any]) -> RecordResult:
        details = item.get("details") or {}
        code = item.get("code") or ("SUCCESS" if item.get("status") == "success" else "UNKNOWN")
        return cls(
            index=index,
            ok=item.get("status") == "success" or code == "SUCCESS",
            code=code,
            id=str(details["id"]) if details.get("id") is not None else None,
            action=item.get("action"),
            api_name=details.get("api_name"),
            message=item.get("message"),
            details=details,
        )


class BulkJobStatus(str, Enum):
    ADDED = "ADDED"
    IN_PROGRESS = "IN PROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"

    @classmethod
    def parse(cls, value: str) -> BulkJobStatus:
        return cls(value.strip().upper().replace("_", " "))

    def is_terminal(self) -> bool:
        return self in (BulkJobStatus.COMPLETED, BulkJobStatus.FAILED, BulkJobStatus.SKIPPED)


@dataclass
class BulkJobPart:
    """One Zoho job of a bulk write (a write over 25,000 rows runs as several jobs)."""

    job_id: str
    first_row: int
    row_count: int
    status: BulkJobStatus
    counts: dict[str, int] = field(default_factory=dict)  # added/updated/skipped/total from Zoho
    result_file: Path | None = None  # the downloaded result zip


@dataclass
class BulkJobResult:
    """A finished bulk write. Per-row results are read lazily from the downloaded result files
    (`rows()`), so a large job is never held in memory. `cleanup()` removes the work folder."""

    module: str
    operation: str
    parts: list[BulkJobPart]
    key_column: str | None = None
    work_dir: Path | None = None

    @property
    def job_ids(self) -> list[str]:
        return [p.job_id for p in self.parts]

    @property
    def status(self) -> BulkJobStatus:
        statuses = {p.status for p in self.parts}
        for worst in (BulkJobStatus.FAILED, BulkJobStatus.SKIPPED):
            if worst in statuses:
                return worst
        return BulkJobStatus.COMPLETED

    @property
    def ok(self) -> bool:
        return self.status is BulkJobStatus.COMPLETED

    @property
    def total_rows(self) -> int:
        return sum(p.row_count for p in self.parts)

    def count(self, name: str) -> int:
        """Zoho's own count: added_count, updated_count, skipped_count or total_count."""
        return sum(p.counts.get(name, 0) for p in self.parts)

    def rows(self) -> Iterator[BulkRowResult]:
        """Every input row's outcome, in input order. Rows of a job that ended FAILED (or whose
        result file Zoho did not give) come back as `unprocessed` with error JOB_FAILED, so no row
        goes unaccounted."""
        for part in self.parts:
            seen = 0
            if part.result_file is not None:
                for result in read_result_zip(part.result_file, first_row=part.first_row, key_column=self.key_column):
                    seen += 1
                    yield result
            for row in range(part.first_row + seen, part.first_row + part.row_count):
                code = "JOB_FAILED" if part.status is BulkJobStatus.FAILED else "NO_RESULT"
                yield BulkRowResult(row=row, status="unprocessed", record_id=None, errors=((code, None),))

    def failed_rows(self) -> Iterator[BulkRowResult]:
        return (r for r in self.rows() if not r.ok)

    def cleanup(self) -> None:
        if self.work_dir is not None:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    def __enter__(self) -> BulkJobResult:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()
