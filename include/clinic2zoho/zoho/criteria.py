"""Zoho search criteria: `(Field:operator:value)` groups joined by `and`/`or`.

Zoho reads parentheses and commas inside a value as syntax unless escaped with a backslash."""

from __future__ import annotations

from collections.abc import Iterable

from clinic2zoho.zoho.facts import SEARCH_CRITERIA


def escape_value(value: object) -> str:
    text = str(value)
    for char in ("\\", "(", ")", ","):
        text = text.replace(char, "\\" + char)
    return text


def equals(field: str, value: object) -> str:
    return f"({field}:equals:{escape_value(value)})"


def any_equals(field: str, values: Iterable[object]) -> str:
    """`(F:equals:a)or(F:equals:b)...` wrapped as one group; at most SEARCH_CRITERIA values."""
    parts = [equals(field, v) for v in values]
    if not parts:
        raise ValueError("any_equals needs at least one value")
    if len(parts) > SEARCH_CRITERIA:
        raise ValueError(f"Zoho allows at most {SEARCH_CRITERIA} criteria in one search, got {len(parts)}")
    return parts[0] if len(parts) == 1 else "(" + "or".join(parts) + ")"
