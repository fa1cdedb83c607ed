"""Layout-mandatory fields: what an org's layouts require on every new record of a module.

`GET /crm/v8/settings/layouts?module=X` (OAS layouts.json; Zoho's page
https://www.zoho.com/crm/developer/docs/api/v8/layouts-meta.html) answers
`{"layouts": [{id, name, status, sections: [{fields: [{api_name, required, system_mandatory, ...}]}]}]}`.
A field is mandatory when `required` (set by the layout) or `system_mandatory` is true.

*unverified*: which layout an API insert without a `Layout` field lands in. The stricter reading is
taken: the union of the required fields of every layout not marked inactive."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clinic2zoho.zoho.transport import Call

API = "/crm/v8"
# Zoho fills these itself on insert: the record owner defaults to the calling user (insert-records
# page: "Owner ... by default the current user"), the layout to the module's default, the audit
# fields are system-set. A layout marking them required asks nothing of the data.
FILLED_BY_ZOHO = frozenset({"Owner", "Layout", "Created_By", "Modified_By", "Created_Time", "Modified_Time",
                            "Tag", "id"})
# Zoho's standard layouts beyond system-mandatory fields, for proposing offline (no org to read):
# Zoho's "CRM modules & fields" help page marks Lead's Last Name* and Company* mandatory
# (https://www.zoho.com/crm/help/api/modules-fields.html). With an org, its layouts are read instead.
STANDARD_LAYOUT_MANDATORY: dict[str, tuple[str, ...]] = {
    "Leads": ("Last_Name", "Company"),
    "Contacts": ("Last_Name",),
}


@dataclass(frozen=True)
class MandatoryField:
    module: str
    api_name: str
    label: str
    data_type: str | None
    layouts: tuple[str, ...]  # the layouts requiring it
    system: bool = False  # system_mandatory: every layout requires it, Zoho refuses a record without it


def read_layouts(client: Any, module: str) -> list[dict[str, Any]]:
    body = client._json(Call("GET", f"{API}/settings/layouts", f"{API}/settings/layouts", module=module,
                             params={"module": module}, not_found_ok=True))
    return list((body or {}).get("layouts") or []) if isinstance(body, dict) else []


def mandatory_fields(client: Any, module: str) -> list[MandatoryField]:
    """Fields of `module` that some active layout requires on insert, less those Zoho fills."""
    found: dict[str, MandatoryField] = {}
    for layout in read_layouts(client, module):
        if str(layout.get("status") or "active").lower() == "inactive":
            continue
        name = str(layout.get("name") or layout.get("api_name") or layout.get("id"))
        for section in layout.get("sections") or []:
            for field in section.get("fields") or []:
                api_name = field.get("api_name")
                if not api_name or api_name in FILLED_BY_ZOHO:
                    continue
                if not (field.get("required") or field.get("system_mandatory")):
                    continue
                if field.get("read_only") or field.get("field_read_only") or field.get("auto_number"):
                    continue  # Zoho sets it (auto-number, formula): the data cannot
                earlier = found.get(api_name)
                layouts = (*earlier.layouts, name) if earlier else (name,)
                label = str(field.get("field_label") or field.get("display_label") or api_name)
                found[api_name] = MandatoryField(module, api_name, label, field.get("data_type"), layouts,
                                                 bool(field.get("system_mandatory")))
    return list(found.values())
