"""`GET /crm/v8/settings/related_lists?module=X` (OAS related_lists.json: `{"related_lists": [{id,
sequence_number, display_label, api_name, module: {api_name, id}, name, href, type, status, ...}]}`;
Zoho's page https://www.zoho.com/crm/developer/docs/api/v8/related-list-meta.html).

The lists are the ones the server serves at `/{module}/{id}/{related}`: Notes, Attachments, and
every module with a lookup to X (or an activity's What_Id), named by that module's api_name, so
the official SDK (which reads this list and needs `href` to call the related-records API) works."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .http import jresp
from .store import ID_BASE

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from .app import ZohoServer

RELATED_ID_OFFSET = 2 * 10**13


def related_modules(server: "ZohoServer", module: str) -> list[str]:
    """Child modules whose records link to `module` (the rule Records.related serves)."""
    out = []
    for child, specs in server.store.specs.items():
        if child in ("Notes",):
            continue
        if any(s.data_type == "lookup" and s.lookup_module == module for s in specs.values()) or \
                any(s.data_type == "multimodulelookup" for s in specs.values()):
            out.append(child)
    return out


def related_lists_json(server: "ZohoServer", module: str) -> list[dict[str, Any]]:
    store = server.store
    base = int(store.modules[module]["id"]) - ID_BASE
    names = ["Notes", "Attachments"] + related_modules(server, module)
    out = []
    for seq, name in enumerate(names, start=1):
        child = store.modules.get(name)
        custom = bool(child and child.get("generated_type") == "custom")
        out.append({
            "id": str(ID_BASE - RELATED_ID_OFFSET + base * 100 + seq), "sequence_number": str(seq),
            "display_label": child["plural_label"] if child else name, "api_name": name,
            "module": {"api_name": name, "id": child["id"] if child else None},
            "name": name, "action": None, "href": f"{module}/{{ENTITYID}}/{name}",
            "type": "custom_lookup" if custom else "default", "visible": True, "status": "visible",
            "customize_sort": False, "customize_fields": False, "customize_display_label": False,
            "sort_order": None, "fields": []})
    return out


async def related_lists(server: "ZohoServer", request: "Request") -> "Response":

    await server.guard(request, "related_lists")
    server.commit()
    module = server.module_param(request)
    return jresp({"related_lists": related_lists_json(server, module)}, headers=server.credit_headers())
