"""Profiles: `GET /crm/v8/settings/profiles` and `/settings/profiles/{id}` (OAS profiles.json:
`{"profiles": [{id, name, display_label, description, default, custom, permissions_details,
sections, created_time, modified_time, created_by, modified_by, category}], "info": {"license_limit"}}`;
Zoho's page https://www.zoho.com/crm/developer/docs/api/v8/get-profiles.html). A new org has
Administrator and Standard (the ids users.py / metadata.user_json give users), and module
creation names profiles that must exist (Zoho's "Create Custom Module": profiles mandatory, an
unknown one INVALID_DATA)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .http import jresp
from .store import ID_BASE, Store

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from .app import ZohoServer

ADMINISTRATOR_ID = str(ID_BASE - 2)
STANDARD_ID = str(ID_BASE - 4)
PROFILES = ((ADMINISTRATOR_ID, "Administrator", "This profile will have all the permissions. Users with Administrator "
             "profile will be able to view and manage all the data within the organization account by default."),
            (STANDARD_ID, "Standard", "This profile will have all the permissions except administrative privileges."))
MODULE_PERMISSIONS = ("view", "create", "edit", "delete")


def all_profiles(store: Store) -> list[dict[str, str]]:
    return [{"id": pid, "name": name} for pid, name, _ in PROFILES]


def profile_json(store: Store, pid: str, name: str, description: str, detailed: bool) -> dict[str, Any]:
    admin = store.current_user()
    who = {"name": admin["full_name"], "id": admin["id"]}
    out: dict[str, Any] = {
        "id": pid, "name": name, "display_label": name, "description": description, "default": name == "Administrator",
        "custom": False, "category": False, "type": "normal_profile", "permission_type": "crm",
        "created_time": store.now_iso(), "modified_time": store.now_iso(), "created_by": who, "modified_by": who,
        "permissions_details": [], "sections": []}
    if detailed:  # Zoho lists permissions on GET by id
        admin_profile = name == "Administrator"
        details = []
        for module in store.modules:
            for perm in MODULE_PERMISSIONS:
                details.append({"id": f"{store.modules[module]['id']}{MODULE_PERMISSIONS.index(perm)}",
                                "name": f"Crm_Implied_{perm.title()}_{module}", "display_label": perm.title(),
                                "module": module, "enabled": admin_profile or perm != "delete"})
        out["permissions_details"] = details
        out["sections"] = [{"name": "modules", "categories": [
            {"display_label": m, "name": m, "module": m,
             "permissions_details": [d["id"] for d in details if d["module"] == m]} for m in store.modules]}]
    return out


async def profiles_list(server: "ZohoServer", request: "Request") -> "Response":

    await server.guard(request, "profiles")
    server.commit()
    items = [profile_json(server.store, pid, name, desc, False) for pid, name, desc in PROFILES]
    return jresp({"profiles": items, "info": {"license_limit": None}}, headers=server.credit_headers())


async def profile_get(server: "ZohoServer", request: "Request") -> "Response":

    await server.guard(request, "profiles.get")
    server.commit()
    pid = request.path_params["profile_id"]
    found = next((p for p in PROFILES if p[0] == pid), None)
    if found is None:
        return jresp(None, 204, headers=server.credit_headers())
    return jresp({"profiles": [profile_json(server.store, *found, True)]}, headers=server.credit_headers())


def module_profiles(store: Store, given: Any) -> list[dict[str, str]]:
    """The profiles a new module is given: each must name an existing profile by id (or name).
    Raises ValueError with the offending index (metadata.create_module answers INVALID_DATA)."""
    known = {p["id"]: p for p in all_profiles(store)}
    by_name = {p["name"].lower(): p for p in known.values()}
    if given is None:
        if store.settings.get("module_profiles_required"):
            raise LookupError("profiles")
        return [known[ADMINISTRATOR_ID]]
    if not isinstance(given, list) or not given:
        raise ValueError(-1)
    out = []
    for n, item in enumerate(given):
        key = item.get("id") if isinstance(item, dict) else item
        hit = known.get(str(key)) if key is not None else None
        if hit is None and isinstance(item, dict) and isinstance(item.get("name"), str) and not item.get("id"):
            hit = by_name.get(item["name"].lower())
        if hit is None:
            raise ValueError(n)
        if hit not in out:
            out.append(hit)
    return out
