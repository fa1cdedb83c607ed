"""Column and entity names as the raw contract spells them: lower snake_case."""

from __future__ import annotations

import re

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NON_WORD = re.compile(r"[^0-9a-zA-Z]+")


def snake(name: str) -> str:
    """`Id` -> `id`, `PATIENTID` -> `patientid`, `START_YEAR` -> `start_year`,
    `PatientId` -> `patient_id`, `Birth Date` -> `birth_date`."""
    text = _CAMEL.sub("_", name.strip().lstrip("\ufeff"))
    text = _NON_WORD.sub("_", text).strip("_").lower()
    if text and text[0].isdigit():
        text = f"c_{text}"
    return text


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
