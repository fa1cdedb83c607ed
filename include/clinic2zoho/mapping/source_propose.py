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
  export's other date columns, else the country, and marked ambiguous.

Where each step is: source_names.py (headers and file names), source_values.py (values),
source_assignment.py (columns and files taken), source_rules.py (each column's entry); this module
reads the manifest and the time zone and puts the proposal together."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from clinic2zoho.landing.errors import LandingError
from clinic2zoho.landing.paths import inside_export
from clinic2zoho.mapping import timezone as zones
from clinic2zoho.mapping.detectors import read_state
from clinic2zoho.mapping.header_words import normal
from clinic2zoho.mapping.source_assignment import Choice, assign_entities, map_columns
from clinic2zoho.mapping.source_files import SourceFile, read_export
from clinic2zoho.mapping.source_map import CLINIC_MODEL, KEYS, check, export_name, new_source_map
from clinic2zoho.mapping.source_rules import column_entry, settle_date_orders
from clinic2zoho.mapping.source_values import Context

__all__ = ["propose_source_map", "propose_timezone"]


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
        columns = [column_entry(entity, f, final[entity][h], undecided) for h in f.header]
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
    settle_date_orders(undecided, decided, zone)

    doc = new_source_map(export or export_name(source), entities, zone, zone_reason)
    doc["timezone_confidence"] = round(zone_confidence, 2)
    doc["unassigned_files"] = unassigned
    check(doc, source / "(proposed source map)")
    return doc
