"""The source-map proposal (docs/source_map.md) for an export folder of delimited files in any
vendor layout, with or without a manifest: which file is which clinic entity, which header is
which clinic column, how its text is parsed and which values mean which, and the clinic's time
zone. Every choice carries a confidence (0..1) and reasons with counts and shares, never a
patient's value.

How it decides:
- a header is compared with the clinic column's words (header_words.py: English, abbreviations,
  German, Spanish) and its values with what the column holds (detectors.py); a name the values
  contradict is demoted with the evidence, and values alone propose a column only where they are
  distinctive (e-mails, dates, NPIs, a reference to another file's key, ...);
- a file is the entity whose columns its headers and values fill best, whose key it has (unique,
  filled, identifier-like) and whose key other files' columns reference (value overlap); each
  entity is one file at most; a manifest a clinic wrote decides the files and keys;
- parse rules follow the clinic column's kind; a date order no value decides is taken from the
  export's other date columns, else the country, and marked ambiguous."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

from clinic2zoho.landing.errors import LandingError
from clinic2zoho.landing.paths import inside_export
from clinic2zoho.mapping.detectors import ValueProfile, boolean_values
from clinic2zoho.mapping.header_words import KEY_WORDS, column_words, entity_words, expanded, normal
from clinic2zoho.mapping.source_files import REFERENCE, SourceFile, read_export
from clinic2zoho.mapping.source_map import CLINIC_MODEL, COLUMN_KINDS, KEYS, NAME_PARTS, check, export_name, \
    new_source_map
from clinic2zoho.mapping.value_words import flag_values, is_picklist, value_map

from clinic2zoho.mapping import timezone as zones
from clinic2zoho.mapping.detectors import read_state

__all__ = ["propose_source_map", "propose_timezone"]

ACCEPT = 0.5  # a column score at which a header takes a clinic column
IDENTIFIER_SCORE = 0.62  # an identifier-named header whose values are the key or a reference (review it)
_IDENTIFIER_WORDS = {"id", "ref", "reference", "no", "nr", "number", "num", "key", "code", "identifier"}
ENTITY_ACCEPT = 0.4  # an entity score at which a file is taken as that entity
AMBIGUOUS_CAP = 0.6  # confidence of a date order no value decides

# clinic column holding another entity's key -> that entity
REFERENCES = {"patient_id": "patients", "provider_id": "providers", "primary_provider_id": "providers",
              "coordinator_provider_id": "providers", "clinic_id": "clinics", "appointment_id": "appointments",
              "referral_source_id": "referral_sources", "program_id": "care_programs"}
# what a clinic column's values look like (columns not listed: short labels)
EXPECT = {
    "email": "email", "phone": "phone", "website": "url", "npi": "npi", "cpt_code": "cpt", "postal_code": "postal",
    "state": "state", "city": "place", "address_line": "address", "first_name": "name_word",
    "last_name": "name_word", "subscriber_name": "person_name", "sex": "sex", "size_bytes": "integer",
    "mime_type": "mime", "file_name": "file_name", "file_path": "file_path", "content": "long_text",
    "description": "text", "reason": "text", "code": "code", "policy_number": "identifier",
    "group_id": "identifier", "body": "long_text", "subject": "text",
    **{c: k for c, k in COLUMN_KINDS.items() if k in ("date", "datetime", "amount", "boolean", "integer")},
}
# values alone may propose these (a weak header still takes the column when the values agree)
DISTINCTIVE = {"email", "url", "npi", "sex", "mime", "file_path", "date", "datetime", "reference",
               "long_text", "amount", "phone", "postal", "state"}


# ---------------------------------------------------------------------------------------------
# names

@lru_cache(maxsize=None)
def _stripped(form: str, entity: str) -> str:
    """The header without a leading word naming its own entity (`patient first name` → `first name`)."""
    own = {w for w in entity_words(entity) if " " not in w} | {"patient"} & set(entity_words(entity))
    tokens = form.split()
    while len(tokens) > 1 and tokens[0] in own:
        tokens = tokens[1:]
    return " ".join(tokens)


@lru_cache(maxsize=None)
def names_an_identifier(header: str) -> bool:
    """The header's last word says it holds an identifier (`clientRef`, `Person.Key`, `sessionNo`)."""
    words = normal(header).split()
    return bool(words) and words[-1] in _IDENTIFIER_WORDS


