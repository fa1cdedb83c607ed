"""Zoho CRM's published limits and costs, each written once: the client, the loader, the estimator,
doctor, the quality report, the generator and the operators read them here; dbt's vars restate the
ones dbt needs and tests/zoho/test_facts.py holds them equal. The local server keeps its own copy
on purpose (zoho_server/settings.py, limits.py, params.py, record_reads.py, record_writes.py), an
independent check the same test compares against this module.

Sources: ZOHO_API.md (a summary of Zoho's v8 pages and OAS files in zoho-oas/v8.0), Zoho's pages
named beside each fact. A fact no source settles is marked *unverified* and takes the stricter
reading."""

from __future__ import annotations

import math
from dataclasses import dataclass

# ---- editions: daily credits and concurrency ------------------------------------------------------


@dataclass(frozen=True)
class Edition:
    """Rolling 24-hour credits = base + per_user * users, capped at max_credits (None: no cap);
    concurrent calls per org. Zoho's API-limits page (credits); concurrency from secondary sources."""

    base_credits: int
    credits_per_user: int
    max_credits: int | None
    concurrency: int


EDITIONS: dict[str, Edition] = {
    "Free": Edition(5_000, 0, 5_000, 5),  # a flat budget
    "Standard": Edition(50_000, 250, 100_000, 10),
    "Professional": Edition(50_000, 500, 3_000_000, 15),
    "Enterprise": Edition(50_000, 1_000, 5_000_000, 20),
    "Ultimate": Edition(50_000, 2_000, None, 25),
}
# The migration plan says "Starter" for what Zoho's pricing calls Standard.
EDITION_ALIASES = {"starter": "Standard", "standard": "Standard", "free": "Free", "professional": "Professional",
                   "enterprise": "Enterprise", "ultimate": "Ultimate"}
# The migration plan's per-minute credits per edition: not a Zoho limit, a throttle a clinic may turn on
# (ZohoConfig.per_minute_credits); the benchmarks pace themselves by it
PLAN_PER_MINUTE = {"Standard": 500, "Professional": 2_500, "Enterprise": 10_000}
# Custom fields per module (ZOHO_API.md "More exact behaviours"; LIMIT_EXCEEDED beyond). Free is not
# published: *unverified*, the stricter 5.
CUSTOM_FIELDS = {"Free": 5, "Standard": 10, "Professional": 155, "Enterprise": 300, "Ultimate": 500}


def canonical_edition(name: str) -> str:
    """The edition's name as EDITIONS spells it, whatever its case (Starter is Standard)."""
    try:
        return EDITION_ALIASES[name.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown Zoho edition {name!r}; expected one of {sorted(EDITIONS)} (or Starter)") from None


def daily_credit_limit(edition: str, user_count: int) -> int:
    plan = EDITIONS[canonical_edition(edition)]
    total = plan.base_credits + plan.credits_per_user * max(0, user_count)
    return total if plan.max_credits is None else min(total, plan.max_credits)


def edition_concurrency(edition: str) -> int:
    return EDITIONS[canonical_edition(edition)].concurrency


# ---- credits per call and per job -------------------------------------------------------------------
RECORDS_PER_WRITE_CREDIT = 10  # insert/update/upsert: 1 credit per 10 records, at least 1
BULK_JOB_CREDITS = 500  # one Bulk Write job (Zoho's API-limits page)
# "Create custom module": 500 per a summary of the v8 API-limits page (docs/zoho_behaviours.md);
# *unverified*, the costlier reading
CUSTOM_MODULE_CREDITS = 500
# COQL credits by LIMIT (v8 COQL pages): 1 up to 200, 2 up to 1,000, 3 up to 2,000
COQL_CREDIT_STEPS = ((200, 1), (1_000, 2), (2_000, 3))


def write_credits(record_count: int) -> int:
    """Credits of one insert/update/upsert call: 1 per 10 records, at least 1."""
    return max(1, math.ceil(record_count / RECORDS_PER_WRITE_CREDIT))


def coql_credits(limit: int) -> int:
    return next((credits for most, credits in COQL_CREDIT_STEPS if limit <= most), COQL_CREDIT_STEPS[-1][1])


# ---- records per call ----------------------------------------------------------------------------------
RECORDS_PER_CALL = 100  # insert/update/upsert, notes (record.json, notes.json)
IDS_PER_DELETE = 100  # ids in one DELETE (record.json)
SEARCH_CRITERIA = 10  # conditions in one search's criteria
PER_PAGE = 200  # records a list or search page holds at most
SEARCH_REACH = 2_000  # records a search or a list reaches by `page`; past it, page_token (lists only)
FIELDS_PER_LIST = 50  # field names one list call (GET /{module}?fields=) takes
COQL_SELECT_FIELDS = 50  # columns in one COQL select
COQL_PAGE = 2_000  # COQL LIMIT per call
COQL_REACH = 100_000  # records a COQL query reaches by offset (COQL-Limitations page)
# Values in one COQL `in`: the COQL limitations page says 50, the newest v7 page 100, v8 does not
# settle it: *unverified*, the stricter 50
COQL_IN_VALUES = 50
# At most this many concurrent insert/update/upsert calls carrying more than HEAVY_WRITE_RECORDS
MAX_CONCURRENT_BIG_WRITES = 10
HEAVY_WRITE_RECORDS = 10

# ---- Bulk Write ----------------------------------------------------------------------------------------
# One CSV per zip, at most 25,000 rows, 200 columns, 25 MB (bulk-write/limitations.html; MB read as MiB)
BULK_MAX_ROWS = 25_000
BULK_MAX_COLUMNS = 200
BULK_MAX_BYTES = 25 * 1024 * 1024
# Modules Bulk Write refuses (ZOHO_API.md "Bulk Write": not Notes, Events or Calls, and not
# attachments): they go through the record APIs
BULK_REFUSED = frozenset({"Notes", "Events", "Calls", "Attachments"})

# ---- field lengths -------------------------------------------------------------------------------------
# Characters a field of each type holds at most (an integer: digits); a longer value is refused with
# INVALID_DATA and maximum_length (ZOHO_API.md "Length limits": single line 255, multi-line 2,000 or
# 32,000, a textarea's most, phone 30, email 100, integer 9 digits); website is a single line. A pick-list
# value's length no source settles: *unverified*, the stricter 120 the local server allows a pick list.
FIELD_LENGTHS = {"text": 255, "textarea": 32_000, "email": 100, "phone": 30, "website": 255,
                 "integer": 9, "picklist": 120}

# ---- notes and attachments -----------------------------------------------------------------------------
# The record Attachments API's file size: sources disagree. Zoho's v1 uploadFile page and the v2 "Upload
# Files to ZFS" page say 20 MB (www.zoho.com/crm/help/api/uploadfile.html,
# www.zoho.com/crm/developer/docs/api/upload-files-to-zfs.html); the v2 "Upload an Attachment" page says
# 100 MB (.../docs/api/v2/upload-attachment.html); the v5+ page names none. *unverified*: the stricter
# 20 MB, read as MiB as the local server enforces it. A larger file is attached as a link, never dropped.
ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
# A note's content holds at most what a textarea field does (the note limit itself is not documented
# for v8: *unverified*, the textarea length)
NOTE_CONTENT_MAX_CHARS = FIELD_LENGTHS["textarea"]
