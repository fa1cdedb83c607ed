"""Zoho's credit arithmetic and the choice between Bulk Write and the record APIs."""

from __future__ import annotations

import math
from dataclasses import dataclass

RECORDS_PER_CALL = 100
RECORDS_PER_CREDIT = 10
BULK_JOB_CREDITS = 500
BULK_MAX_ROWS = 25_000
IDS_PER_DELETE = 100
# Calls around a bulk job besides the job itself: upload, a few status polls, result download.
BULK_OVERHEAD_CREDITS = 6

# Rolling 24-hour credits: base + per user, capped (ZOHO_API.md).
_DAILY = {
    "free": (5_000, 0, 5_000),
    "standard": (50_000, 250, 100_000),
    "starter": (50_000, 250, 100_000),
    "professional": (50_000, 500, 3_000_000),
    "enterprise": (50_000, 1_000, 5_000_000),
    "ultimate": (50_000, 2_000, None),
}
_CONCURRENCY = {"free": 5, "standard": 10, "starter": 10, "professional": 15, "enterprise": 20, "ultimate": 25}
# The migration plan's optional per-minute throttle per edition.
PLAN_PER_MINUTE = {"standard": 500, "starter": 500, "professional": 2_500, "enterprise": 10_000}
MAX_CONCURRENT_WRITES = 10  # Zoho: at most 10 concurrent insert/update/upsert calls of > 10 records


def _edition(edition: str) -> str:
    key = edition.strip().lower()
    if key not in _DAILY:
        raise ValueError(f"unknown Zoho edition {edition!r} (one of {', '.join(sorted(_DAILY))})")
    return key


def daily_credits(edition: str, users: int) -> int:
    base, per_user, cap = _DAILY[_edition(edition)]
    total = base + per_user * max(users, 0)
    return total if cap is None else min(total, cap)


def edition_concurrency(edition: str) -> int:
    return _CONCURRENCY[_edition(edition)]


def write_call_credits(records: int) -> int:
    """One insert/update/upsert call: 1 credit per 10 records, at least 1."""
    return max(1, math.ceil(records / RECORDS_PER_CREDIT))


def record_path_credits(rows: int) -> int:
    full, rest = divmod(rows, RECORDS_PER_CALL)
    return full * write_call_credits(RECORDS_PER_CALL) + (write_call_credits(rest) if rest else 0)


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