def name_score(header: str, entity: str, column: str) -> tuple[float, str]:
    """(similarity 0..1 of the header to the clinic column's words, the word it matched)."""
    h = normal(header)
    forms = {h: 1.0}
    forms.setdefault(expanded(h), 0.98)
    for form in list(forms):
        forms.setdefault(_stripped(form, entity), 0.95)
    words = column_words(entity, "full_name" if column == "full_name" else column)
    if column == KEYS.get(entity):
        words = words + KEY_WORDS
    best, best_word = 0.0, ""
    for form, weight in forms.items():
        if not form:
            continue
        compact = form.replace(" ", "")
        tokens = set(form.split())
        for word in words:
            if form == word:
                score = 1.0
            else:
                score = max(fuzz.ratio(form, word), fuzz.ratio(compact, word.replace(" ", ""))) / 100.0
                if len(compact) <= 6:  # one letter apart is another word when words are short (state, stadt)
                    score *= 0.9
                if " " in word and set(word.split()) <= tokens:  # `home phone number` holds `phone number`
                    score = max(score, 0.9)
            if score * weight > best:
                best, best_word = score * weight, word
    return best, best_word


def _entity_name_score(relative: str, entity: str) -> tuple[float, str]:
    stem = normal(Path(relative).stem)
    forms = {stem, expanded(stem)}
    tokens = " ".join(t for t in stem.split() if not t.isdigit() and t not in {"export", "list", "data", "report"})
    forms |= {tokens, expanded(tokens)}
    best, best_word = 0.0, ""
    for form in forms:
        if not form:
            continue
        for word in entity_words(entity):
            score = max(fuzz.ratio(form, word), fuzz.ratio(form.replace(" ", ""), word.replace(" ", ""))) / 100.0
            if word in form.split() or (" " in word and word in form):
                score = max(score, 0.9)
            if score > best:
                best, best_word = score, word
    return best, best_word


# ---------------------------------------------------------------------------------------------
# values

@dataclass
class Context:
    """What the column scoring knows of the export: which file each entity is (once decided)."""
    files: dict[str, SourceFile]
    entity_file: dict[str, str] = field(default_factory=dict)  # entity -> relative file
    entity_key: dict[str, str] = field(default_factory=dict)  # entity -> key header

    def reference_share(self, f: SourceFile, header: str, target: str | None) -> tuple[float, str | None]:
        """Share of the column's values found in `target`'s key (any file's key when the target's
        file is not decided), with that file."""
        best, where = 0.0, None
        for ref in f.references:
            if ref.column != header:
                continue
            if target is not None and target in self.entity_file:
                if ref.target != self.entity_file[target] or ref.target_key != self.entity_key.get(target,
                                                                                                    ref.target_key):
                    continue
            if ref.share > best:
                best, where = ref.share, ref.target
        return best, where


def _kind(entity: str, column: str) -> str:
    if column == KEYS[entity]:
        return "key"
    if column in REFERENCES:
        return "reference"
    if column == "full_name":
        return "person_name"
    if is_picklist(entity, column):
        return "picklist"
    return EXPECT.get(column, "label")


def _clearly_other(p: ValueProfile, kind: str) -> str | None:
    """The kind the values clearly are when it is not `kind` (for the demotion's reason)."""
    checks = [("dates", p.share("any_date") >= 0.9, {"date", "datetime"}),
              ("e-mail addresses", p.share("email") >= 0.9, {"email"}),
              ("web addresses", p.share("url") >= 0.9, {"url"}),
              ("long free text", p.share("free_text") >= 0.6 and p.mean_length > 60, {"long_text", "text"})]
    for what, holds, kinds in checks:
        if holds and kind not in kinds:
            return what
    return None


