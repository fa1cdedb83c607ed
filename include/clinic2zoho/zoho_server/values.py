"""Checking one field value the way Zoho does: types, lengths, formats, lookups. A failed check
raises `FieldError` carrying Zoho's per-record error (code, message, details)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Callable

from .schema import FieldSpec

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Zoho: datetimes are yyyy-MM-ddTHH:mm:ss±HH:mm (ZOHO_API.md; record.json's date-time fields,
# https://www.zoho.com/crm/developer/docs/api/v8/insert-records.html); no `Z`, no fractions.
DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")
INT_RE = re.compile(r"^[+-]?\d+$")
NUM_RE = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)$")
INVALID_ID = "the id given seems to be invalid"


class FieldError(Exception):
    def __init__(self, code: str, message: str, details: dict[str, Any]) -> None:
        super().__init__(code)
        self.code, self.message, self.details = code, message, details

    def as_result(self) -> dict[str, Any]:
        return {"code": self.code, "details": self.details, "message": self.message, "status": "error"}


def invalid(spec: FieldSpec, path: str, **extra: Any) -> FieldError:
    return FieldError("INVALID_DATA", "invalid data", {"api_name": spec.api_name, "json_path": path, **extra})


def mandatory(api_name: str, path: str) -> FieldError:
    return FieldError("MANDATORY_NOT_FOUND", "required field not found", {"api_name": api_name, "json_path": path})


def _text(spec: FieldSpec, value: Any, path: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise invalid(spec, path, expected_data_type=spec.data_type)
    text = value if isinstance(value, str) else str(value)
    if spec.length and len(text) > spec.length:
        raise invalid(spec, path, maximum_length=str(spec.length))
    return text


def check_value(spec: FieldSpec, value: Any, path: str, exists: Callable[[str, str], bool],
                user_ok: Callable[[str], bool], restricted_picklists: bool = False) -> Any:
    """The stored form of `value` for field `spec`, or FieldError. `exists(module, id)` checks lookups."""
    dt = spec.data_type
    if dt in ("text", "textarea", "phone", "website", "autonumber"):
        return _text(spec, value, path)
    if dt == "email":
        text = _text(spec, value, path)
        if not EMAIL_RE.match(text):
            raise invalid(spec, path, expected_data_type="email")
        return text
    if dt in ("integer", "bigint"):
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and INT_RE.match(value))):
            raise invalid(spec, path, expected_data_type=dt)
        number = int(value)
        if dt == "integer" and len(str(abs(number))) > (spec.length or 9):
            raise invalid(spec, path, maximum_length=str(spec.length or 9))
        return number if dt == "integer" else str(number)
    if dt in ("double", "decimal", "currency", "percent"):
        if isinstance(value, bool) or not (isinstance(value, (int, float)) or (isinstance(value, str) and NUM_RE.match(value))):
            raise invalid(spec, path, expected_data_type="double")
        return float(value)
    if dt == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise invalid(spec, path, expected_data_type="boolean")
    if dt == "date":
        if not isinstance(value, str) or not DATE_RE.match(value):
            raise invalid(spec, path, expected_data_type="date")
        try:
            date.fromisoformat(value)
        except ValueError:
            raise invalid(spec, path, expected_data_type="date") from None
        return value
    if dt == "datetime":
        # Zoho wants yyyy-MM-ddTHH:mm:ss±HH:mm; no offset, `Z` or fractional seconds is INVALID_DATA
        if not isinstance(value, str) or not DATETIME_RE.match(value):
            raise invalid(spec, path, expected_data_type="datetime")
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise invalid(spec, path, expected_data_type="datetime") from None
        return value
    if dt == "picklist":
        text = _text(spec, value, path)
        if restricted_picklists and spec.picklist and text not in spec.picklist:
            raise invalid(spec, path)
        return text
    if dt == "multiselectpicklist":
        items = value.split(";") if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
            raise invalid(spec, path, expected_data_type="jsonarray")
        if restricted_picklists and spec.picklist and any(v not in spec.picklist for v in items):
            raise invalid(spec, path)
        return items
    if dt == "lookup":
        rid = _ref_id(spec, value, path)
        if not exists(spec.lookup_module or "", rid):
            raise FieldError("INVALID_DATA", INVALID_ID, {"api_name": spec.api_name, "json_path": path, "id": rid})
        return {"id": rid}
    if dt in ("ownerlookup", "userlookup"):
        rid = _ref_id(spec, value, path)
        if not user_ok(rid):
            raise FieldError("INVALID_DATA", INVALID_ID, {"api_name": spec.api_name, "json_path": path, "id": rid})
        return {"id": rid}
    if dt == "participants":
        if not isinstance(value, list) or len(value) > 50 or not all(isinstance(p, dict) for p in value):
            raise invalid(spec, path, expected_data_type="jsonarray")
        return value
    raise invalid(spec, path)


def _ref_id(spec: FieldSpec, value: Any, path: str) -> str:
    if isinstance(value, dict):
        value = value.get("id")
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
        raise invalid(spec, path, expected_data_type="jsonobject")
    return str(value).strip()
