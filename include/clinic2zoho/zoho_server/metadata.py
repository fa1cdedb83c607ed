"""Org, users and module/field metadata: seeding a fresh org, and creating custom modules and
fields with Zoho's rules (API names, types, lengths, unique and External ID fields)."""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path
from typing import Any

from . import profiles, schema
from .settings import EDITION_CUSTOM_FIELDS
from .store import ID_BASE, Store

MAX_UNIQUE_FIELDS = 2
TEXT_MAX = {"text": 255, "textarea": 32_000, "email": 100, "phone": 30, "website": 255, "integer": 9,
            "bigint": 18, "double": 16, "decimal": 16, "currency": 16, "percent": 5, "picklist": 120,
            "multiselectpicklist": 2_000}
NO_EXTERNAL = {"email", "textarea", "boolean", "picklist", "multiselectpicklist", "lookup", "date", "datetime",
               "currency", "double", "decimal", "percent"}
NO_UNIQUE = {"textarea", "boolean", "picklist", "multiselectpicklist", "lookup", "date", "datetime"}


class MetadataError(Exception):
    def __init__(self, code: str, message: str, details: dict[str, Any], status: int = 400) -> None:
        super().__init__(code)
        self.code, self.message, self.details, self.status = code, message, details, status

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "details": self.details, "message": self.message, "status": "error"}


def user_id_for(email: str) -> str:
    """A stable id for a user given without one, so a restart with the same file keeps ids."""
    digest = int(hashlib.sha256(email.lower().encode()).hexdigest()[:12], 16) % 10**11
    return str(ID_BASE - 10**12 + digest)


