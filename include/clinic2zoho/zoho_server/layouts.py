"""Layouts: `GET /crm/v8/settings/layouts?module=X` and `/settings/layouts/{id}?module=X` (OAS
layouts.json: `{"layouts": [{id, name, api_name, sections: [{fields: [{..., required}]}], profiles,
status, ...}]}`; Zoho's page https://www.zoho.com/crm/developer/docs/api/v8/layouts-meta.html), and
the layout-mandatory fields enforced on insert.

Each module has one layout, "Standard". Its required fields are the fields' system_mandatory ones
plus what Zoho's standard layouts make required beyond them (Leads: Company, with Last_Name; Zoho's
"CRM modules & fields" help page, https://www.zoho.com/crm/help/api/modules-fields.html, marks Last
Name* and Company* mandatory), plus the settings' `layout_required` per module. A missing
layout-required field is MANDATORY_NOT_FOUND with its api_name, as for a system-mandatory one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .http import jresp
from .store import ID_BASE, Store
from .values import mandatory

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from .app import ZohoServer

# Required by Zoho's standard layouts beyond the fields' system_mandatory flag.
STANDARD_LAYOUT_REQUIRED: dict[str, tuple[str, ...]] = {"Leads": ("Company",)}
LAYOUT_ID_OFFSET = 10**13  # layout ids sit below user ids: ID_BASE - 10**13 + the module's counter
ADDRESS_HINTS = ("Street", "City", "State", "Zip", "Code", "Country")


def layout_id(store: Store, module: str) -> str:
    return str(ID_BASE - LAYOUT_ID_OFFSET + (int(store.modules[module]["id"]) - ID_BASE))


def required_fields(store: Store, module: str) -> list[str]:
    """The module's layout-required fields beyond system_mandatory ones, when enforced."""
    settings = store.settings
    if not settings.get("layout_mandatory", True):
        return []
    specs = store.specs.get(module, {})
    extra = list(STANDARD_LAYOUT_REQUIRED.get(module, ())) + list((settings.get("layout_required") or {}).get(module, []))
    out: list[str] = []
    for name in extra:
        if name in specs and name not in out and not specs[name].mandatory:
            out.append(name)
    return out


def check_insert(store: Store, module: str, rec: dict[str, Any], i: int) -> None:
    """MANDATORY_NOT_FOUND for a layout-required field left empty by a new record."""
    for name in required_fields(store, module):
        if rec.get(name) in (None, "", []):
            raise mandatory(name, f"$.data[{i}].{name}")


def check_update(store: Store, module: str, raw: dict[str, Any], i: int) -> None:
    """An update may not blank a layout-required field; one it does not name is left alone
    (*unverified*: records older than the rule are not refused for lacking it)."""
    for name in required_fields(store, module):
        if name in raw and raw[name] in (None, "", []):
            raise mandatory(name, f"$.data[{i}].{name}")


def _section_of(api_name: str) -> str:
    if api_name == "Description":
        return "Description Information"
    if any(api_name.endswith(h) or api_name.startswith(h) for h in ADDRESS_HINTS) and "_" in api_name:
        return "Address Information"
    return "Information"


def layout_json(server: "ZohoServer", module: str) -> dict[str, Any]:
    store = server.store
    mod = store.modules[module]
    lid = layout_id(store, module)
    layout_required = set(required_fields(store, module))
    admin = store.current_user()
    who = {"name": admin["full_name"], "id": admin["id"]}
    sections: dict[str, dict[str, Any]] = {}
    for seq, fj in enumerate(store.fields[module], start=1):
        label = _section_of(fj["api_name"])
        if label == "Information":
            label = f"{mod['singular_label']} Information"
        section = sections.get(label)
        if section is None:
            sid = str(int(lid) + 1 + len(sections))
            section = sections[label] = {
                "display_label": label, "sequence_number": len(sections) + 1, "isSubformSection": False,
                "tab_traversal": "left_to_right", "api_name": label.replace(" ", "_"), "column_count": 2, "name": label,
                "generated_type": "default", "id": sid, "type": "used", "fields": []}
        field = {**fj, "required": bool(fj.get("system_mandatory")) or fj["api_name"] in layout_required,
                 "sequence_number": seq, "section_id": section["sequence_number"]}
        section["fields"].append(field)
    profiles = [{"default": True, "name": p["name"], "id": p["id"],
                 "_default_view": {"name": "Standard", "id": lid, "type": "layout"}}
                for p in (mod.get("profiles") or [])]
    return {"id": lid, "name": "Standard", "display_label": "Standard", "api_name": "Standard", "status": "active",
            "visible": True, "source": "crm", "mode": "default", "generated_type": "default", "has_more_profiles": False,
            "show_business_card": False, "created_time": store.now_iso(), "modified_time": store.now_iso(),
            "created_for": None, "created_by": who, "modified_by": who, "profiles": profiles,
            "sections": list(sections.values()), "subform_properties": {}, "convert_mapping": None,
            "actions_allowed": {"edit": True, "rename": True, "clone": True, "downgrade": False, "delete": False,
                                "deactivate": False, "set_layout_permissions": True}}


async def layouts_list(server: "ZohoServer", request: "Request") -> "Response":

    await server.guard(request, "layouts")
    server.commit()
    module = server.module_param(request)
    return jresp({"layouts": [layout_json(server, module)]}, headers=server.credit_headers())


async def layout_get(server: "ZohoServer", request: "Request") -> "Response":

    await server.guard(request, "layouts.get")
    server.commit()
    module = server.module_param(request)
    if request.path_params["layout_id"] != layout_id(server.store, module):
        return jresp(None, 204, headers=server.credit_headers())
    return jresp({"layouts": [layout_json(server, module)]}, headers=server.credit_headers())