def value_fit(entity: str, column: str, f: SourceFile, header: str, ctx: Context) -> tuple[float, str]:
    """How well the header's values fit what the clinic column holds (0..1), with the evidence."""
    p = f.profiles[header]
    kind = _kind(entity, column)
    if not p.non_null:
        return 0.5, "values: column is empty"
    other = _clearly_other(p, kind)
    if other:
        return 0.05, f"values: {p.non_null} values are {other}, not {kind.replace('_', ' ')}"
    s = p.share
    if kind == "key":
        if p.share("any_date") > 0.5:
            return 0.0, "values: dates cannot be a key"
        key_like = max(s("id_like"), s("integer"))
        if p.unique and p.fill >= 0.99 and key_like >= 0.95:
            return 1.0, f"values: unique, filled in {p.fill:.0%} of {p.rows} rows, identifier-like"
        if key_like >= 0.9 and p.distinct >= 0.95 * p.non_null:
            return 0.6, f"values: identifier-like, {p.distinct} distinct in {p.non_null}"
        return 0.1, f"values: not a key ({p.distinct} distinct in {p.non_null} filled of {p.rows} rows)"
    if kind == "reference":
        if p.share("any_date") > 0.5:
            return 0.0, "values: dates cannot be an identifier"
        share, where = ctx.reference_share(f, header, REFERENCES[column])
        if share >= REFERENCE:
            return 1.0, f"values: {share:.0%} of {p.non_null} found in the key of {where}"
        key_like = max(s("id_like"), s("integer"))
        if where is not None:
            return 0.3 + 0.5 * share, f"values: only {share:.0%} of {p.non_null} found in the key of {where}"
        target_decided = REFERENCES[column] in ctx.entity_file
        if key_like >= 0.9:
            return (0.35 if target_decided else 0.6), ("values: identifier-like, but not found in "
                                                       + (f"{ctx.entity_file[REFERENCES[column]]}'s key"
                                                          if target_decided else "another file's key"))
        return 0.1, f"values: {key_like:.0%} identifier-like"
    if kind == "picklist":
        if p.distinct > 60:
            return 0.1, f"values: {p.distinct} distinct, not a pick-list"
        flag = boolean_values(p) and (entity, column) == ("providers", "status")
        _, _, hit, miss = value_map(entity, column, p.counts, header, flag)
        share = hit / (hit + miss)
        if flag:
            return 0.9, f"values: a yes/no flag ({p.distinct} values)"
        return (0.2 + 0.8 * share if p.categorical or share >= 0.8 else 0.1,
                f"values: {share:.0%} of rows are {column} values the clinic model knows")
    if kind in ("date", "datetime"):
        d = p.date
        if d.share < 0.5:
            return 0.05, f"values: {d.share:.0%} of {p.non_null} are dates"
        timed = d.with_time >= 0.5
        fit = d.share * (1.0 if timed == (kind == "datetime") else 0.75)
        what = "datetimes" if timed else "dates"
        return fit, f"values: {d.share:.0%} of {p.non_null} are {what}"
    if kind == "amount":
        a = p.amount
        if a.share < 0.8 or s("id_like") > 0.9 and not a.money and p.unique:
            return 0.1, f"values: {a.share:.0%} read as amounts"
        fit = a.share * (1.0 if a.money >= 0.5 else 0.7)
        return fit, f"values: {a.share:.0%} of {p.non_null} are amounts" + (", with cents or a currency"
                                                                              if a.money >= 0.5 else "")
    if kind == "boolean":
        if boolean_values(p):
            return 1.0, f"values: a yes/no flag ({p.distinct} values)"
        return 0.1 + 0.4 * s("boolean"), f"values: {s('boolean'):.0%} of {p.non_null} are yes/no words"
    if kind == "npi":
        ten = sum(n for v, n in p.counts.items() if len(v) == 10 and v.isdigit() and v[0] in "12") / p.non_null
        if s("npi") >= 0.9:
            return 1.0, f"values: {s('npi'):.0%} of {p.non_null} are NPIs with a valid check digit"
        return 0.75 * ten, (f"values: {ten:.0%} of {p.non_null} are 10-digit numbers like NPIs, "
                            f"{s('npi'):.0%} with a valid check digit")
    simple = {"email": ("email", "e-mail addresses"), "url": ("url", "web addresses"), "mime": ("mime", "MIME types"), "file_path": ("file_path", "file paths"),
              "file_name": ("file_name", "file names"), "integer": ("integer", "whole numbers"),
              "address": ("address", "street addresses")}
    if kind in simple:
        name, what = simple[kind]
        share = s(name)
        return share, f"values: {share:.0%} of {p.non_null} are {what}"
    if kind == "phone":
        share = s("phone")
        if s("phone_formatted") < 0.2 and p.unique and s("integer") > 0.9:
            share *= 0.6
        return share, f"values: {share:.0%} of {p.non_null} are phone numbers"
    if kind == "postal":
        share = s("postal_code")
        countries = ", ".join(c for c, _ in p.postal_countries.most_common(2))
        return share, f"values: {share:.0%} of {p.non_null} are postal codes ({countries or 'none'})"
    if kind == "state":
        share = s("state")
        if share < 0.3:
            return 0.1, f"values: {share:.0%} of {p.non_null} are states or provinces"
        return share, f"values: {share:.0%} of {p.non_null} are states or provinces"
    if kind == "sex":
        share = s("sex")
        return (share if p.distinct <= 8 else share * 0.5), f"values: {share:.0%} of {p.non_null} are sex codes"
    if kind == "cpt":
        share = max(s("cpt"), s("hcpcs")) + min(s("cpt"), s("hcpcs"))
        return min(1.0, share), f"values: {min(1.0, share):.0%} of {p.non_null} are CPT/HCPCS codes"
    if kind == "code":
        share = max(s("cpt") + s("hcpcs"), s("icd10"), s("id_like"))
        return min(1.0, share), f"values: {min(1.0, share):.0%} of {p.non_null} are codes"
    if kind == "identifier":
        share = max(s("id_like"), s("integer"))
        return share, f"values: {share:.0%} of {p.non_null} identifier-like"
    if kind == "person_name":
        share = max(s("first_last"), s("last_first"))
        return share, f"values: {share:.0%} of {p.non_null} are names of two or more words"
    if kind == "name_word":  # names carry digits or initials in some systems: weak evidence either way
        share = s("one_word")
        return 0.35 + 0.45 * share, f"values: {share:.0%} of {p.non_null} are single names"
    if kind == "long_text":
        fit = min(1.0, 0.3 + p.mean_length / 100)
        return fit if s("free_text") > 0.3 else 0.2, f"values: {s('free_text'):.0%} free text"
    if kind == "text":
        fit = 0.8 if s("id_like") < 0.5 and s("integer") < 0.5 else 0.2
        return fit, f"values: text, {p.distinct} distinct"
    # a short label (names of things, types, categories): text, not numbers or codes
    numeric = max(s("integer"), s("amount") if s("id_like") < 0.5 else 0.0)
    if numeric > 0.8 or s("id_like") > 0.9 and not p.categorical or s("phone") > 0.8 or s("state") > 0.9:
        return 0.15, f"values: {p.distinct} distinct codes or numbers, not labels"
    place = kind == "place"
    return (0.75 if place or p.categorical else 0.6), f"values: text, {p.distinct} distinct"


