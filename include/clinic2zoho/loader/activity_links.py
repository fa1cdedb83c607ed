"""How an activity (a Call) names the patient it belongs to, who may be a Contact or a Lead.

Zoho's activities carry two links (ZOHO_API.md, "Activities link to people and records"): `Who_Id`
is a lookup to Contacts only; any other record — a Lead among them — goes in `What_Id` with
`$se_module` naming its module. The clinic model names the patient once (its key and whether the
patient is a Contact or a Lead); this turns the resolved parent into those fields. On an update the
other link is cleared, so a patient who became a Contact since the last run is not left on both."""

from __future__ import annotations

WHO, WHAT, SE_MODULE = "Who_Id", "What_Id", "$se_module"
WHO_MODULE = "Contacts"


def link_fields(parent_module: str, parent_id: str, update: bool = False) -> dict:
    """The payload fields linking an activity to its parent record."""
    if parent_module == WHO_MODULE:
        fields: dict = {WHO: {"id": parent_id}}
        if update:
            fields[WHAT] = None
        return fields
    fields = {WHAT: {"id": parent_id}, SE_MODULE: parent_module}
    if update:
        fields[WHO] = None
    return fields


def linked_parent(record: dict) -> tuple[str | None, str | None]:
    """(module, id) of the parent a record read back from Zoho is linked to."""
    who = record.get(WHO)
    if isinstance(who, dict) and who.get("id"):
        return WHO_MODULE, str(who["id"])
    what = record.get(WHAT)
    if isinstance(what, dict) and what.get("id"):
        return record.get(SE_MODULE), str(what["id"])
    return None, None
