"""The choice between Bulk Write and the record APIs, in credits (Zoho's costs: zoho/facts.py)."""

from __future__ import annotations

from dataclasses import dataclass

from clinic2zoho.zoho.facts import BULK_JOB_CREDITS, BULK_MAX_ROWS, RECORDS_PER_CALL, write_credits

# Calls around a bulk job besides the job itself: upload, a few status polls, result download.
BULK_OVERHEAD_CREDITS = 6


def record_path_credits(rows: int) -> int:
    full, rest = divmod(rows, RECORDS_PER_CALL)
    return full * write_credits(RECORDS_PER_CALL) + (write_credits(rest) if rest else 0)


@dataclass(frozen=True)
class PathChoice:
    """How a module's rows split into bulk jobs and record calls."""

    bulk_chunks: list[int]
    record_rows: int

    def credits(self, overhead: bool = True) -> int:
        per_job = BULK_JOB_CREDITS + (BULK_OVERHEAD_CREDITS if overhead else 0)
        return len(self.bulk_chunks) * per_job + record_path_credits(self.record_rows)


def choose_path(rows: int, bulk_allowed: bool, overhead: bool = True) -> PathChoice:
    """Full 25,000-row chunks go by Bulk Write; the rest goes by bulk only when one job costs less
    than its record calls (the break-even sits near 5,000 rows)."""
    if not bulk_allowed or rows <= 0:
        return PathChoice([], max(rows, 0))
    full, rest = divmod(rows, BULK_MAX_ROWS)
    chunks = [BULK_MAX_ROWS] * full
    job_cost = BULK_JOB_CREDITS + (BULK_OVERHEAD_CREDITS if overhead else 0)
    if rest and record_path_credits(rest) > job_cost:
        chunks.append(rest)
        rest = 0
    return PathChoice(chunks, rest)


def minimum_credits(rows: int, bulk_allowed: bool) -> int:
    """The data writes only: the cheapest split, without polls, uploads or reads."""
    return choose_path(rows, bulk_allowed, overhead=False).credits(overhead=False)


def naive_credits(rows: int) -> int:
    """A loader sending 100 records per call, whatever the module."""
    return record_path_credits(rows)