def combine(name: float, fit: float, kind: str) -> float:
    """Column score from header similarity and value fit: a good name needs values that do not
    contradict it; values alone carry a distinctive kind only, and never to full confidence."""
    if name >= 0.8:
        score = 0.55 * name + 0.45 * fit
        return min(score, 0.45) if fit < 0.3 else score
    if kind in DISTINCTIVE and fit >= 0.9:
        return 0.35 + 0.35 * name + 0.15 * fit
    return 0.4 * name + 0.2 * fit


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
            kind = _kind(entity, column)
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
    name, word = _entity_name_score(f.relative, entity)
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


# ---------------------------------------------------------------------------------------------
# parse rules, value maps, date orders

def _date_rule(p: ValueProfile, kind: str) -> tuple[dict[str, Any], list[str], bool]:
    d = p.date
    rule: dict[str, Any] = {"parse": kind}
    if d.order is None:
        return rule, [], True  # decided later from the export's other dates
    rule["format"] = d.order
    if d.order == "YMD":
        why = f"values: {d.decisive} of {d.dates} dates year first"
    elif d.ambiguous:
        return rule, [f"values: {d.dates} dates separated by {d.separator!r}, no part over 12: day first "
                      "as dotted dates are written; ambiguous"], True
    else:
        part = "first" if d.order == "DMY" else "second"
        why = f"values: {d.dates} dates, {d.decisive} with a {part} part over 12: " + (
            "day first" if d.order == "DMY" else "month first")
    if d.contradicting:
        why += f"; {d.contradicting} values read the other way"
    if d.twelve_hour:
        why += "; 12-hour clock"
    return rule, [why], False


