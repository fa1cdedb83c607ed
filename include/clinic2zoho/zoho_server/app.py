"""The local org's server object: its store, credits, records and Bulk Write, and the guard in
front of every API call (access token, scope, injected faults, concurrency, credits).

Where the rest lives: what a route reads from its request in params.py (mixed in here), the
routes in one module per resource (records: record_reads.py, record_writes.py; metadata_api.py,
attachments.py, related_records.py, users.py, bulk.py, query_api.py, admin.py...), the route
table in routes.py, and the middleware that counts calls and drops answers in middleware.py."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from . import scopes
from .bulk import BulkWrite
from .http import ApiError
from .limits import HEAVY_WRITE_RECORDS, Limited, Limits
from .middleware import CallLog
from .params import RequestParams
from .records import Records
from .store import Store


@dataclass
class Credentials:
    client_id: str
    client_secret: str
    refresh_token: str
    admin_token: str


class ZohoServer(RequestParams):
    """State and rules of one local Zoho org."""

    def __init__(self, store: Store, creds: Credentials, base_url: str = "") -> None:
        self.store = store
        self.creds = creds
        self.base_url = base_url
        self.limits = Limits(store)
        self.records = Records(store, row_fault=lambda: self.limits.roll("row_fail_rate"))
        self.bulk = BulkWrite(self)
        self.call_log = CallLog()

    # ---- guard of every API call -----------------------------------------------------------------
    async def guard(self, request: Request, op: str, cost: int = 1, module: str | None = None, records: int = 0) -> dict[str, Any]:
        token = self.check_token(request)
        info = request.scope.setdefault("c2z", {})
        info.update({"op": op, "module": module, "records": records, "credits": 0})
        if self.limits.roll("expire_token_rate"):
            self.store.revoke_token(token)
            raise ApiError(401, "INVALID_TOKEN", "invalid oauth token")
        if self.limits.roll("error_5xx_rate"):
            raise ApiError(500, "INTERNAL_ERROR", "Internal server error occurred.")
        heavy = records > HEAVY_WRITE_RECORDS and request.method in ("POST", "PUT")
        if heavy and self.limits.heavy_in_flight >= int(self.store.settings["heavy_write_concurrency"]):
            raise ApiError(429, "TOO_MANY_REQUESTS", "concurrency limit exceeded", {})
        try:
            self.limits.charge(cost)
        except Limited as exc:
            raise ApiError(429, "TOO_MANY_REQUESTS", str(exc), {}) from None
        info["credits"] = cost
        latency = int(self.store.settings["faults"].get("latency_ms") or 0)
        if latency:
            if heavy:
                self.limits.heavy_in_flight += 1
            try:
                await asyncio.sleep(latency / 1000)
            finally:
                if heavy:
                    self.limits.heavy_in_flight -= 1
        return self.store.current_user()

    def check_token(self, request: Request) -> str:
        auth = request.headers.get("authorization", "")
        token = auth[len("Zoho-oauthtoken "):].strip() if auth.startswith("Zoho-oauthtoken ") else ""
        expires = self.store.tokens.get(token)
        if not token or expires is None or expires <= self.store.now():
            raise ApiError(401, "INVALID_TOKEN", "invalid oauth token")
        return token

    def check_scope(self, request: Request) -> None:
        """401 OAUTH_SCOPE_MISMATCH unless the grant covers the route (zoho_server/scopes.py)."""
        self.require_scopes(scopes.required(request.method, request.url.path, self.is_custom_module))

    def require_scopes(self, requirement: scopes.Requirement) -> None:
        if scopes.missing(self.store.settings["granted_scopes"], requirement):
            raise ApiError(401, "OAUTH_SCOPE_MISMATCH", scopes.MISMATCH_MESSAGE, {})

    def is_custom_module(self, name: str) -> bool:
        mod = next((m for a, m in self.store.modules.items() if a.lower() == name.lower()), None)
        return bool(mod and mod.get("generated_type") == "custom")

    def admin(self, request: Request) -> None:
        if not secrets.compare_digest(request.headers.get("x-admin-token", ""), self.creds.admin_token):
            raise ApiError(401, "INVALID_TOKEN", "invalid admin token")

    def credit_headers(self) -> dict[str, str]:
        """X-API-CREDITS-REMAINING once the org has spent the settings' share of its credits."""
        value = self.limits.header_value()
        return {"X-API-CREDITS-REMAINING": value} if value is not None else {}

    def commit(self) -> None:
        self.store.commit()
