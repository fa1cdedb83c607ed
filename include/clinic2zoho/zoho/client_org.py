"""The org and its users: the org these credentials reach, its users, roles and profiles, a user
added (read back by e-mail after an unanswered call), and the doctor's scope probes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from clinic2zoho.zoho.client_base import API, ClientBase
from clinic2zoho.zoho.errors import ZohoAuthError, ZohoTerminalError
from clinic2zoho.zoho.facts import PER_PAGE
from clinic2zoho.zoho.models import RecordResult
from clinic2zoho.zoho.transport import Call


class OrgCalls(ClientBase):
    _org: dict[str, Any] | None  # GET /org once read (None until then)

    def org(self) -> dict[str, Any]:
        body = self._json(Call("GET", f"{API}/org", f"{API}/org")) or {}
        orgs = body.get("org") or []
        if not orgs:
            raise ZohoTerminalError("answer holds no org", method="GET", path=f"{API}/org")
        return orgs[0]

    def current_org(self) -> dict[str, Any]:
        """GET /org, read once: the org these credentials reach does not change."""
        if self._org is None:
            self._org = self.org()
        return self._org

    def org_id(self) -> str:
        """The org's zgid, sent as X-CRM-ORG on bulk uploads and journaled with each run (cached)."""
        org = self.current_org()
        return str(org.get("zgid") or org.get("id"))

    def users(self, type: str = "ActiveUsers") -> list[dict[str, Any]]:
        users: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self._json(
                Call("GET", f"{API}/users", f"{API}/users", params={"type": type, "page": page, "per_page": PER_PAGE},
                     not_found_ok=True)
            ) or {}
            users.extend(body.get("users") or [])
            if not (body.get("info") or {}).get("more_records"):
                return users
            page += 1

    def roles(self) -> list[dict[str, Any]]:
        """GET /settings/roles (roles.json): the roles a new user may be given."""
        return (self._json(Call("GET", f"{API}/settings/roles", f"{API}/settings/roles")) or {}).get("roles") or []

    def profiles(self) -> list[dict[str, Any]]:
        """GET /settings/profiles (profiles.json): the profiles a new user may be given."""
        return (self._json(Call("GET", f"{API}/settings/profiles", f"{API}/settings/profiles")) or {}).get("profiles") or []

    def add_user(self, user: dict[str, Any]) -> RecordResult:
        """POST /users with one user (add-user.html: first_name, last_name, email, role id, profile id);
        Zoho sends the invitation. An unanswered call is read back by e-mail before it is sent again."""
        email = str(user.get("email") or "").lower()

        def find() -> dict[str, Any] | None:
            return next((u for u in self.users(type="AllUsers") if str(u.get("email") or "").lower() == email), None)

        call = Call("POST", f"{API}/users", f"{API}/users", json={"users": [user]}, idempotent=False)
        try:
            body = self._create_once(call, find)
        except ZohoTerminalError as exc:
            return RecordResult(0, False, exc.code or f"HTTP_{exc.status}", message=exc.message, details=exc.details)
        if body is None:  # landed on an unanswered try
            found = find() or {}
            return RecordResult(0, True, "SUCCESS", id=str(found.get("id")), action="insert", details={"read_back": True})
        return RecordResult.from_zoho(0, (body.get("users") or [{}])[0])

    def probe(self, method: str, path: str, *, host: str = "api", params: dict[str, Any] | None = None,
              json: Any = None, headers: dict[str, str] | None = None,
              files: Callable[[], dict[str, Any]] | None = None) -> int:
        """One call whose answer matters only as "let through or not" (the doctor's scope probes):
        the HTTP status of any answer but 401, which raises ZohoAuthError (code OAUTH_SCOPE_MISMATCH
        when the grant lacks the call's scope)."""
        call = Call(method, path, path.split("?", 1)[0], host=host, params=params, json=json, headers=headers or {},
                    files=files)
        try:
            return self._transport.send(call).status_code
        except ZohoAuthError:
            raise
        except ZohoTerminalError as exc:
            return exc.status or 400
