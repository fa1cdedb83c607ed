"""Bulk Write in steps (zip -> upload -> job -> status -> results), so the job id is journaled
before any wait and a resumed load (or a deferred Airflow task) re-attaches to the same job."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from clinic2zoho.zoho.bulk_files import BulkFile, write_bulk_zips
from clinic2zoho.zoho.models import BulkJobStatus, BulkRowResult

POLL_GROWTH = 1.6  # each wait for a job's status this much longer than the one before, up to the cap


@dataclass(frozen=True)
class JobState:
    status: BulkJobStatus
    download_url: str | None
    counts: dict


def write_zips(rows: Iterable[dict], columns: list[str], dest: Path, stem: str) -> list[BulkFile]:
    return list(write_bulk_zips(rows, columns, dest, stem=stem))


def upload(client: Any, zip_path: Path) -> str:
    return str(client.bulk_upload(zip_path))


def create_job(client: Any, module: str, file_id: str, columns: list[str], operation: str,
               find_by: str | None, lookups: dict[str, str], rows: int) -> str:
    return str(client.bulk_create_job(module, file_id, columns, operation=operation, find_by=find_by,
                                      lookups=lookups, record_count=rows))


def poll_waits(initial: float, maximum: float) -> Iterator[float]:
    """The waits between a job's status polls: short at first (the local server finishes in
    seconds), growing to `maximum` (Zoho's jobs take minutes). The estimate reads the same
    schedule to know when a finished job is noticed."""
    wait = initial
    while True:
        yield wait
        wait = min(wait * POLL_GROWTH, maximum)


def noticed_after(job_seconds: float, initial: float, maximum: float) -> tuple[float, int]:
    """When the loader sees a job of `job_seconds` finished, and the status polls it took (the
    first poll comes right after the job is created)."""
    seen, polls = 0.0, 1
    for wait in poll_waits(initial, maximum):
        if seen >= job_seconds:
            return seen, polls
        seen += wait
        polls += 1
    raise AssertionError("unreachable")


def status(client: Any, job_id: str) -> JobState:
    data = client.bulk_status(job_id)
    resources = data.get("resource") or [{}]
    counts = dict((resources[0] or {}).get("file") or {})
    url = (data.get("result") or {}).get("download_url")
    return JobState(BulkJobStatus.parse(str(data.get("status", "ADDED"))), url, counts)


def results(client: Any, state: JobState, key_column: str) -> Iterator[BulkRowResult]:
    """Rows of a finished job's result file (row positions relative to the job's own file)."""
    if not state.download_url:
        return iter(())
    return client.bulk_results(state.download_url, key_column=key_column)
