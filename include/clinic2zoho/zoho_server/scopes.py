"""OAuth scopes: what each route requires and whether a grant covers it.

A scope is `Service.name[.sub].OPERATION` (https://www.zoho.com/crm/developer/docs/api/v8/scopes.html).
A granted scope covers a required one when the service matches, the granted names are a prefix of
the required ones (`ZohoCRM.modules.ALL` covers `ZohoCRM.modules.contacts.READ`;
`ZohoCRM.settings.ALL` covers `ZohoCRM.settings.fields.READ`), and the operation is ALL, the same,
or WRITE for CREATE/UPDATE/DELETE ("WRITE: alias for CREATE, UPDATE and DELETE",
https://www.zoho.com/crm/developer/docs/api/v6/select-api-scopes.html). Zoho writes scopes in
either case (the OAS files have both `ZohoCRM.org.all` and `ZohoCRM.modules.ALL`): compared
case-insensitively.

A route's requirement is a list of groups; every group must be met by one of its alternatives.
A missing scope is 401 OAUTH_SCOPE_MISMATCH "invalid oauth scope to access this URL"
(share_records.json's error enum; ZOHO_API.md) with empty details: Zoho's answer does not say
which scope is missing, so neither does this server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

# The grant a configured refresh token holds unless a test narrows it (`granted_scopes` setting):
# the scopes the project's client asks for (clinic2zoho.zoho.scopes.REQUIRED_SCOPES).
DEFAULT_GRANT = ("ZohoCRM.modules.ALL", "ZohoCRM.settings.ALL", "ZohoCRM.users.ALL", "ZohoCRM.org.READ",
                 "ZohoCRM.bulk.ALL", "ZohoCRM.coql.READ", "ZohoFiles.files.ALL")

MISMATCH_MESSAGE = "invalid oauth scope to access this URL"

Requirement = list[list[str]]  # all groups, one alternative of each

_METHOD_OP = {"GET": "READ", "HEAD": "READ", "POST": "CREATE", "PUT": "UPDATE", "PATCH": "UPDATE", "DELETE": "DELETE"}
_WRITE_OPS = {"CREATE", "UPDATE", "DELETE"}


def _parts(scope: str) -> tuple[str, list[str], str]:
    pieces = scope.strip().lower().split(".")
    return pieces[0], pieces[1:-1], pieces[-1].upper() if len(pieces) > 1 else ""


def covers(granted: str, required: str) -> bool:
    g_service, g_names, g_op = _parts(granted)
    r_service, r_names, r_op = _parts(required)
    if g_service != r_service or not g_names or r_names[: len(g_names)] != g_names:
        return False
    return g_op == "ALL" or g_op == r_op or (g_op == "WRITE" and r_op in _WRITE_OPS)


def missing(granted: Iterable[str], requirement: Requirement) -> list[str]:
    """The groups no granted scope meets, each named by its first alternative."""
    grant = [g for g in granted if isinstance(g, str) and g.strip()]
    return [group[0] for group in requirement if not any(covers(g, need) for g in grant for need in group)]


def module_scope(module: str, op: str, is_custom: Callable[[str], bool] = lambda _m: False) -> list[str]:
    """Alternatives for an operation on one module's records: `ZohoCRM.modules.{module}.{op}`, or for a
    custom module also `ZohoCRM.modules.custom.{op}` (the docs' "possible module names" list
    `custom` for every custom module). `ZohoCRM.modules.ALL` / `ZohoCRM.modules.{op}` cover both."""
    names = [f"ZohoCRM.modules.{module.lower()}.{op}"]
    if is_custom(module):
        names.append(f"ZohoCRM.modules.custom.{op}")
    return names


def required(method: str, path: str, is_custom: Callable[[str], bool] = lambda _m: False) -> Requirement:
    """What `method path` needs, from each API page's "Scope" section and the OAS `security` blocks.
    Paths no rule names (routes added later, unknown URLs) need `ZohoCRM.modules.ALL`: the strict default."""
    op = _METHOD_OP.get(method.upper(), "ALL")
    parts = [p for p in path.split("/") if p]
    if parts[:3] == ["crm", "bulk", "v8"] and parts[3:4] == ["write"]:
        # bulk_write.json / create-job page: ZohoCRM.bulk.CREATE or .ALL, plus the module's CREATE
        # (that one is checked once the job's module is read from the body: BulkWrite.create_job)
        return [[f"ZohoCRM.bulk.{op}"]]
    if parts[:2] != ["crm", "v8"] or len(parts) < 3:
        return [["ZohoCRM.modules.ALL"]]
    head, rest = parts[2], parts[3:]
    if head == "upload":
        return [["ZohoFiles.files.ALL"]]  # upload-file page: scope=ZohoFiles.files.ALL
    if head == "bulk-write":
        return [["ZohoCRM.bulk.READ"]]  # the result download of a bulk write job
    if head == "coql":
        # Get-Records-through-COQL page: ZohoCRM.coql.READ and the module's READ (query_api.py checks
        # that one once the query is parsed)
        return [["ZohoCRM.coql.READ"]]
    if head == "settings" and rest:
        return [[f"ZohoCRM.settings.{rest[0].lower()}.{op}"]]  # modules.json, fields.json, layouts.json...
    if head == "users":
        return [[f"ZohoCRM.users.{op}"]]  # users.json: ZohoCRM.users.ALL
    if head == "org":
        return [[f"ZohoCRM.org.{op}"]]  # org.json: ZohoCRM.org.all
    if head.startswith("__") or head in ("settings",):
        return [["ZohoCRM.modules.ALL"]]
    module = head
    if len(rest) >= 2 and rest[1].lower() == "notes":
        return [[f"ZohoCRM.modules.notes.{op}"]]  # notes.json: ZohoCRM.modules.notes.all
    if len(rest) >= 2 and rest[1].lower() == "attachments":
        # attachments.json: ZohoCRM.modules.{module}.ALL or ZohoCRM.modules.attachments.ALL
        return [module_scope(module, op, is_custom) + [f"ZohoCRM.modules.attachments.{op}"]]
    if rest[:1] == ["upsert"]:
        op = "CREATE"  # upsert-records page: ALL, WRITE or CREATE
    elif rest[:1] == ["search"] or method.upper() == "GET":
        op = "READ"
    return [module_scope(module, op, is_custom)]
