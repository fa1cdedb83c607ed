"""Name normalisation and Zoho API-name rules (letters, digits, underscore; starts with a letter;
no double or trailing underscore)."""

from __future__ import annotations

import re

# Abbreviations clinic exports use, spelled out before names are compared.
_EXPAND = {
    "dob": "birth date", "zip": "postal code", "addr": "address", "tel": "phone", "ph": "phone",
    "dt": "date", "amt": "amount", "pt": "patient", "prov": "provider", "desc": "description",
    "num": "number", "no": "number", "fname": "first name", "lname": "last name", "cpt": "cpt code",
}


def words(name: str) -> str:
    """`BirthDate`, `birth_date`, `BIRTH-DATE` → `birth date`."""
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    name = re.sub(r"([A-Za-z])([0-9])", r"\1 \2", name)
    tokens = [t for t in re.split(r"[^A-Za-z0-9]+", name.lower()) if t]
    return " ".join(_EXPAND.get(t, t) for t in tokens)


def singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("sses") or word.endswith("ches"):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def api_name(text: str, max_len: int = 50) -> str:
    """A valid Zoho API name from a column or label: `appointment_type` → `Appointment_Type`."""
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)) if p]
    name = "_".join(p[:1].upper() + p[1:].lower() for p in parts) or "Field"
    if not name[0].isalpha():
        name = "F_" + name
    name = re.sub(r"_+", "_", name)[:max_len].rstrip("_")
    return name


def is_valid_api_name(name: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)*", name)) and len(name) <= 50
