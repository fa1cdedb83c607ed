"""The proposal's entry for each column of a file (source_propose.py): the clinic column taken or
none, its parse rule (date order, decimal mark, name order, yes/no flag), its value map, its
confidence and reasons; then the date orders no value decides, settled from the export's other
date columns or the country."""

from __future__ import annotations

from collections import Counter
from typing import Any

from clinic2zoho.mapping.detectors import ValueProfile, boolean_values
from clinic2zoho.mapping.source_assignment import Choice
from clinic2zoho.mapping.source_files import SourceFile
from clinic2zoho.mapping.source_map import COLUMN_KINDS
from clinic2zoho.mapping.value_words import flag_values, is_picklist, value_map

AMBIGUOUS_CAP = 0.6  # confidence of a date order no value decides


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


def column_entry(entity: str, f: SourceFile, choice: Choice, undecided: list) -> dict[str, Any]:
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


def settle_date_orders(undecided: list, decided: Counter, zone: str | None) -> None:
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
