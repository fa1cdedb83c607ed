"""HTTP calls that check every JSON answer against Zoho's OAS file for the operation, and a
ledger of everything the suite creates, deleted at the end of the session (a real sandbox keeps
nothing of a run)."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.zoho_server.oas import Conformance

# POST /crm/v8/{module} (insert) and /{module}/upsert answer data[].details.id with action insert.
_WRITE_PATH = re.compile(r"^/crm/v8/(?P<module>[A-Z][A-Za-z0-9_]*)(?:/upsert)?$")


@dataclass
class Ledger:
    records: list[tuple[str, str]] = field(default_factory=list)  # (module, id), creation order
    fields: list[tuple[str, str]] = field(default_factory=list)  # (module, field id)
    users: list[str] = field(default_factory=list)
    jobs: list[str] = field(default_factory=list)  # bulk jobs (Zoho has no job delete; their records are above)

    def note_answer(self, method: str, path: str, resp: httpx.Response) -> None:
        match = _WRITE_PATH.match(path)
        if method != "POST" or not match or resp.status_code not in (200, 201, 207):
            return
        for item in resp.json().get("data") or []:
            details = item.get("details") or {}
            if item.get("status") == "success" and item.get("action", "insert") == "insert" and details.get("id"):
                self.records.append((match["module"], str(details["id"])))

    def clean(self, http: httpx.Client) -> list[str]:
        """Delete what was created (records newest first, 100 ids per call; then fields and
        users); return what could not be deleted."""
        left: list[str] = []
        by_module: dict[str, list[str]] = {}
        for module, rid in reversed(self.records):
            by_module.setdefault(module, []).append(rid)
        for module, ids in by_module.items():
            for start in range(0, len(ids), 100):
                chunk = ids[start:start + 100]
                resp = http.delete(f"/crm/v8/{module}", params={"ids": ",".join(chunk)})
                if resp.status_code not in (200, 207):  # 207: some ids were already gone
                    left += [f"{module}/{i}" for i in chunk]
                    continue
                for rid, item in zip(chunk, resp.json().get("data") or []):
                    # already gone (a test deleted it, or its parent took it along) counts as deleted
                    if item.get("status") != "success" and item.get("code") != "INVALID_DATA":
                        left.append(f"{module}/{rid}")
        for module, field_id in self.fields:
            resp = http.delete(f"/crm/v8/settings/fields/{field_id}", params={"module": module})
            if resp.status_code != 200:
                left.append(f"field {module}/{field_id}")
        for user_id in self.users:
            if http.delete(f"/crm/v8/users/{user_id}").status_code != 200:
                left.append(f"user {user_id}")
        self.records.clear(), self.fields.clear(), self.users.clear()
        if left:
            warnings.warn(f"the contract suite could not delete: {', '.join(left[:20])}")
        return left


class Zoho:
    """`zoho.get(path, oas="record.json", template=...)`: the call, its answer validated against the
    OAS file's schema for `template` (204 answers must be empty), inserts noted in the ledger."""

    def __init__(self, http: httpx.Client, oas: Conformance, ledger: Ledger) -> None:
        self.http, self.oas, self.ledger = http, oas, ledger

    def call(self, method: str, path: str, *, oas: str | None, template: str | None = None, **kw: Any) -> httpx.Response:
        resp = self.http.request(method, path, **kw)
        assert resp.status_code < 500, f"{method} {path}: HTTP {resp.status_code}"
        if resp.status_code in (204, 304):
            assert resp.content == b"", f"{method} {path}: a {resp.status_code} answer carries a body"
        elif resp.status_code == 401:
            self.oas.check_auth_error(resp.json())
        elif oas is not None:
            assert resp.headers.get("content-type", "").startswith("application/json"), \
                f"{method} {path}: {resp.status_code} answered {resp.headers.get('content-type')!r}, not JSON"
            query = {k: v for k, v in resp.request.url.params.items()}
            self.oas.check(oas, method, resp.request.url.path, template or path, resp.status_code, resp.json(), query)
        self.ledger.note_answer(method, resp.request.url.path, resp)
        return resp

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.call("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.call("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> httpx.Response:
        return self.call("PUT", path, **kw)

    def patch(self, path: str, **kw: Any) -> httpx.Response:
        return self.call("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> httpx.Response:
        return self.call("DELETE", path, **kw)