def _column_entry(entity: str, f: SourceFile, choice: Choice, undecided: list) -> dict[str, Any]:
    header = choice.header
    p = f.profiles[header]
    entry: dict[str, Any] = {"source": header}
    reasons = list(choice.reasons)
    confidence = choice.score
    target = choice.target
    if target is None:
        entry["column"] = None
        if choice.best_other and choice.best_other[1] > 0.3:
            reasons = [f"no clinic column fits: best {choice.best_other[0]} at {choice.best_other[1]:.2f}"]
        else:
            reasons = ["no clinic column fits"]
        reasons += choice.demoted or []
        confidence = max(0.3, 1.0 - (choice.best_other[1] if choice.best_other else 0.0))
        kind = None
        if p.non_null and p.date.share >= 0.9:
            kind = "datetime" if p.date.with_time >= 0.5 else "date"
        elif boolean_values(p) and p.distinct == 2:
            entry["parse"] = "boolean"
            reasons.append("values: a yes/no flag")
        if kind:
            rule, why, open_order = _date_rule(p, kind)
            entry.update(rule)
            reasons += why
            if open_order:
                undecided.append((entry, p))
        entry["confidence"] = round(confidence, 2)
        entry["reasons"] = reasons
        return entry
    if isinstance(target, tuple):
        entry["column"] = list(target)
        last_first, first_last = p.share("last_first"), p.share("first_last")
        entry["parse"] = "name"
        entry["format"] = "last_first" if last_first >= first_last else "first_last"
        reasons.append(f"values: {max(last_first, first_last):.0%} written "
                       + ("'Last, First'" if entry["format"] == "last_first" else "'First Last'"))
    else:
        entry["column"] = target
        kind = COLUMN_KINDS.get(target)
        if kind in ("date", "datetime"):
            rule, why, open_order = _date_rule(p, kind)
            entry.update(rule)
            reasons += why
            if open_order:
                undecided.append((entry, p))
        elif kind == "boolean":
            entry["parse"] = "boolean"
            reasons.append("values: read as true/false")
        elif kind == "amount":
            a = p.amount
            entry["parse"], entry["format"] = "amount", a.format
            reasons.append(f"values: {a.comma_votes} with a decimal comma, {a.point_votes} with a decimal point"
                           + (", currency symbols dropped" if a.currency else ""))
            if a.comma_votes and a.point_votes:
                confidence = min(confidence, 0.7)
        if is_picklist(entity, target):
            flag = boolean_values(p) and (entity, target) == ("providers", "status")
            values, mapped, hit, miss = value_map(entity, target, p.counts, header, flag)
            if flag:
                entry["parse"] = "boolean"  # read as true/false first; the value map applies after it
                values = flag_values(header)
                reasons.append("values: a yes/no flag read as " + ", ".join(f"{k} = {v}" for k, v in values.items()))
            if values:
                entry["values"] = values
            if miss:
                unmapped = len(p.counts) - mapped
                reasons.append(f"values: {unmapped} of {len(p.counts)} distinct values ({miss / (hit + miss):.0%} "
                               "of rows) have no clinic value: passed on unchanged")
                confidence *= 0.6 + 0.4 * hit / (hit + miss)
            elif values:
                reasons.append(f"values: {len(values)} vendor values mapped to clinic values")
    entry["confidence"] = round(min(1.0, confidence), 2)
    entry["reasons"] = reasons
    return entry


