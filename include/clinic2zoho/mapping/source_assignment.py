"""Which header of a file is which clinic column, and which file is which clinic entity, for the
source-map proposal (source_propose.py): every pairing is scored from the header's name
(source_names.py) and its values (source_values.py), then taken best first, each column and each
entity once. A file is the entity whose columns its headers fill best, whose key it has (unique,
filled, identifier-like) and whose key other files' columns reference."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from clinic2zoho.mapping.source_files import REFERENCE, SourceFile
from clinic2zoho.mapping.source_map import CLINIC_MODEL, KEYS, NAME_PARTS
from clinic2zoho.mapping.source_names import entity_name_score, name_score, names_an_identifier
from clinic2zoho.mapping.source_values import REFERENCES, Context, combine, expected_kind, value_fit

ACCEPT = 0.5  # a column score at which a header takes a clinic column
IDENTIFIER_SCORE = 0.62  # an identifier-named header whose values are the key or a reference (review it)
ENTITY_ACCEPT = 0.4  # an entity score at which a file is taken as that entity


# ---------------------------------------------------------------------------------------------
# columns of one file as one entity

@dataclass
class Choice:
    header: str
    target: str | tuple[str, str] | None
    score: float
    reasons: list[str]
    best_other: tuple[str, float] | None = None  # the best rejected target (for a null column)
    demoted: list[str] | None = None  # reasons of a header-named target its values contradict


def _targets(entity: str) -> list[str]:
    columns = list(CLINIC_MODEL[entity])
    if set(NAME_PARTS) <= set(columns):
        columns.append("full_name")
    return columns


def map_columns(f: SourceFile, entity: str, ctx: Context) -> dict[str, Choice]:
    """Header -> choice, each clinic column taken once (best scores first)."""
    candidates = []
    best_for: dict[str, tuple[str, float]] = {}
    demoted: dict[str, list[str]] = {}
    for header in f.header:
        for column in _targets(entity):
            name, word = name_score(header, entity, column)
            fit, fit_reason = value_fit(entity, column, f, header, ctx)
            kind = expected_kind(entity, column)
            score = combine(name, fit, kind)
            reasons = [f"header {header!r} ~ {column} ({name:.0%}{', as ' + repr(word) if word and name < 1 else ''})",
                       fit_reason]
            if kind in ("key", "reference") and fit >= 0.9 and score < IDENTIFIER_SCORE and names_an_identifier(header):
                # a header that says "an identifier" (…Ref, …No, …Key) over values that are one: taken, but
                # below the review line, since the header does not say whose identifier it is
                score = IDENTIFIER_SCORE
                reasons.append("the header names an identifier and its values are one")
            if name >= 0.8 and fit < 0.3:
                reasons.append(f"demoted: the header names {column}, the values do not")
                demoted.setdefault(header, reasons)
            candidates.append((score, header, column, reasons))
            if score > best_for.get(header, ("", 0.0))[1]:
                best_for[header] = (column, score)
    candidates.sort(key=lambda c: (-c[0], f.header.index(c[1]), c[2]))
    taken_headers: set[str] = set()
    taken_columns: set[str] = set()
    out: dict[str, Choice] = {}
    for score, header, column, reasons in candidates:
        if score < ACCEPT or header in taken_headers:
            continue
        fills = NAME_PARTS if column == "full_name" else [column]
        if any(c in taken_columns for c in fills):
            continue
        taken_headers.add(header)
        taken_columns.update(fills)
        target = tuple(NAME_PARTS) if column == "full_name" else column
        out[header] = Choice(header, target, score, reasons)
    for header in f.header:
        if header not in out:
            other = best_for.get(header)
            out[header] = Choice(header, None, 0.0, [], other, demoted.get(header))
    return out


# ---------------------------------------------------------------------------------------------
# files as entities

_WEIGHTS: dict[str, float] = {}


def _column_weight(column: str) -> float:
    """Columns few entities hold say more about which entity a file is."""
    if not _WEIGHTS:
        holders = Counter(c for cols in CLINIC_MODEL.values() for c in cols)
        _WEIGHTS.update({c: 1.0 / n for c, n in holders.items()})
    return _WEIGHTS.get(column, 1.0)


@dataclass
class EntityFit:
    entity: str
    file: str
    score: float
    reasons: list[str]
    choices: dict[str, Choice]


def entity_fit(f: SourceFile, entity: str, ctx: Context, files: list[SourceFile]) -> EntityFit:
    choices = map_columns(f, entity, ctx)
    filled = {}
    for c in choices.values():
        for t in ([c.target] if isinstance(c.target, str) else list(c.target or ())):
            filled[t] = c.score
    columns = CLINIC_MODEL[entity]
    weights = {c: _column_weight(c) * (2.0 if c == KEYS[entity] else 1.0) for c in columns}
    coverage = sum(w * filled.get(c, 0.0) for c, w in weights.items()) / sum(weights.values())
    mapped = sum(1 for c in choices.values() if c.target is not None)
    precision = mapped / len(f.header) if f.header else 0.0
    name, word = entity_name_score(f.relative, entity)
    key_header = next((c.header for c in choices.values() if c.target == KEYS[entity]), None)
    key_ok = key_header is not None and key_header in f.keys
    referenced = []
    for g in files:
        if g is f:
            continue
        for ref in g.references:
            if ref.target != f.relative or ref.share < REFERENCE or ref.target_key != key_header:
                continue
            columns_pointing = [c for c, e in REFERENCES.items() if e == entity]
            if max((name_score(ref.column, entity, c)[0] for c in columns_pointing), default=0.0) >= 0.8:
                referenced.append((g.relative, ref.column, ref.share))
    score = 0.45 * coverage + 0.15 * precision + 0.2 * name + (0.1 if key_ok else 0.0) \
        + (0.1 if referenced else 0.0)
    reasons = [f"headers: {mapped} of {len(f.header)} columns name {entity} fields "
               f"({coverage:.0%} of its columns, weighted)",
               f"file name ~ {entity} ({name:.0%}{', as ' + repr(word) if word else ''})"]
    if key_ok:
        reasons.append(f"key {key_header!r}: unique, filled, identifier-like")
    elif key_header:
        reasons.append(f"key {key_header!r} is not unique and filled in the rows read")
    else:
        reasons.append(f"no column takes the key {KEYS[entity]}")
    for other, column, share in referenced[:3]:
        reasons.append(f"key referenced by {other} column {column!r} ({share:.0%} of its values found)")
    return EntityFit(entity, f.relative, score, reasons, choices)


def assign_entities(files: list[SourceFile], ctx: Context) -> tuple[dict[str, EntityFit], list[dict]]:
    """entity -> its file's fit (each entity and each file once, best scores first), and the
    files matching none."""
    fits = [entity_fit(f, e, ctx, files) for f in files for e in CLINIC_MODEL]
    fits.sort(key=lambda x: -x.score)
    chosen: dict[str, EntityFit] = {}
    used: set[str] = set()
    for fit in fits:
        if fit.score < ENTITY_ACCEPT or fit.entity in chosen or fit.file in used:
            continue
        runner = next((o for o in fits if o.file == fit.file and o.entity != fit.entity), None)
        if runner is not None:
            fit.reasons.append(f"next best entity {runner.entity} ({runner.score:.2f})")
        chosen[fit.entity] = fit
        used.add(fit.file)
    unassigned = []
    for f in files:
        if f.relative in used:
            continue
        best = next((o for o in fits if o.file == f.relative), None)
        why = (f"best fit {best.entity} ({best.score:.2f}) is below {ENTITY_ACCEPT}" if best and best.entity not in
               chosen or best and best.score < ENTITY_ACCEPT else
               f"best fit {best.entity} ({best.score:.2f}) is taken by {chosen[best.entity].file}" if best else
               "no entity fits")
        unassigned.append({"file": f.relative, "reasons": [why, f"{len(f.header)} columns, {f.rows} rows read"]})
    return chosen, unassigned
