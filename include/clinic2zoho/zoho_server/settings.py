"""Server settings: edition limits (Zoho's published credit and concurrency tables) and the
switches tests turn through `POST /__admin/settings`."""

from __future__ import annotations

import copy
from typing import Any

from .scopes import DEFAULT_GRANT

# Rolling 24-hour credits: (base, per licensed user, ceiling). Free is a flat budget.
EDITION_CREDITS: dict[str, tuple[int, int, int | None]] = {
    "Free": (5_000, 0, 5_000),
    "Standard": (50_000, 250, 100_000),
    "Starter": (50_000, 250, 100_000),  # the migration plan's name for Standard
    "Professional": (50_000, 500, 3_000_000),
    "Enterprise": (50_000, 1_000, 5_000_000),
    "Ultimate": (50_000, 2_000, None),
}
# Concurrent API calls per org (secondary sources; settable).
EDITION_CONCURRENCY: dict[str, int] = {
    "Free": 5, "Standard": 10, "Starter": 10, "Professional": 15, "Enterprise": 20, "Ultimate": 25,
}
# Custom fields per module.
EDITION_CUSTOM_FIELDS: dict[str, int] = {
    "Free": 5, "Standard": 10, "Starter": 10, "Professional": 155, "Enterprise": 300, "Ultimate": 500,
}
# The migration plan's per-minute figures, used only when a clinic turns the throttle on.
PLAN_PER_MINUTE: dict[str, int] = {"Standard": 500, "Starter": 500, "Professional": 2_500, "Enterprise": 10_000}

DEFAULTS: dict[str, Any] = {
    "edition": "Enterprise",
    "user_count": None,  # None: the number of active users
    "daily_credits": None,  # None: from edition and user count
    "per_minute_credits": None,  # None: no per-minute throttle
    "concurrency": None,  # None: from edition
    "heavy_write_concurrency": 10,  # concurrent writes of more than 10 records
    "token_lifetime": 3600,
    "attachment_max_bytes": 20 * 1024 * 1024,
    "bulk_max_bytes": 25 * 1024 * 1024,
    "bulk_max_rows": 25_000,
    "bulk_max_columns": 200,
    "bulk_start_delay": 0.2,  # seconds a job stays ADDED
    "bulk_chunk_rows": 2_000,  # rows processed (and committed) per step
    # X-API-CREDITS-REMAINING appears once this share of the day's credits is used: 50% per ZOHO_API.md
    # and a summary of the v8 API-limits page (docs/zoho_behaviours.md); secondary sources: a setting
    "credits_header_threshold": 0.5,
    # Leads/Contacts Email, Accounts Account_Name refused as duplicates on insert even when the org has
    # not marked them unique. Unsettled (ZOHO_API.md "Insert"): the stricter behaviour by default.
    "insert_checks_default_duplicates": True,
    # Credits of one "create custom module" call: 500 per a summary of Zoho's v8 API-limits page
    # (api-evangelist/zoho-crm rate-limits, "Bulk Write Initialize and Create Custom Module cost 500
    # credits each"); no primary source read here: unverified, the costlier reading by default
    "custom_module_credits": 500,
    # The scopes the configured refresh token was granted (zoho_server/scopes.py); tests narrow it.
    "granted_scopes": list(DEFAULT_GRANT),
    "restricted_picklists": False,  # True: a value not in the list is INVALID_DATA
    "note_content_max": 32_000,
    # users.py: an invited user (confirm false) owning a record is *unverified*: refused by default
    "unconfirmed_users_own_records": False,
    # Layouts (layouts.py): Zoho's standard layouts' required fields are enforced on insert; False
    # keeps only the fields' system_mandatory. `layout_required` adds fields per module
    # ({"Contacts": ["Email"]}), as an admin would mark them required in the layout editor.
    "layout_mandatory": True,
    "layout_required": {},
    # Creating a module: Zoho's v8 "Create Custom Module" page has `profiles` mandatory (the
    # project's schema step sends every profile); False takes the Administrator profile.
    "module_profiles_required": True,
    # COQL (coql.py): *unverified* points, stricter by default.
    "coql_where_required": True,
    "coql_case_sensitive": True,
    "recycle_bin_days": 60,  # deleted.py: recycle -> permanent
    "org_type": "production",
    "company_name": "Local Clinic",
    "faults": {
        "error_5xx_rate": 0.0,  # answered 500 before the call does anything
        "error_5xx_after_write_rate": 0.0,  # the write lands, then 500
        "latency_ms": 0,
        "drop_rate": 0.0,  # the call is handled, then the connection drops mid-answer
        "expire_token_rate": 0.0,  # a valid token is revoked: 401 INVALID_TOKEN
        "bulk_fail_rate": 0.0,  # a bulk job ends FAILED
        "row_fail_rate": 0.0,  # a written record / bulk row fails with INTERNAL_ERROR
        "seed": None,
    },
}


def merge(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Merge `changes` into a copy of `current`; unknown keys are refused so typos do not pass."""
    merged = copy.deepcopy(current)
    for key, value in changes.items():
        if key not in DEFAULTS:
            raise KeyError(f"unknown setting {key!r}")
        if key == "faults":
            if not isinstance(value, dict):
                raise ValueError("faults must be an object")
            for fkey, fvalue in value.items():
                if fkey not in DEFAULTS["faults"]:
                    raise KeyError(f"unknown fault setting {fkey!r}")
                merged["faults"][fkey] = fvalue
        else:
            merged[key] = value
    grant = merged["granted_scopes"]
    if not isinstance(grant, list) or not all(isinstance(g, str) for g in grant):
        raise ValueError("granted_scopes must be a list of scope names")
    if merged["edition"] not in EDITION_CREDITS:
        raise ValueError(f"unknown edition {merged['edition']!r}; one of {sorted(EDITION_CREDITS)}")
    return merged


def daily_limit(settings: dict[str, Any], active_users: int) -> int:
    if settings.get("daily_credits") is not None:
        return int(settings["daily_credits"])
    base, per_user, ceiling = EDITION_CREDITS[settings["edition"]]
    users = settings.get("user_count") or active_users
    total = base + per_user * int(users)
    return min(total, ceiling) if ceiling is not None else total


def concurrency_limit(settings: dict[str, Any]) -> int:
    if settings.get("concurrency") is not None:
        return int(settings["concurrency"])
    return EDITION_CONCURRENCY[settings["edition"]]


def org_type(settings: dict[str, Any]) -> str:
    """`org[0].type` in org.json's spelling (Production, Sandbox, Developer, Bigin), whatever case the
    setting was given in."""
    given = str(settings["org_type"])
    return next((t for t in ("Production", "Sandbox", "Developer", "Bigin") if t.lower() == given.lower()), given)