def _settle_date_orders(undecided: list, decided: Counter, zone: str | None) -> None:
    """A date column whose values never decide day and month: the order of the export's other
    date columns, else the order the time zone's country writes, marked ambiguous."""
    for entry, p in undecided:
        dmy, mdy = decided.get("DMY", 0), decided.get("MDY", 0)
        if dmy != mdy:
            order = "DMY" if dmy > mdy else "MDY"
            why = f"ambiguous: no value decides day or month; {max(dmy, mdy)} other date columns are {order}"
        elif entry.get("format") in ("DMY", "MDY"):
            order, why = entry["format"], "ambiguous: no value decides day or month; kept as written above"
        else:
            us = bool(zone) and zone.startswith(("America/", "Pacific/Honolulu")) and not zone.startswith(
                ("America/Argentina", "America/Bogota", "America/Lima", "America/Santiago", "America/Mexico"))
            order = "MDY" if us or not zone else "DMY"
            why = (f"ambiguous: no value decides day or month; {order} as written in zone {zone}" if zone else
                   "ambiguous: no value decides day or month and no zone is known; month first taken")
        entry["format"] = order
        entry["reasons"].append(why)
        entry["confidence"] = round(min(entry["confidence"], AMBIGUOUS_CAP), 2)


# ---------------------------------------------------------------------------------------------
# the manifest and the time zone

def propose_timezone(states: list[str | None], countries: list[str | None] | None = None,
                     postal_codes: list[str | None] | None = None) -> tuple[str | None, str, float]:
    """(IANA zone, reason, confidence) from the patients' addresses (parallel lists, one value per
    patient): mapping.timezone's proposal, with a German, Spanish or British region read as its
    country where the row names none (the shared proposer places those by country)."""
    states = list(states or [])
    countries = list(countries or [])
    postal_codes = list(postal_codes or [])
    if states and (not countries or len(countries) == len(states)):
        filled = []
        for i, state in enumerate(states):
            country = countries[i] if countries else None
            if not (country and str(country).strip()) and state and str(state).strip():
                hit = read_state(str(state))
                country = hit[0] if hit and hit[0] in ("DE", "ES", "GB") else country
            filled.append(country)
        if any(filled):
            countries = filled
    choice = zones.propose_timezone(states, countries, postal_codes)
    return choice.zone, choice.reason, choice.confidence


def read_manifest(source: Path) -> dict[str, Any] | None:
    path = source / "manifest.json"
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise LandingError(f"manifest.json is not valid JSON: {exc}", file=path) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("entities"), dict):
        return None
    return doc


def _address_columns(f: SourceFile, choices: dict[str, Choice]) -> tuple[list, list, list]:
    """The file's states, countries and postal codes, row by row (the sample), for the zone."""
    def column(header: str | None) -> list:
        return list(f.values[header]) if header else []

    state = next((h for h, c in choices.items() if c.target == "state"), None)
    postal = next((h for h, c in choices.items() if c.target == "postal_code"), None)
    country = next((h for h, c in choices.items() if c.target is None and f.profiles[h].share("country") >= 0.8
                    and set(normal(h).split()) & {"country", "land", "pais", "nation", "staat"}), None)
    return column(state), column(country), column(postal)


# ---------------------------------------------------------------------------------------------

