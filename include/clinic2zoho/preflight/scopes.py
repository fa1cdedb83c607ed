"""Probe each OAuth scope the project needs with one cheap call that changes nothing, and read
Zoho's 401 OAUTH_SCOPE_MISMATCH as "not granted" (Zoho's answer does not name the scope, so each
probe asks about one). Any other answer, even a refusal of the empty request, means the scope let
the call through."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from clinic2zoho.zoho.errors import ZohoAuthError
from clinic2zoho.zoho.scopes import REQUIRED_SCOPES  # the client's list, in the README

API = "/crm/v8"


@dataclass(frozen=True)
class Probe:
    scope: str
    what: str  # what the call is, for the table
    calls: tuple[Callable[[Any], int], ...]
    needs: tuple[str, ...] = ()  # families the calls need as well: a refusal says nothing when one is missing


def _not_a_zip() -> dict[str, Any]:
    return {"file": ("doctor-probe.zip", io.BytesIO(b"not a zip"), "application/zip")}


def family(scope: str) -> str:
    """A scope without its operation (ZohoCRM.org.READ -> zohocrm.org): one probe reads it."""
    return ".".join(scope.strip().lower().split(".")[:-1])


PROBES: dict[str, Probe] = {family(p.scope): p for p in (
    Probe("ZohoCRM.org.READ", "GET /org", (lambda c: c.probe("GET", f"{API}/org"),)),
    # each family read, then written with a body that creates nothing (refused as invalid when
    # the scope lets it through): invite-providers adds users, prepare-schema fields, the load jobs
    Probe("ZohoCRM.users.ALL", "GET /users?type=CurrentUser, POST /users with no user",
          (lambda c: c.probe("GET", f"{API}/users", params={"type": "CurrentUser"}),
           lambda c: c.probe("POST", f"{API}/users", json={"users": []}))),
    Probe("ZohoCRM.settings.ALL", "GET /settings/modules, POST /settings/fields with no field",
          (lambda c: c.probe("GET", f"{API}/settings/modules"),
           lambda c: c.probe("POST", f"{API}/settings/fields", params={"module": "Contacts"}, json={"fields": []}))),
    # a read, and an insert with no record (refused as INVALID_DATA when the scope lets it through)
    Probe("ZohoCRM.modules.ALL", "GET /Contacts?fields=id, POST /Contacts with no record",
          (lambda c: c.probe("GET", f"{API}/Contacts", params={"fields": "id", "per_page": 1}),
           lambda c: c.probe("POST", f"{API}/Contacts", json={"data": []}))),
    # a job id that names no job, a job with no resource: nothing is created (a job costs 500 credits)
    Probe("ZohoCRM.bulk.ALL", "GET /crm/bulk/v8/write/{no such job}, POST /crm/bulk/v8/write with no resource",
          (lambda c: c.probe("GET", "/crm/bulk/v8/write/1"),
           lambda c: c.probe("POST", "/crm/bulk/v8/write", json={"operation": "insert", "resource": []}))),
    Probe("ZohoCRM.coql.READ", "POST /coql (one id)",
          (lambda c: c.probe("POST", f"{API}/coql",
                             json={"select_query": "select id from Contacts where id is not null limit 1"}),),
          needs=("zohocrm.modules",)),  # COQL also needs the module's READ (Get-Records-through-COQL page)
    # a file that is not a zip: refused as INVALID_FILE_FORMAT, nothing stored
    Probe("ZohoFiles.files.ALL", "POST upload host /upload (not a zip)",
          (lambda c: c.probe("POST", f"{API}/upload", host="upload", files=_not_a_zip,
                             headers={"feature": "bulk-write", "X-CRM-ORG": c.org_id()}),),
          needs=("zohocrm.org",)),  # the upload names the org (GET /org's zgid)
)}


@dataclass(frozen=True)
class ScopeResult:
    scope: str
    granted: bool | None  # None: the probe could not tell
    note: str


def probe_scopes(client: Any, scopes: tuple[str, ...] = REQUIRED_SCOPES) -> list[ScopeResult]:
    results: list[ScopeResult] = []
    missing: set[str] = set()
    # the probes that need another family run after it
    for scope in sorted(scopes, key=lambda sc: bool(PROBES.get(family(sc)) and PROBES[family(sc)].needs)):
        probe = PROBES.get(family(scope))
        if probe is None:
            results.append(ScopeResult(scope, None, "no probe for this scope"))
            continue
        lacking = [n for n in probe.needs if n in missing]
        if lacking:
            results.append(ScopeResult(scope, None, f"{probe.what}: not tellable while {', '.join(lacking)} is not granted"))
            continue
        try:
            statuses = [call(client) for call in probe.calls]
        except ZohoAuthError as exc:
            if exc.code == "OAUTH_SCOPE_MISMATCH":
                missing.add(family(scope))
                results.append(ScopeResult(scope, False, f"{probe.what}: 401 OAUTH_SCOPE_MISMATCH"))
            else:
                results.append(ScopeResult(scope, None, f"{probe.what}: {exc.code or 'refused'}"))
            continue
        except Exception as exc:  # a dropped connection, a 5xx storm: say so, do not guess
            results.append(ScopeResult(scope, None, f"{probe.what}: {type(exc).__name__}"))
            continue
        results.append(ScopeResult(scope, True, f"{probe.what}: HTTP {', '.join(map(str, statuses))}"))
    order = {sc: i for i, sc in enumerate(scopes)}
    return sorted(results, key=lambda res: order[res.scope])
