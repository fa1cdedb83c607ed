"""What the org remembers of deleted records, for `GET /{module}/deleted` (Zoho's "Get List of
Deleted Records", https://www.zoho.com/crm/developer/docs/api/v8/get-deleted-records.html; OAS
record.json `Deleted_Record`: id, display_name, type, deleted_by, created_by, deleted_time).

A record deleted through the API goes to the recycle bin (`type: recycle`); it is purged
(`type: permanent`) after `recycle_bin_days` (Zoho's help page on the Recycle Bin: 60 days;
*unverified* here, a setting). Kept in its own SQLite table beside the store's."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from .store import Store

DDL = "CREATE TABLE IF NOT EXISTS deleted_records (module TEXT, id TEXT, deleted_at REAL, json TEXT NOT NULL, PRIMARY KEY (module, id))"


def _ensure(store: Store) -> None:
    if not getattr(store, "_deleted_table", False):
        store.conn.execute(DDL)
        store._deleted_table = True  # type: ignore[attr-defined]


def remember(store: Store, module: str, rec: dict[str, Any], display_name: str | None) -> None:
    """Called inside the deleting transaction, so the entry lands with the deletion."""
    _ensure(store)
    user = store.current_user()  # the API acts as the token's user: the org's admin here
    created = rec.get("Created_By") or {}
    entry = {"id": rec["id"], "display_name": display_name or "",
             "deleted_by": {"name": user["full_name"], "id": user["id"]},
             "created_by": {"name": created.get("name"), "id": created.get("id")} if created else None}
    store.conn.execute("INSERT OR REPLACE INTO deleted_records VALUES (?, ?, ?, ?)",
                       (module, rec["id"], store.now(), json.dumps(entry)))


def listed(store: Store, module: str, kind: str, since: float | None = None) -> list[dict[str, Any]]:
    """Entries of `module` of `kind` (all / recycle / permanent), newest deletion first,
    deleted after `since` (If-Modified-Since) when given."""
    _ensure(store)
    keep = float(store.settings["recycle_bin_days"]) * 86_400
    now = store.now()
    out = []
    for deleted_at, raw in store.conn.execute(
            "SELECT deleted_at, json FROM deleted_records WHERE module = ? ORDER BY deleted_at DESC, id DESC", (module,)):
        if since is not None and deleted_at <= since:
            continue
        entry = json.loads(raw)
        entry["type"] = "permanent" if now - deleted_at > keep else "recycle"
        if kind != "all" and entry["type"] != kind:
            continue
        entry["deleted_time"] = datetime.fromtimestamp(int(deleted_at), timezone.utc).isoformat()
        if entry.get("created_by") is None:
            entry.pop("created_by", None)
        out.append(entry)
    return out