def load_users(path: str | Path) -> list[dict[str, Any]]:
    """Read a users file: a JSON list of {id?, email, full_name, status, profile?, role?}."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable JSON users file ({exc.__class__.__name__})") from None
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"{path}: expected a non-empty JSON list of users")
    users = []
    seen: set[str] = set()
    for n, item in enumerate(raw, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("email"), str) or "@" not in item["email"]:
            raise ValueError(f"{path}: user {n}: field 'email' is missing or not an email")
        uid = str(item.get("id") or user_id_for(item["email"]))
        if uid in seen:
            raise ValueError(f"{path}: user {n}: field 'id' repeats id {uid}")
        seen.add(uid)
        users.append(user_json(uid, item))
    if not any(u["profile"]["name"] == "Administrator" for u in users):
        first_active = next((u for u in users if u["status"] == "active"), users[0])
        first_active["profile"] = {"name": "Administrator", "id": str(ID_BASE - 2)}
        first_active["role"] = {"name": "CEO", "id": str(ID_BASE - 3)}
    return users


def user_json(uid: str, item: dict[str, Any]) -> dict[str, Any]:
    full_name = str(item.get("full_name") or item["email"].split("@")[0])
    first, _, last = full_name.partition(" ")
    status = str(item.get("status") or "active").lower()
    profile = item.get("profile")
    profile_name = profile.get("name") if isinstance(profile, dict) else profile
    admin = profile_name == "Administrator" or item.get("admin") is True
    return {
        "id": uid, "email": item["email"], "full_name": full_name, "first_name": first if last else None,
        "last_name": last or first, "status": status,
        # a users file's staff accepted their invitations long ago (deactivated ones too); "confirm": false
        # in the file models an invitation still open (users.py)
        "confirm": item.get("confirm") is not False,
        "profile": {"name": "Administrator" if admin else (profile_name or "Standard"), "id": str(ID_BASE - (2 if admin else 4))},
        "role": {"name": "CEO" if admin else str(item.get("role") or "Manager"), "id": str(ID_BASE - (3 if admin else 5))},
        "locale": "en_US", "language": "en_US", "country": "US",
        "zuid": uid[-8:], "type": "AdminUsers" if admin else "ActiveUsers",
    }


DEFAULT_USERS = [{"email": "admin@clinic.example", "full_name": "Clinic Admin", "status": "active", "profile": "Administrator"}]


def module_json(mid: str, api_name: str, singular: str, plural: str, custom: bool, seq: int) -> dict[str, Any]:
    return {
        "id": mid, "api_name": api_name, "module_name": api_name, "singular_label": singular, "plural_label": plural,
        "generated_type": "custom" if custom else "default", "api_supported": True, "creatable": True, "editable": True,
        "deletable": True, "viewable": True, "visible": True, "status": "visible", "sequence_number": seq,
        "global_search_supported": True, "quick_create": True,
        "show_as_tab": True, "convertable": api_name == "Leads", "feeds_required": False, "filter_supported": True,
        "description": None, "profiles": [{"name": "Administrator", "id": str(ID_BASE - 2)}],
    }


def new_org_id() -> str:
    """Every org its own id (and zgid, its last nine digits), as in Zoho: a sandbox and its
    production org are told apart by GET /org. Below record ids, above user ids."""
    return str(ID_BASE - 1 - 1000 * secrets.randbelow(10**6))


def seed(store: Store, users: list[dict[str, Any]] | None) -> None:
    """Seed a fresh state file (org, standard modules); (re)load users when a file is given."""
    store.begin()
    if users is not None or not store.users:
        store.save_users(users if users is not None else load_users_inline(DEFAULT_USERS))
    if "org_id" not in store.kv:
        store.set_kv("org_id", new_org_id())
        module_ids = {}
        for seq, (api, (singular, _)) in enumerate(schema.STANDARD_MODULES.items(), start=1):
            module_ids[api] = store.next_id()
        for seq, (api, (singular, fields)) in enumerate(schema.STANDARD_MODULES.items(), start=1):
            store.save_module(module_json(module_ids[api], api, singular, api, False, seq))
            defs = ([] if api == "Notes" else schema.owner_fields()[:1]) + fields + schema.owner_fields()[1:]
            for spec in defs:
                fj = schema.field_json(store.next_id(), spec, False, module_ids)
                if spec["api_name"] == "Invoiced_Items":
                    fj["subform_fields"] = [schema.field_json(store.next_id(), s, False, module_ids) for s in schema.INVOICED_ITEMS]
                store.save_field(api, fj)
            if api in ("Leads", "Contacts"):
                store.save_field(api, schema.field_json(store.next_id(), {"api_name": "Full_Name", "data_type": "text",
                                 "length": 161, "read_only": True, "label": "Full Name"}, False, module_ids))
    store.commit()
    for module in store.modules:
        store.rebuild_specs(module)


def load_users_inline(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    users = [user_json(str(i.get("id") or user_id_for(i["email"])), i) for i in items]
    return users


# ---- custom modules and fields ----------------------------------------------------------------------
def create_module(store: Store, spec: Any) -> dict[str, Any]:
    if not isinstance(spec, dict):
        raise MetadataError("INVALID_DATA", "invalid data", {"expected_data_type": "jsonobject"})
    singular, plural = spec.get("singular_label"), spec.get("plural_label")
    for key, value in (("singular_label", singular), ("plural_label", plural)):
        if not isinstance(value, str) or not value.strip():
            raise MetadataError("MANDATORY_NOT_FOUND", "required field not found", {"api_name": key})
        if len(value) > 25:
            raise MetadataError("INVALID_DATA", "invalid data", {"api_name": key, "maximum_length": 25})
    api_name = spec.get("api_name") or schema.to_api_name(plural)
    if not isinstance(api_name, str) or not schema.valid_api_name(api_name, 50) or "__" in api_name:
        raise MetadataError("INVALID_DATA", "invalid data", {"api_name": "api_name", "reason": "letters, digits and single underscores; starts with a letter; at most 50"})
    if api_name.lower() in {m.lower() for m in store.modules}:
        raise MetadataError("DUPLICATE_DATA", "duplicate data", {"api_name": "api_name"})
    try:  # Zoho's v8 "Create Custom Module": profiles name existing profiles (GET /settings/profiles)
        granted = profiles.module_profiles(store, spec.get("profiles"))
    except LookupError:
        raise MetadataError("MANDATORY_NOT_FOUND", "required field not found", {"api_name": "profiles"}) from None
    except ValueError:  # *unverified*: the details Zoho gives for an unknown profile
        raise MetadataError("INVALID_DATA", "invalid data", {"api_name": "profiles"}) from None
    store.begin()
    mid = store.next_id()
    made = module_json(mid, api_name, singular, plural, True, len(store.modules) + 1)
    made["profiles"] = granted
    store.save_module(made)
    ids = {m: store.modules[m]["id"] for m in store.modules}
    defs = [schema.owner_fields()[0], schema._f("Name", "text", 120, mandatory=True, label=f"{singular} Name"),
            schema._f("Email", "email"), schema._f("Secondary_Email", "email"), schema._f("Email_Opt_Out", "boolean"),
            *schema.owner_fields()[1:]]
    for d in defs:
        store.save_field(api_name, schema.field_json(store.next_id(), d, False, ids))
    store.commit()
    store.rebuild_specs(api_name)
    return {"id": mid, "api_name": api_name}


def create_field(store: Store, module: str, spec: Any, edition: str) -> dict[str, Any]:
    if not isinstance(spec, dict):
        raise MetadataError("INVALID_DATA", "invalid data", {"expected_data_type": "jsonobject"})
    label = spec.get("field_label")
    if not isinstance(label, str) or not label.strip():
        raise MetadataError("MANDATORY_NOT_FOUND", "required field not found", {"api_name": "field_label"})
    dtype = spec.get("data_type")
    if dtype not in schema.CREATABLE_TYPES:
        raise MetadataError("INVALID_DATA", "invalid data", {"api_name": "data_type", "expected_data_type": "one of " + ", ".join(sorted(schema.CREATABLE_TYPES))})
    dtype = "website" if dtype == "url" else dtype
    api_name = spec.get("api_name") or schema.to_api_name(label)
    if not schema.valid_api_name(api_name, 100):
        raise MetadataError("INVALID_DATA", "invalid data", {"api_name": "api_name", "reason": "letters, digits and single underscores; starts with a letter"})
    if api_name.lower() in {f["api_name"].lower() for f in store.fields[module]}:
        raise MetadataError("DUPLICATE_DATA", "duplicate data", {"api_name": "field_label"})
    custom = [f for f in store.fields[module] if f.get("custom_field")]
    if len(custom) >= EDITION_CUSTOM_FIELDS.get(edition, 300):
        raise MetadataError("LIMIT_EXCEEDED", "Max field limit exceeded", {"limit": EDITION_CUSTOM_FIELDS.get(edition, 300)})
    length = spec.get("length")
    if length is not None:
        if not isinstance(length, int) or length < 1 or length > TEXT_MAX.get(dtype, 0):
            raise MetadataError("INVALID_DATA", "invalid data", {"api_name": "length", "maximum_length": TEXT_MAX.get(dtype, 0)})
    unique = spec.get("unique") not in (None, False)
    external = spec.get("external")
    if unique:
        if dtype in NO_UNIQUE:
            raise MetadataError("INVALID_DATA", "invalid data", {"api_name": "unique", "reason": f"{dtype} fields cannot be unique"})
        if sum(1 for f in custom if f.get("unique")) >= MAX_UNIQUE_FIELDS:
            raise MetadataError("LIMIT_EXCEEDED", "Max field limit exceeded", {"api_name": "unique", "limit": MAX_UNIQUE_FIELDS})
    if external:
        if dtype in NO_EXTERNAL:
            raise MetadataError("INVALID_DATA", "invalid data", {"api_name": "external", "reason": f"{dtype} fields cannot be External ID fields"})
        if not isinstance(external, dict) or external.get("type", "org") not in ("org", "user"):
            raise MetadataError("INVALID_DATA", "invalid data", {"api_name": "external", "expected_data_type": "jsonobject"})
    picklist = None
    if dtype in ("picklist", "multiselectpicklist"):
        values = spec.get("pick_list_values")
        if not isinstance(values, list) or not values:
            raise MetadataError("MANDATORY_NOT_FOUND", "required field not found", {"api_name": "pick_list_values"})
        picklist = []
        for v in values:
            text = v.get("actual_value") or v.get("display_value") if isinstance(v, dict) else v
            if not isinstance(text, str) or not text:
                raise MetadataError("INVALID_DATA", "invalid data", {"api_name": "pick_list_values"})
            picklist.append(text)
    target = None
    if dtype == "lookup":
        target = ((spec.get("lookup") or {}).get("module") or {}).get("api_name") if isinstance(spec.get("lookup"), dict) else None
        if target not in store.modules:
            raise MetadataError("INVALID_DATA", "invalid data", {"api_name": "lookup", "reason": "lookup.module.api_name names no module"})
    store.begin()
    fid = store.next_id()
    ids = {m: store.modules[m]["id"] for m in store.modules}
    fj = schema.field_json(fid, schema._f(api_name, dtype, length, bool(spec.get("system_mandatory")), target, picklist,
                                          label=label), True, ids)
    if unique:
        fj["unique"] = {"casesensitive": str(bool((spec.get("unique") or {}).get("casesensitive", False)) if isinstance(spec.get("unique"), dict) else False).lower()}
    if external:
        fj["external"] = {"type": external.get("type", "org"), "show": bool(external.get("show", True))}
        fj["unique"] = {"casesensitive": "false"}
    store.save_field(module, fj)
    store.commit()
    store.index.pop((module, api_name), None)
    store.rebuild_specs(module)
    return fj


def update_field(store: Store, module: str, field_id: str, spec: Any) -> dict[str, Any]:
    """PATCH a field: add pick-list values (entries without id), rename display values, drop
    (`_delete`), change the label or length."""
    fj = next((f for f in store.fields[module] if f["id"] == field_id or f["api_name"] == field_id), None)
    if fj is None:
        raise MetadataError("INVALID_DATA", "the id given seems to be invalid", {"api_name": "id", "id": field_id})
    if not isinstance(spec, dict):
        raise MetadataError("INVALID_DATA", "invalid data", {"expected_data_type": "jsonobject"})
    fj = json.loads(json.dumps(fj))
    if isinstance(spec.get("field_label"), str):
        fj["field_label"] = fj["display_label"] = spec["field_label"]
    if isinstance(spec.get("length"), int):
        fj["length"] = spec["length"]
    values = spec.get("pick_list_values")
    if values is not None:
        if fj["data_type"] not in ("picklist", "multiselectpicklist") or not isinstance(values, list):
            raise MetadataError("INVALID_DATA", "invalid data", {"api_name": "pick_list_values"})
        current = fj["pick_list_values"]
        for v in values:
            if not isinstance(v, dict):
                raise MetadataError("INVALID_DATA", "invalid data", {"api_name": "pick_list_values"})
            existing = next((p for p in current if v.get("id") and p["id"] == v["id"]
                             or v.get("actual_value") and p["actual_value"] == v["actual_value"]), None)
            if "_delete" in v and v["_delete"] is not False and existing is not None:
                current.remove(existing)
            elif existing is not None:
                existing["display_value"] = v.get("display_value", existing["display_value"])
            else:
                text = v.get("actual_value") or v.get("display_value")
                if not isinstance(text, str) or not text:
                    raise MetadataError("INVALID_DATA", "invalid data", {"api_name": "pick_list_values"})
                current.append({"display_value": v.get("display_value") or text, "actual_value": text,
                                "id": store.next_id(), "sequence_number": len(current) + 1, "type": "used"})
    store.begin()
    store.save_field(module, fj)
    store.commit()
    store.rebuild_specs(module)
    return fj


def delete_field(store: Store, module: str, field_id: str) -> dict[str, Any]:
    """DELETE /settings/fields/{field_id}?module=X (Zoho's "Delete Custom Fields"): by id only;
    system-defined fields are NOT_ALLOWED; the field's values go with it."""
    fj = next((f for f in store.fields[module] if f["id"] == field_id), None)
    if fj is None:
        raise MetadataError("INVALID_DATA", "the id given seems to be invalid", {"resource_path_index": 2})
    if not fj.get("custom_field"):
        raise MetadataError("NOT_ALLOWED", "Only the custom fields can be deleted", {"resource_path_index": 2})
    store.begin()
    store.drop_field(module, fj["api_name"])
    store.commit()
    store.rebuild_specs(module)
    return fj
