"""How well a source column fits a target field: name similarity (rapidfuzz), type and format
fit (from the column's profile) and value overlap (for pick-lists). Each score is 0..1 and comes
with a reason a person can read."""

from __future__ import annotations

from functools import lru_cache

from rapidfuzz import fuzz, process

from clinic2zoho.mapping.catalogue import TargetField
from clinic2zoho.mapping.header_words import COLUMN_WORDS, expanded, normal
from clinic2zoho.mapping.naming import words
from clinic2zoho.mapping.profile import ColumnProfile

# inferred source type -> Zoho data type -> fit
_FIT: dict[str, dict[str, float]] = {
    "date": {"date": 1.0, "datetime": 0.7, "text": 0.4},
    "datetime": {"datetime": 1.0, "date": 0.7, "text": 0.4},
    "integer": {"integer": 1.0, "bigint": 1.0, "double": 0.9, "decimal": 0.9, "currency": 0.8,
                "text": 0.6, "picklist": 0.5, "phone": 0.7, "date": 0.3},
    "decimal": {"currency": 1.0, "double": 1.0, "decimal": 1.0, "text": 0.4},
    "email": {"email": 1.0, "ownerlookup": 0.8, "text": 0.5},
    "phone": {"phone": 1.0, "text": 0.6},
    "url": {"website": 1.0, "text": 0.6},
    "uuid": {"text": 0.8, "lookup": 0.9, "ownerlookup": 0.7, "email": 0.5},
    "boolean": {"boolean": 1.0, "picklist": 0.8, "text": 0.4},
    "text": {"text": 1.0, "textarea": 0.8, "picklist": 0.7, "multiselectpicklist": 0.6, "lookup": 0.5,
             "ownerlookup": 0.5, "email": 0.2, "phone": 0.2, "website": 0.2},
    "long_text": {"textarea": 1.0, "text": 0.5},
}

MATCH_VALUE = 85  # rapidfuzz score at which a source value is taken as a pick-list value


@lru_cache(maxsize=None)
def header_reading(column: str) -> str | None:
    """The clinic column a header names in the words vendors use (header_words.py: `Street
    Address` → address_line, `Geburtsdatum` → birth_date), when the words name exactly one."""
    form = normal(column)
    forms = {form, expanded(form)}
    hits = {key.split(".")[-1] for key, words_ in COLUMN_WORDS.items()
            if forms & {normal(w) for w in (key.split(".")[-1], *words_)}}
    return hits.pop() if len(hits) == 1 else None


def name_score(column: str, target: TargetField) -> tuple[float, str]:
    """Best similarity of the column name (or the clinic column its header words name) to the
    field's API name, label or aliases."""
    score, reason = _name_score(column, target)
    reading = header_reading(column)
    if reading and normal(reading) != normal(column):
        read_score, read_reason = _name_score(reading, target)
        if read_score > score:
            return read_score, f"header {column!r} reads as {reading!r}; {read_reason}"
    return score, reason


def _name_score(column: str, target: TargetField) -> tuple[float, str]:
    col = words(column)
    col_flat = col.replace(" ", "")
    best, best_name = 0.0, target.api_name
    for candidate in [target.api_name, target.label or "", *target.aliases]:
        if not candidate:
            continue
        cand = words(candidate)
        score = max(fuzz.ratio(col, cand), fuzz.ratio(col_flat, cand.replace(" ", "")),
                    0.95 * fuzz.token_sort_ratio(col, cand))
        if score > best:
            best, best_name = score, candidate
    return best / 100.0, f"name {column!r} ~ {best_name!r} ({best:.0f})"


def type_score(profile: ColumnProfile, target: TargetField) -> tuple[float, str]:
    source = profile.inferred_type
    if source == "empty":
        return 0.5, "type: column is empty"
    if profile.is_categorical and target.data_type in {"picklist", "multiselectpicklist"}:
        return 1.0, f"type: {profile.distinct} distinct values fit a pick-list"
    fit = _FIT.get(source, {}).get(target.data_type, 0.1)
    if fit >= 0.5 and target.length and profile.max_length > target.length:
        fit *= 0.6
        return fit, f"type: {source} fits {target.data_type}, but values reach {profile.max_length} > {target.length} chars"
    return fit, f"type: {source} {'fits' if fit >= 0.7 else 'weakly fits' if fit >= 0.4 else 'does not fit'} {target.data_type}"


def _norm(value: str) -> str:
    return words(value)


def match_value(value: str, choices: list[str], aliases: dict[str, list[str]] | None = None) -> tuple[str | None, float]:
    """The pick-list value a source value stands for: by synonym, code letter, spelling, or a
    value named inside it (`http://snomed.info/sct` → SNOMED)."""
    if not choices:
        return None, 0.0
    for choice, words_ in (aliases or {}).items():
        if _norm(value) in {_norm(w) for w in words_} and choice in choices:
            return choice, 0.95
    if len(value) <= 2:  # codes such as M / F: the one choice the code abbreviates
        starts = [c for c in choices if c.lower().startswith(value.lower())]
        if len(starts) == 1:
            return starts[0], 0.9
    hit = process.extractOne(value, choices, scorer=fuzz.ratio, processor=_norm)
    if hit and hit[1] >= MATCH_VALUE:
        return hit[0], hit[1] / 100.0
    inside = [c for c in choices if len(c) >= 3 and _norm(c) in _norm(value).split()]
    if len(inside) == 1:
        return inside[0], 0.9
    return None, (hit[1] / 100.0 if hit else 0.0)


def value_score(profile: ColumnProfile, target: TargetField) -> tuple[float, str] | None:
    """Share of the column's rows whose value matches one of the field's pick-list values."""
    if not target.values or not profile.values:
        return None
    total = sum(n for _, n in profile.values)
    hit = sum(n for v, n in profile.values if match_value(v, target.values, target.value_aliases)[0] is not None)
    share = hit / total if total else 0.0
    return share, f"values: {share:.0%} of rows match the pick-list's values"


NAME_FLOOR = 0.75  # below this name similarity a field is taken only when its values agree


def fit(profile: ColumnProfile, target: TargetField) -> tuple[float, list[str]]:
    """Confidence that `profile` maps onto `target`, with the reasons. A weak name caps the
    score below acceptance unless the values themselves match the field's pick-list."""
    name, name_reason = name_score(profile.name, target)
    typ, type_reason = type_score(profile, target)
    values = value_score(profile, target)
    if values is None:
        score = 0.7 * name + 0.3 * typ
        if name < NAME_FLOOR or typ < 0.5:
            score = min(score, 0.55)
        return score, [name_reason, type_reason]
    score = 0.55 * name + 0.2 * typ + 0.25 * values[0]
    if (name < NAME_FLOOR and values[0] < 0.8) or typ < 0.5:
        score = min(score, 0.55)
    return score, [name_reason, type_reason, values[1]]


def value_map(profile_values: list[tuple[str, int]], target_values: list[str],
              aliases: dict[str, list[str]] | None = None) -> list[dict]:
    """Source value → Zoho value; values with no match become new pick-list values (flagged)."""
    out = []
    for value, count in profile_values:
        zoho, score = match_value(value, target_values, aliases)
        if zoho is not None:
            out.append({"source": value, "zoho": zoho, "rows": count})
        else:
            out.append({"source": value, "zoho": new_value_label(value), "rows": count, "new": True})
    return out


def new_value_label(value: str) -> str:
    """`partially_paid` → `Partially Paid`; values already in mixed case stay as they are."""
    text = value.replace("_", " ").strip()
    return text if any(c.isupper() for c in text) else " ".join(w[:1].upper() + w[1:] for w in text.split(" "))
