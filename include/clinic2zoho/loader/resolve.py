"""Turning clinic keys into Zoho ids: lookups through the journal's crosswalk, owners by email
among the org's users (per org: each client resolves its own), line-item products by name."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from clinic2zoho.loader import journal, run_org
from clinic2zoho.zoho import existing
from clinic2zoho.zoho.criteria import equals


class Crosswalk:
    """source key -> Zoho id per module, from the journal of every run into the org `org_id`
    (done, not rolled back), with a read-back by external id for keys those runs do not know.
    Runs into other orgs (or of unknown org) are never read: their ids name nothing here."""

    def __init__(self, root: Path, client: Any, external_fields: dict[str, str | None], org_id: str):
        self.root = Path(root)
        self.client = client
        self.external_fields = external_fields
        self.org_id = org_id
        self._maps: dict[str, dict[str, str]] = {}
        self._failed: dict[str, set[str]] = {}
        self._pending: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def _map(self, module: str) -> dict[str, str]:
        with self._lock:
            if module not in self._maps:
                self._maps[module], self._failed[module] = journal.crosswalk_and_failures(
                    self.root, module, run_org.runs_of(self.root, self.org_id))
            return self._maps[module]

    def resolve(self, module: str, key: str) -> str | None:
        known = self._map(module)
        if key in known:
            return known[key]
        if key in self._failed[module]:
            return None  # the parent was rejected: no point asking Zoho
        field = self.external_fields.get(module)
        if not field:
            return None
        record = self.client.get_by_external(module, field, key)
        if record and record.get("id"):
            with self._lock:
                known[key] = str(record["id"])
            return known[key]
        with self._lock:
            self._failed[module].add(key)
        return None

    def prefetch(self, module: str, keys: Iterable[str]) -> None:
        """Read back, in one go, the keys of `module` neither the journal nor an earlier read knows
        (COQL, 50 keys a call, zoho.existing; search where COQL is refused) instead of one get per
        key in `resolve`; keys still unknown afterwards are not in Zoho."""
        field = self.external_fields.get(module)
        if not field:
            return
        known = self._map(module)
        with self._lock:
            unknown = [k for k in dict.fromkeys(str(k) for k in keys if k not in (None, ""))
                       if k not in known and k not in self._failed[module]]
        if not unknown:
            return
        found = existing.find_by_keys(self.client, module, field, unknown)
        with self._lock:
            for key in unknown:
                if key in found and found[key].get("id"):
                    known[key] = str(found[key]["id"])
                else:
                    self._failed[module].add(key)

    def pending(self, module: str, key: str) -> bool:
        """The record is not loaded yet but may still load (pending after a transient failure):
        a row pointing to it waits for a resume rather than being rejected."""
        with self._lock:
            if module not in self._pending:
                self._pending[module] = journal.pending_keys(self.root, module, run_org.runs_of(self.root, self.org_id))
            return key in self._pending[module]


class OwnerResolver:
    """provider email -> user id of the org this client talks to."""

    def __init__(self, client: Any):
        self.client = client
        self._users: dict[str, str] | None = None
        self._lock = threading.Lock()

    def resolve(self, email: str | None) -> str | None:
        if not email:
            return None
        with self._lock:
            if self._users is None:
                self._users = {
                    str(u.get("email", "")).strip().lower(): str(u["id"])
                    # an invited user who has not accepted is active but owns no record (zoho_server/users.py)
                    for u in self.client.users(type="ActiveConfirmedUsers")
                    if u.get("email") and u.get("id")
                }
        return self._users.get(email.strip().lower())


class ProductResolver:
    """Invoice line items name their product; Zoho wants its id."""

    def __init__(self, client: Any):
        self.client = client
        self._ids: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def resolve(self, name: str) -> str | None:
        with self._lock:
            if name not in self._ids:
                criteria = equals("Product_Name", name)
                found = next(iter(self.client.search("Products", criteria)), None)
                self._ids[name] = str(found["id"]) if found else None
            return self._ids[name]
