"""The OAuth scopes the project's client needs, and which of them a grant lacks.

Every call the client, the loader, `doctor` and `invite-providers` make, with its scope from Zoho's
API pages (https://www.zoho.com/crm/developer/docs/api/v8/scopes.html and each page's "Scope"):
records, notes, attachments, search and COQL's module reads: ZohoCRM.modules.ALL; modules, fields,
layouts, profiles, roles, related lists: ZohoCRM.settings.ALL; reading and inviting users:
ZohoCRM.users.ALL; the org's edition and type: ZohoCRM.org.READ; Bulk Write jobs: ZohoCRM.bulk.ALL;
COQL: ZohoCRM.coql.READ; the Bulk Write file upload: ZohoFiles.files.ALL."""

from __future__ import annotations

from collections.abc import Iterable

REQUIRED_SCOPES: tuple[str, ...] = (
    "ZohoCRM.modules.ALL",
    "ZohoCRM.settings.ALL",
    "ZohoCRM.users.ALL",
    "ZohoCRM.org.READ",
    "ZohoCRM.bulk.ALL",
    "ZohoCRM.coql.READ",
    "ZohoFiles.files.ALL",
)


def _covers(granted: str, needed: str) -> bool:
    """`ZohoCRM.modules.ALL` covers `ZohoCRM.modules.contacts.READ`; names compare case-insensitively."""
    g, n = granted.strip().lower().split("."), needed.strip().lower().split(".")
    if len(g) < 2 or len(n) < 2 or g[0] != n[0] or n[1:-1][: len(g) - 2] != g[1:-1]:
        return False
    return g[-1] in ("all", n[-1])


def missing_scopes(granted: Iterable[str], needed: Iterable[str] = REQUIRED_SCOPES) -> list[str]:
    """The needed scopes no granted scope covers (Zoho's token answer lists the grant in `scope`)."""
    grant = [g for g in granted if g.strip()]
    return [n for n in needed if not any(_covers(g, n) for g in grant)]
