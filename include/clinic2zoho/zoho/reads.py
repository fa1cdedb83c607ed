"""Reads a migration makes besides list/get/search, as functions over a ZohoClient: COQL with paging,
record counts, deleted records (records by external id: zoho.existing, over `coql`).

Zoho's sources: OAS coql.json and the v8 COQL pages (LIMIT up to 2,000 a call; `LIMIT offset,
count`; 100,000 records reachable; `in` up to 50 values; credits 1 / 2 / 3 for LIMIT up to 200 /
1,000 / 2,000; a quote inside a value doubled; 204 when nothing matches), record_count.json
(`{"count": n}`), record.json `/{module}/deleted` (`{"data": [{id, display_name, type, deleted_by,
created_by, deleted_time}], "info": {...}}`), profiles.json (`{"profiles": [...]}`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from clinic2zoho.zoho.facts import COQL_PAGE, COQL_REACH, PER_PAGE, coql_credits
from clinic2zoho.zoho.transport import Call

API = "/crm/v8"


def quote(value: Any) -> str:
    """A COQL string literal: single quotes, an inner quote doubled (Zoho's COQL FAQ)."""
    return "'" + str(value).replace("'", "''") + "'"


def coql(client: Any, query: str, page_size: int = COQL_PAGE) -> Iterator[dict[str, Any]]:
    """Rows of `query` (a select without LIMIT), page by page with `limit offset, count`, until
    Zoho says no more records or the 100,000 reachable by offset are read."""
    offset = 0
    while offset < COQL_REACH:
        size = min(page_size, COQL_REACH - offset)
        text = f"{query} limit {offset}, {size}"
        body = client._json(Call("POST", f"{API}/coql", f"{API}/coql", json={"select_query": text},
                                 credits=coql_credits(size), not_found_ok=True))
        if not isinstance(body, dict):
            return
        rows = body.get("data") or []
        yield from rows
        if not (body.get("info") or {}).get("more_records") or not rows:
            return
        offset += len(rows)


def record_count(client: Any, module: str) -> int:
    body = client._json(Call("GET", f"{API}/{module}/actions/count", f"{API}/{module}/actions/count", module=module))
    return int((body or {}).get("count") or 0) if isinstance(body, dict) else 0


def deleted_records(client: Any, module: str, kind: str = "all") -> Iterator[dict[str, Any]]:
    """Deleted records of `module` (`kind`: all, recycle or permanent), newest first."""
    page = 1
    while True:
        body = client._json(Call("GET", f"{API}/{module}/deleted", f"{API}/{module}/deleted", module=module,
                                 params={"type": kind, "page": page, "per_page": PER_PAGE}, not_found_ok=True))
        if not isinstance(body, dict):
            return
        yield from body.get("data") or []
        if not (body.get("info") or {}).get("more_records"):
            return
        page += 1
