"""Which failures of a row may pass on another try (transient) and which are the row's own fault
(terminal: a reject with Zoho's reason).

Bulk Write result files name a row's errors with the codes Zoho documents for them ("Download
Bulk Write Result"): MANDATORY_NOT_FOUND, INVALID_DATA, DUPLICATE_DATA, NOT_APPROVED,
BLOCKED_RECORD, LIMIT_EXCEEDED and RESOURCE_NOT_FOUND say what is wrong with the row; CANNOT_PROCESS
names nothing wrong with it (Zoho could not process it: its server-side failure, the bulk
counterpart of a record call's INTERNAL_ERROR). A row a job left `unprocessed` was never tried.
A job that ends FAILED or SKIPPED placed none of its rows: they go to a new job, then to record
calls, whose per-row answers name any real fault. A row still failing transiently after its tries
stays pending (never rejected), so a resume with the same run id tries it again. A code not
listed here is terminal: an unknown answer is a reject with its code, never a row retried forever."""

from __future__ import annotations

# Per-row codes of record calls and bulk results that may pass on another try.
TRANSIENT_ROW_CODES = frozenset({"INTERNAL_ERROR", "TOO_MANY_REQUESTS", "JOB_FAILED", "NO_RESULT",
                                 "REQUEST_TIMEOUT", "UNKNOWN", "TRANSIENT_ERROR", "SERVICE_UNAVAILABLE",
                                 "CANNOT_PROCESS"})


def transient(code: str | None) -> bool:
    return code in TRANSIENT_ROW_CODES


def bulk_row_transient(status: str, errors: tuple[tuple[str, str | None], ...]) -> bool:
    """A bulk result row that a new job or a record call may still place: never processed, or
    every error it names transient."""
    if not errors:
        return status == "unprocessed"
    return all(transient(code) for code, _ in errors)