def propose_source_map(source: Path, export: str | None = None) -> dict[str, Any]:
    """The proposed source map of the export folder `source` (passes source_map.check), with a
    top-level `unassigned_files` list of the files no entity took, and why."""
    source = Path(source)
    if not source.is_dir():
        raise LandingError("the export folder does not exist or is not a folder", file=source)
    files, unreadable = read_export(source)
    by_name = {f.relative: f for f in files}
    ctx = Context(by_name)
    manifest = read_manifest(source)
    unassigned = list(unreadable)
    entity_reasons: dict[str, tuple[float, list[str]]] = {}
    assigned: dict[str, SourceFile] = {}
    manifest_keys: dict[str, str] = {}
    if manifest is not None:
        for entity, spec in manifest["entities"].items():
            if entity not in CLINIC_MODEL or not isinstance(spec, dict) or not isinstance(spec.get("file"), str):
                continue
            relative = Path(spec["file"]).as_posix()
            inside_export(source, relative, named_in=source / "manifest.json", field=f"entities.{entity}.file")
            if relative not in by_name:
                continue
            assigned[entity] = by_name[relative]
            entity_reasons[entity] = (1.0, ["manifest.json names this file"])
            if isinstance(spec.get("key"), str):
                header = next((h for h in by_name[relative].header if h == spec["key"] or normal(h) ==
                               normal(spec["key"])), None)
                if header:
                    manifest_keys[entity] = header
        taken = {f.relative for f in assigned.values()}
        for f in files:
            if f.relative not in taken:
                unassigned.append({"file": f.relative, "reasons": ["manifest.json lists no entity for this file"]})
    else:
        fits, left = assign_entities(files, ctx)
        unassigned += left
        for entity, fit in fits.items():
            assigned[entity] = by_name[fit.file]
            entity_reasons[entity] = (fit.score, fit.reasons)

    # the keys, then the columns again with the references to the decided files
    ctx.entity_file = {e: f.relative for e, f in assigned.items()}
    for entity, f in assigned.items():
        if entity in manifest_keys:
            ctx.entity_key[entity] = manifest_keys[entity]
            continue
        choices = map_columns(f, entity, ctx)
        key = next((c.header for c in choices.values() if c.target == KEYS[entity]), None)
        ctx.entity_key[entity] = key or (f.keys[0] if f.keys else None)
    final: dict[str, dict[str, Choice]] = {}
    for entity, f in assigned.items():
        choices = map_columns(f, entity, ctx)
        key = ctx.entity_key.get(entity)
        if key and choices[key].target != KEYS[entity] and entity in manifest_keys:
            # the clinic's manifest names the key: that header is the key column
            for c in choices.values():
                if c.target == KEYS[entity]:
                    c.target, c.reasons = None, []
            choices[key].target = KEYS[entity]
            choices[key].score = max(choices[key].score, 0.9)
            choices[key].reasons = ["manifest.json names it the key", *choices[key].reasons[1:]]
        final[entity] = choices

    zone, zone_reason, zone_confidence = None, None, 0.0
    if manifest is not None and isinstance(manifest.get("timezone"), str) and manifest["timezone"].strip():
        zone, zone_reason, zone_confidence = manifest["timezone"].strip(), "manifest.json names it", 1.0
    else:
        where = "patients" if "patients" in final else "clinics" if "clinics" in final else None
        if where:
            zone, zone_reason, zone_confidence = propose_timezone(*_address_columns(assigned[where], final[where]))
            zone_reason = f"{assigned[where].relative}: {zone_reason}"
    try:
        from zoneinfo import ZoneInfo

        if zone:
            ZoneInfo(zone)
    except (ValueError, KeyError, OSError):
        zone_reason = f"manifest.json's time zone is not an IANA zone; none taken ({zone_reason})"
        zone, zone_confidence = None, 0.0

    undecided: list = []
    decided: Counter = Counter()
    entities: dict[str, Any] = {}
    for entity in CLINIC_MODEL:
        if entity not in assigned:
            continue
        f = assigned[entity]
        columns = [_column_entry(entity, f, final[entity][h], undecided) for h in f.header]
        for col in columns:
            if col.get("parse") in ("date", "datetime") and col.get("format") in ("DMY", "MDY") and \
                    not any(e is col for e, _ in undecided):
                decided[col["format"]] += 1
        score, reasons = entity_reasons[entity]
        mapped = [c["confidence"] for c in columns if c["column"] is not None]
        entities[entity] = {
            "file": f.relative,
            "key": ctx.entity_key.get(entity),
            "confidence": round(min(1.0, score), 2),
            "reasons": reasons + [f"read {f.rows} rows{' (a sample)' if f.truncated else ''}; "
                                  f"delimiter {f.shape.delimiter!r}, encoding {f.shape.encoding}",
                                  f"{len(mapped)} of {len(columns)} columns mapped"],
            "columns": columns,
        }
        if entities[entity]["key"] is None:
            entities[entity]["reasons"].append("no key column found: a person must name one")
    _settle_date_orders(undecided, decided, zone)

    doc = new_source_map(export or export_name(source), entities, zone, zone_reason)
    doc["timezone_confidence"] = round(zone_confidence, 2)
    doc["unassigned_files"] = unassigned
    check(doc, source / "(proposed source map)")
    return doc
