"""Comparing an expected value (a cell of a zoho_* dbt table) with what Zoho holds.

Zoho answers in its own representation: lookups as `{"id", "name"}`, owners as user objects,
datetimes with the user's offset, numbers as floats, multi-select pick-lists as lists. The rules
here bring both sides to one form before comparing, so a difference is a real difference."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

NUMBER_TYPES = frozenset({"integer", "bigint", "double", "decimal", "currency", "percent", "long"})
LOOKUP_TYPES = frozenset({"lookup", "ownerlookup", "userlookup"})

# outcome of one field comparison
MATCH, MISMATCH, NO_FIELD, NOT_LOADED, MISSING_RECORD = "match", "mismatch", "no_field", "not_loaded", "missing_record"


@dataclass(frozen=True)
class Verdict:
    ok: bool
    expected: str  # both sides as shown in the reports
    actual: str


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _text(value: Any) -> str:
    return str(value).replace("\r\n", "\n").strip()


def _number(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None


def _instant(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def _day(value: Any) -> str | None:
    if isinstance(value, (date, datetime)):
        return value.isoformat()[:10]
    try:
        return date.fromisoformat(str(value).strip()[:10]).isoformat()
    except ValueError:
        return None


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    return {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}.get(text)


def _values(value: Any) -> set[str]:
    if isinstance(value, list):
        return {_text(v.get("name") if isinstance(v, dict) else v) for v in value}
    return {_text(v) for v in str(value).split(";") if _text(v)}


def compare_scalar(expected: Any, actual: Any, data_type: str) -> Verdict:
    """Plain fields (text, pick-list, number, date, datetime, boolean, multi-select)."""
    exp_s, act_s = show(expected), show(actual)
    if _blank(expected) or _blank(actual):
        return Verdict(_blank(expected) and _blank(actual), exp_s, act_s)
    if data_type in NUMBER_TYPES or isinstance(expected, (int, float, Decimal)) and not isinstance(expected, bool):
        a, b = _number(expected), _number(actual)
        if a is not None and b is not None:
            places = Decimal("0.01") if data_type in ("currency", "decimal", "double", "percent") else Decimal("0.000001")
            return Verdict(abs(a - b) < places, exp_s, act_s)
    if data_type == "datetime":
        a, b = _instant(expected), _instant(actual)
        if a is not None and b is not None and a.tzinfo is not None and b.tzinfo is not None:
            return Verdict(a == b, exp_s, act_s)  # the same instant, whatever offset Zoho shows it in
        return Verdict(False, exp_s, act_s)
    if data_type == "date":
        a, b = _day(expected), _day(actual)
        return Verdict(a is not None and a == b, exp_s, act_s)
    if data_type == "boolean":
        return Verdict(_bool(expected) == _bool(actual), exp_s, act_s)
    if data_type == "multiselectpicklist" or isinstance(actual, list):
        return Verdict(_values(expected) == _values(actual), exp_s, act_s)
    if isinstance(actual, dict):  # a lookup-like answer where a plain value was expected
        return Verdict(_text(expected) == _text(actual.get("name", "")), exp_s, act_s)
    return Verdict(_text(expected) == _text(actual), exp_s, act_s)


def compare_lookup(expected_key: Any, actual: Any, expected_id: Callable[[str], str | None],
                   key_of: Callable[[str], str | None]) -> Verdict:
    """A lookup: the table holds the target's clinic key, Zoho `{"id", "name"}`. `expected_id`
    turns the key into the target's Zoho id (crosswalk); `key_of` names Zoho's id in clinic keys
    for the report."""
    actual_id = str(actual.get("id")) if isinstance(actual, dict) and actual.get("id") else (
        str(actual) if not _blank(actual) and not isinstance(actual, dict) else None)
    actual_key = key_of(actual_id) if actual_id else None
    act_s = "" if actual_id is None else (f"{actual_key} (id {actual_id})" if actual_key else f"id {actual_id}")
    if _blank(expected_key):
        return Verdict(actual_id is None, "", act_s)
    want = expected_id(str(expected_key))
    exp_s = f"{expected_key} (id {want})" if want else f"{expected_key} (not in Zoho)"
    return Verdict(want is not None and want == actual_id, exp_s, act_s)


def compare_owner(expected_email: Any, actual: Any, email_of: Callable[[str], str | None],
                  loading_user: str | None = None) -> Verdict:
    """The owner: the table holds the provider's email, Zoho a user `{"id", "name", "email"}`. An
    empty email means the loading user (`loading_user`, its email) owns the record."""
    actual_id = str(actual.get("id")) if isinstance(actual, dict) and actual.get("id") else None
    actual_email = (actual.get("email") if isinstance(actual, dict) else None) or (
        email_of(actual_id) if actual_id else None)
    exp = "" if _blank(expected_email) else str(expected_email).strip().lower()
    act = (actual_email or "").strip().lower()
    act_s = act if act else (f"user id {actual_id}" if actual_id else "")
    if not exp and loading_user:
        want = loading_user.strip().lower()
        return Verdict(act == want, f"{want} (the loading user)", act_s)
    return Verdict(exp == act if exp else not act, exp, act_s)


def compare_line_items(expected: Any, actual: Any, product_id: Callable[[str], str | None]) -> Verdict:
    """A line-item subform (Invoiced_Items): the same number of lines, and on each line every key
    the table sets (Product_Name by name, resolved to the product's id)."""
    try:
        lines = json.loads(expected) if isinstance(expected, str) else (expected or [])
    except json.JSONDecodeError:
        return Verdict(False, show(expected), show(actual))
    got = actual if isinstance(actual, list) else []
    exp_s, act_s = show(lines), show(got)
    if len(lines) != len(got):
        return Verdict(False, exp_s, act_s)
    for want, have in zip(lines, got):
        for key, value in want.items():
            if key == "Product_Name":
                name = value.get("name") if isinstance(value, dict) else value
                pid = value.get("id") if isinstance(value, dict) and value.get("id") else product_id(str(name))
                have_id = have.get(key, {}).get("id") if isinstance(have.get(key), dict) else have.get(key)
                if pid is None or str(pid) != str(have_id):
                    return Verdict(False, exp_s, act_s)
            elif not compare_scalar(value, have.get(key), "double" if isinstance(value, (int, float)) else "text").ok:
                return Verdict(False, exp_s, act_s)
    return Verdict(True, exp_s, act_s)
