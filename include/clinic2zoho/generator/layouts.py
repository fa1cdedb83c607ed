"""Vendor-style layouts of a generated generic export, with their ground truth (issue 13's corpus).

`write_layout(generic_export, layout, out)` reads a generic export folder (docs/generic_export.md:
manifest.json, one CSV per entity, workflows.json, files/) and writes the same clinic's data as a
practice-management vendor would export it, to `out/export/`, and the answer key to
`out/truth.json`, outside the export folder so a proposer reading the export never sees it.

`LAYOUTS` names the layouts (stable names; a benchmark refers to them); `random:<seed>` is a
layout drawn from pools by a seed (`random_layout`), one nobody tuned the proposer against. Each combines several
variations real exports show: file names, header style (Title Case, camelCase, abbreviations,
German, UPPER_SNAKE), no manifest, date order and clock, delimiter, encoding, decimal commas and
currency symbols, names in one column, flags for a two-valued column, vendor codes for pick-lists,
extra vendor columns, a dropped column, another column order.

Every transformation can be undone from the truth alone: a reader applying `parse` then `values`
to the vendor's text gets the generic value back (dates as `YYYY-MM-DD`, datetimes as
`YYYY-MM-DD HH:MM:SS`), except where the truth says `lossy`. A value the generic export holds
that does not parse (a planted defect such as `1985-02-30`) is written unchanged and listed under
`unparsed` (no parse rule nor value map applies to it), since a day-first reader may well read
`13/07/1982` as a date.

The reader's rules (docs/source_map.md): `date`/`datetime` with `format` DMY | MDY | YMD (the
order of day, month and year; any of `/ - .`, `T` or a space before the time, 12-hour clocks
with AM/PM, seconds optional); `amount` with decimal_point (drop currency symbols and `,`) or
decimal_comma (drop symbols and `.`, `,` is the point); `name` with last_first (split at the first
", ") or first_last (split at the first space; see `split_name`); `boolean` carries no format: the
column's `values` say which vendor text means `true` and `false` (or, for providers' status
written as a flag, `active` and `inactive`). `values` are keyed by the vendor's text as written
(no column has both a value map and a date, amount or name rule); a value not in the map is the
clinic's value as is. `lossy_rows` lists the records a lossy column cannot carry; its other
records round-trip exactly.

Layouts with a manifest (`Layout.manifest`) write the generic manifest naming the vendor's files
and key headers; the others write none, so what only the manifest says (time zone, document URL
base, custom objects, relations) is in the truth's `metadata` for a bench to compare with.

truth.json:
```
{"layout", "description", "generic_export", "manifest": bool, "metadata": {timezone, clinic_name,
  document_url_base, exported_at, custom_objects, relations: from the generic manifest},
 "documents_folder": "files", "workflows": "workflows.json",
 "files": [{"file", "entity", "key", "delimiter", "encoding", "lineterminator", "rows",
            "columns": {header: clinic column | [first_name, last_name] | null (vendor extra)},
            "parse": {header: {"parse": date|datetime|amount|boolean|name, "format": ...}},
            "values": {header: {vendor value: clinic value}},
            "dropped": [clinic columns the layout does not carry],
            "lossy": {header: why}, "lossy_rows": {header: [record numbers]},
            "unparsed": {header: [record numbers]}, "malformed": [record numbers],
            "cells", "changed_cells"}]}
```
Record numbers count data records from 1 (the header is not one), as `_source_row` does.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Callable

from clinic2zoho.generator.vendor_vocabulary import (
    ABBR_FILES,
    ABBR_HEADERS,
    CAMEL_FILES,
    CAMEL_HEADERS,
    GERMAN_FILES,
    GERMAN_HEADERS,
    RANDOM_FILES,
    RANDOM_STYLES,
    RANDOM_SYNONYMS,
    SNAKE_HEADERS,
    TITLE_FILES,
    TITLE_HEADERS,
    abbreviated_style,
    camel_style,
    german_style,
    snake_file_name,
    title_style,
    upper_style,
)

__all__ = ["LAYOUTS", "Layout", "column_kind", "random_layout", "split_name", "write_layout"]

# ---------------------------------------------------------------------------------------------
# What a generic column holds, by name, so a column added to the generic layout later still gets
# a parse rule where its name says it is a date, a datetime or an amount.

_DATE_COLUMNS = {"birth_date", "visit_date", "effective_date", "termination_date", "service_date",
                 "treatment_date", "start_date", "enrolled_on"}
_DATETIME_COLUMNS = {"created_at", "updated_at", "start_time", "end_time", "submitted_at", "note_date"}
_AMOUNT_COLUMNS = {"amount_billed", "amount_paid", "balance"}
_BOOLEAN = re.compile(r"(_opt_out|_consent|_flag)$|^(is|has)_")  # generic text: true / false


def column_kind(column: str) -> str:
    """date | datetime | amount | boolean | text: how a generic column's values are written."""
    if _BOOLEAN.search(column):
        return "boolean"
    if column in _DATE_COLUMNS or (column not in _DATETIME_COLUMNS and re.search(r"(_date|_on)$", column)):
        return "date"
    if column in _DATETIME_COLUMNS or re.search(r"(_at|_time)$", column):
        return "datetime"
    if column in _AMOUNT_COLUMNS or column.startswith("amount_"):
        return "amount"
    return "text"


_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_ISO_DATETIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})(?::(\d{2}))?$")
_PLAIN_AMOUNT = re.compile(r"^(-?)(\d+)(?:\.(\d+))?$")


def _parse_date(text: str) -> date | None:
    m = _ISO_DATE.match(text)
    if not m:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def _parse_datetime(text: str) -> datetime | None:
    m = _ISO_DATETIME.match(text)
    if not m:
        return None
    try:
        return datetime(int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]), int(m[6] or 0))
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# The layouts.

@dataclass(frozen=True)
class ExtraColumn:
    """A vendor column the clinic model has no place for; values derived from the record key."""
    header: str
    values: tuple[str, ...]  # picked by a stable hash of the record key; "{n}" gets a number
    after: str | None = None  # the clinic column it follows (None: at the end)


@dataclass(frozen=True)
class Layout:
    name: str
    description: str
    header_style: Callable[[str], str]
    headers: dict[str, str]  # clinic column -> header; "entity.column" keys override per entity
    file_style: Callable[[str], str]
    files: dict[str, str]  # entity -> file name
    manifest: bool = False
    delimiter: str = ","
    encoding: str = "utf-8"
    lineterminator: str = "\n"
    date_order: str = "YMD"  # DMY | MDY | YMD
    date_format: str = "%Y-%m-%d"
    datetime_format: str = "%Y-%m-%d %H:%M:%S"
    decimal: str = "decimal_point"  # decimal_point | decimal_comma
    thousands: str = ""  # the separator written between thousands ("" for none)
    currency: str = ""  # symbol written before the amount ("$") or after it (" €")
    currency_after: bool = False
    name_column: str | None = None  # last_first | first_last: first_name and last_name in one column
    name_header: str = "Name"  # the one name column's header ("entity.full_name" in headers overrides)
    flags: tuple[str, str] | None = None  # (true, false): providers' status active/inactive as a flag
    flag_header: str = "Active"
    booleans: tuple[str, str] = ("true", "false")  # how the layout writes a boolean column
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # column -> {clinic: vendor}
    extras: dict[str, tuple[ExtraColumn, ...]] = field(default_factory=dict)  # entity -> extras
    dropped: dict[str, tuple[str, ...]] = field(default_factory=dict)  # entity -> clinic columns
    sort_headers: bool = False  # columns in alphabetical order of their header

    def header(self, entity: str, column: str) -> str:
        return self.headers.get(f"{entity}.{column}") or self.headers.get(column) or self.header_style(column)

    def file_name(self, entity: str) -> str:
        return self.files.get(entity) or self.file_style(entity)


_LAYOUT_LIST = [
    Layout(
        name="title_case",
        description="Title Case headers with spaces, other file names, no manifest, US dates "
                    "MM/DD/YYYY and 12-hour clock, UTF-8 with BOM, CRLF",
        header_style=title_style, headers=TITLE_HEADERS,
        file_style=lambda e: title_style(e).replace(" ", "") + ".csv", files=TITLE_FILES,
        encoding="utf-8-sig", lineterminator="\r\n", date_order="MDY",
        date_format="%m/%d/%Y", datetime_format="%m/%d/%Y %I:%M %p",
        booleans=("Yes", "No"), values={"sex": {"M": "Male", "F": "Female"}},
    ),
    Layout(
        name="camel_case",
        description="camelCase headers in alphabetical order, no manifest, day-first DD/MM/YYYY HH:MM, "
                    "extra vendor columns",
        header_style=camel_style, headers=CAMEL_HEADERS,
        file_style=lambda e: camel_style(e) + ".csv", files=CAMEL_FILES,
        date_order="DMY", date_format="%d/%m/%Y", datetime_format="%d/%m/%Y %H:%M",
        booleans=("1", "0"), values={"sex": {"M": "male", "F": "female"}},
        extras={
            "patients": (ExtraColumn("legacyChartNo", ("CH-{n}", "CH-{n}", "")),
                         ExtraColumn("lastSyncedBy", ("sync-service", "frontdesk01", "admin"))),
            "appointments": (ExtraColumn("roomCode", ("R1", "R2", "R3", "TELE", "")),
                             ExtraColumn("lastSyncedBy", ("sync-service", "frontdesk01"))),
            "providers": (ExtraColumn("rosterColour", ("#3366cc", "#dc3912", "#ff9900")),),
        },
        sort_headers=True,
    ),
    Layout(
        name="abbreviated",
        description="abbreviated upper-case headers (PT_ID, DOB, PH, ZIP), one name column "
                    "'Last, First', Y/N flag for providers' status, vendor codes for pick-lists, "
                    "no manifest, MM/DD/YYYY, a dropped column, CRLF",
        header_style=abbreviated_style, headers=ABBR_HEADERS,
        file_style=lambda e: abbreviated_style(e) + ".csv", files=ABBR_FILES,
        lineterminator="\r\n", date_order="MDY", date_format="%m/%d/%Y", datetime_format="%m/%d/%Y %H:%M",
        name_column="last_first", name_header="PT_NAME", flags=("Y", "N"), flag_header="ACTIVE_YN",
        booleans=("Y", "N"),
        values={"preferred_contact_method": {"email": "E", "phone": "P", "sms": "S", "mail": "M"},
                "outcome": {"completed": "ATT", "no-show": "DNA", "cancelled": "CXL", "scheduled": "SCH"},
                "patients.status": {"Active": "A", "Inactive": "I", "Deceased": "D", "Prospect": "P",
                                    "Referral Inquiry": "R"},
                "priority": {"primary": "P", "secondary": "S", "tertiary": "T"}},
        dropped={"clinics": ("website",), "appointments": ("updated_at",)},
    ),
    Layout(
        name="german",
        description="German headers and file names, ';' delimiter, decimal commas with '.' thousands, "
                    "cp1252, DD.MM.YYYY, German pick-list values, no manifest, CRLF",
        header_style=german_style, headers=GERMAN_HEADERS,
        file_style=lambda e: german_style(e) + ".csv", files=GERMAN_FILES,
        delimiter=";", encoding="cp1252", lineterminator="\r\n", date_order="DMY",
        date_format="%d.%m.%Y", datetime_format="%d.%m.%Y %H:%M", decimal="decimal_comma", thousands=".",
        booleans=("ja", "nein"),
        values={"preferred_contact_method": {"email": "E-Mail", "phone": "Telefon", "sms": "SMS", "mail": "Post"},
                "sex": {"M": "männlich", "F": "weiblich"},
                "outcome": {"completed": "wahrgenommen", "no-show": "nicht erschienen",
                            "cancelled": "abgesagt", "scheduled": "geplant"},
                "providers.status": {"active": "aktiv", "inactive": "inaktiv"},
                "patients.status": {"Active": "Aktiv", "Inactive": "Inaktiv", "Deceased": "Verstorben",
                                    "Prospect": "Interessent", "Referral Inquiry": "Überweisungsanfrage"}},
    ),
    Layout(
        name="one_name_column",
        description="one 'Full Name' column 'First Last', currency amounts '$1,234.50', Yes/No flag, "
                    "tab-delimited, MM/DD/YYYY, a manifest naming its own files",
        header_style=title_style, headers=TITLE_HEADERS,
        file_style=lambda e: title_style(e) + ".txt", files={},
        manifest=True, delimiter="\t", date_order="MDY", date_format="%m/%d/%Y",
        datetime_format="%m/%d/%Y %H:%M:%S", thousands=",", currency="$",
        name_column="first_last", name_header="Full Name", flags=("Yes", "No"), flag_header="Active",
        booleans=("Yes", "No"),
    ),
    Layout(
        name="upper_snake",
        description="UPPER_SNAKE headers, file names like export_pat_2024.csv, no manifest, ISO "
                    "datetimes with T and seconds, T/F flag, extra columns, pipe-delimited",
        header_style=upper_style, headers=SNAKE_HEADERS, file_style=snake_file_name, files={},
        delimiter="|", date_order="YMD", date_format="%Y-%m-%d", datetime_format="%Y-%m-%dT%H:%M:%S",
        flags=("T", "F"), flag_header="IS_ACTIVE", booleans=("T", "F"),
        values={"outcome": {"completed": "COMPLETED", "no-show": "NO_SHOW", "cancelled": "CANCELLED",
                            "scheduled": "SCHEDULED"}},
        extras={
            "patients": (ExtraColumn("RECORD_SOURCE", ("PMS", "PMS", "PORTAL", "IMPORT")),
                         ExtraColumn("ROW_VERSION", ("{n}",), after="patient_id")),
            "claims": (ExtraColumn("BATCH_NUMBER", ("B{n}",)),),
        },
    ),
]

LAYOUTS: dict[str, Layout] = {layout.name: layout for layout in _LAYOUT_LIST}


def random_layout(seed: int) -> Layout:
    """The layout `random:<seed>`: header style, synonyms (vendor_vocabulary.RANDOM_SYNONYMS, words
    the proposer was never tuned on), file names, date order, delimiter, decimals, flags and
    sex codes drawn from pools by `seed`; the same seed gives the same layout."""
    import random

    rng = random.Random(seed)
    style_name, style = rng.choice(RANDOM_STYLES)
    headers = {column: style("_".join(rng.choice(words).split()))
               for column, words in RANDOM_SYNONYMS.items() if rng.random() < 0.6}
    files = {entity: style("_".join(rng.choice(names).split())) + ".csv"
             for entity, names in RANDOM_FILES.items() if rng.random() < 0.6}
    order, date_format, datetime_format = rng.choice((
        ("YMD", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S"), ("YMD", "%Y/%m/%d", "%Y/%m/%d %H:%M"),
        ("DMY", "%d/%m/%Y", "%d/%m/%Y %H:%M"), ("DMY", "%d.%m.%Y", "%d.%m.%Y %H:%M:%S"),
        ("MDY", "%m/%d/%Y", "%m/%d/%Y %I:%M %p"), ("MDY", "%m-%d-%Y", "%m-%d-%Y %H:%M")))
    decimal = rng.choice(("decimal_point", "decimal_comma"))
    delimiter = rng.choice((";", "\t", "|") if decimal == "decimal_comma" else (",", ";", "\t", "|"))
    booleans = rng.choice((("true", "false"), ("Y", "N"), ("Yes", "No"), ("1", "0"), ("T", "F")))
    sex = rng.choice(({}, {"M": "Male", "F": "Female"}, {"M": "male", "F": "female"}, {"M": "MALE", "F": "FEMALE"}))
    name_column = rng.choice((None, None, "last_first", "first_last"))
    return Layout(
        name=f"random:{seed}",
        description=f"random layout {seed}: {style_name} headers, {order} dates, {decimal}, "
                    f"delimiter {delimiter!r}, flags {booleans[0]}/{booleans[1]}"
                    + (f", one name column {name_column}" if name_column else ""),
        header_style=style, headers=headers, file_style=lambda e: style(e) + ".csv", files=files,
        delimiter=delimiter, date_order=order, date_format=date_format, datetime_format=datetime_format,
        decimal=decimal, thousands=rng.choice(("", "." if decimal == "decimal_comma" else ",")),
        name_column=name_column, name_header=style("client_name"), booleans=booleans,
        values={"sex": sex} if sex else {},
    )


# ---------------------------------------------------------------------------------------------
# Writing one entity file.

def _amount_text(text: str, layout: Layout) -> str | None:
    m = _PLAIN_AMOUNT.match(text)
    if not m:
        return None
    sign, whole, fraction = m[1], m[2], m[3]
    if layout.thousands:
        groups = []
        while len(whole) > 3:
            groups.insert(0, whole[-3:])
            whole = whole[:-3]
        whole = layout.thousands.join([whole, *groups])
    point = "," if layout.decimal == "decimal_comma" else "."
    number = whole + (point + fraction if fraction is not None else "")
    if layout.currency and layout.currency_after:
        return f"{sign}{number}{layout.currency}"
    return f"{sign}{layout.currency}{number}"


def _full_name(first: str, last: str, style: str) -> str:
    if style == "last_first":
        return f"{last}, {first}" if first else last
    return f"{first} {last}" if first and last else first or last


def split_name(text: str, style: str) -> tuple[str, str]:
    """(first, last) as a reader splits one name column: `last_first` at the first ', ',
    `first_last` at the first space (one word is a first name)."""
    if style == "last_first":
        last, _, first = text.partition(", ")
        return first, last
    first, _, last = text.partition(" ")
    return first, last


@dataclass
class _Plan:
    """One vendor column: what it is made from and how."""
    header: str
    source: str | tuple[str, str] | None  # clinic column, (first, last), or None for an extra
    kind: str = "text"  # text | date | datetime | amount | name | flag | extra
    values: dict[str, str] | None = None  # clinic -> vendor
    extra: ExtraColumn | None = None


def _plan_columns(entity: str, columns: list[str], layout: Layout) -> list[_Plan]:
    plans: list[_Plan] = []
    dropped = set(layout.dropped.get(entity, ()))
    named = layout.name_column and {"first_name", "last_name"} <= set(columns)
    for column in columns:
        if column in dropped:
            continue
        if named and column in ("first_name", "last_name"):
            if column == "first_name":
                header = layout.headers.get(f"{entity}.full_name") or layout.name_header
                plans.append(_Plan(header, ("first_name", "last_name"), "name"))
            continue
        if layout.flags and entity == "providers" and column == "status":
            yes, no = layout.flags
            plans.append(_Plan(layout.flag_header, column, "flag", {"active": yes, "inactive": no}))
            continue
        kind = column_kind(column)
        values = layout.values.get(f"{entity}.{column}") or layout.values.get(column)
        if kind == "boolean":
            values = {"true": layout.booleans[0], "false": layout.booleans[1]}
        plans.append(_Plan(layout.header(entity, column), column, kind, values))
    for extra in layout.extras.get(entity, ()):
        plan = _Plan(extra.header, None, "extra", extra=extra)
        at = next((i + 1 for i, p in enumerate(plans) if p.source == extra.after), len(plans))
        plans.insert(at, plan)
    if layout.sort_headers:
        plans.sort(key=lambda p: p.header.lower())
    seen: dict[str, int] = {}
    for plan in plans:  # a header is unique within its file
        n = seen.get(plan.header, 0)
        seen[plan.header] = n + 1
        if n:
            plan.header = f"{plan.header} {n + 1}"
    return plans


def _extra_value(extra: ExtraColumn, key: str) -> str:
    h = zlib.crc32(f"{extra.header}:{key}".encode())
    return extra.values[h % len(extra.values)].replace("{n}", str(100_000 + h % 900_000))


class _FileWriter:
    def __init__(self, entity: str, header: list[str], layout: Layout) -> None:
        self.entity = entity
        self.header = header
        self.layout = layout
        self.plans = _plan_columns(entity, header, layout)
        self.index = {c: i for i, c in enumerate(header)}
        self.unparsed: dict[str, list[int]] = {}
        self.lossy: dict[str, str] = {}
        self.lossy_rows: dict[str, list[int]] = {}
        self.malformed: list[int] = []
        self.changed = 0
        self.cells = 0

    def _cell(self, plan: _Plan, row: list[str], record: int) -> str:
        layout = self.layout
        if plan.kind == "extra":
            return _extra_value(plan.extra, row[0] if row else str(record))
        if plan.kind == "name":
            first, last = (row[self.index[c]] for c in plan.source)
            if split_name(_full_name(first, last, layout.name_column), layout.name_column) != (first, last):
                self.lossy[plan.header] = ("a name written 'First Last' does not split back where a part "
                                           "holds a space or is empty" if layout.name_column == "first_last"
                                           else "a last name holding ', ' does not split back")
                self.lossy_rows.setdefault(plan.header, []).append(record)
            return _full_name(first, last, layout.name_column)
        value = row[self.index[plan.source]]
        if value == "":
            return ""
        out: str | None = value
        if plan.kind == "date":
            parsed = _parse_date(value)
            out = parsed.strftime(layout.date_format) if parsed else None
        elif plan.kind == "datetime":
            parsed = _parse_datetime(value)
            out = parsed.strftime(layout.datetime_format) if parsed else None
            if parsed and parsed.second and "%S" not in layout.datetime_format:
                self.lossy[plan.header] = "the layout's datetimes carry no seconds"
                self.lossy_rows.setdefault(plan.header, []).append(record)
        elif plan.kind == "amount":
            out = _amount_text(value, layout)
        elif plan.kind in ("boolean", "flag") and value not in plan.values:
            out = None
        if out is None:  # a defective value: written as the clinic's system holds it
            self.unparsed.setdefault(plan.header, []).append(record)
            return value
        if plan.values:
            if out not in plan.values and out in plan.values.values():
                # an unmapped value spelled like a vendor code would be read back as another value
                self.lossy[plan.header] = "a value outside the value map reads as one of its codes"
                self.lossy_rows.setdefault(plan.header, []).append(record)
            out = plan.values.get(out, out)
        return out

    def row(self, row: list[str], record: int) -> list[str]:
        width = len(self.header)
        padded = row[:width] + [""] * (width - len(row))
        out = [self._encodable(self._cell(plan, padded, record), plan.header, record) for plan in self.plans]
        # cells changed: a vendor cell differing from the generic cell it comes from; a name
        # column, an extra column and a dropped column count as changed
        self.cells += width
        self.changed += sum(1 for plan, cell in zip(self.plans, out)
                            if not isinstance(plan.source, str) or cell != padded[self.index[plan.source]])
        self.changed += sum(1 for c in self.layout.dropped.get(self.entity, ()) if c in self.index)
        if len(row) != width:  # a malformed record stays malformed, by as many fields
            self.malformed.append(record)
            out = out[: len(out) - (width - len(row))] if len(row) < width else out + [
                self._encodable(cell, "(extra field)", record) for cell in row[width:]]
        return out

    def _encodable(self, cell: str, header: str, record: int) -> str:
        encoding = self.layout.encoding
        if encoding.startswith("utf"):
            return cell
        try:
            cell.encode(encoding)
            return cell
        except UnicodeEncodeError:
            self.lossy[header] = f"{encoding} cannot hold some characters (written as '?')"
            self.lossy_rows.setdefault(header, []).append(record)
            return cell.encode(encoding, errors="replace").decode(encoding)

    def truth(self, file_name: str, rows: int) -> dict:
        layout = self.layout
        columns: dict[str, object] = {}
        parse: dict[str, dict[str, str]] = {}
        values: dict[str, dict[str, str]] = {}
        for plan in self.plans:
            columns[plan.header] = list(plan.source) if isinstance(plan.source, tuple) else plan.source
            if plan.kind in ("date", "datetime"):
                parse[plan.header] = {"parse": plan.kind, "format": layout.date_order}
            elif plan.kind == "amount":
                parse[plan.header] = {"parse": "amount", "format": layout.decimal}
            elif plan.kind == "name":
                parse[plan.header] = {"parse": "name", "format": layout.name_column}
            elif plan.kind in ("flag", "boolean"):
                parse[plan.header] = {"parse": "boolean"}
            if plan.values:
                values[plan.header] = {vendor: clinic for clinic, vendor in plan.values.items()}
        key_plan = next((p for p in self.plans if p.source == self.header[0]), None)
        return {
            "file": file_name, "entity": self.entity, "key": key_plan.header if key_plan else None,
            "delimiter": layout.delimiter, "encoding": layout.encoding, "lineterminator": layout.lineterminator,
            "rows": rows, "columns": columns, "parse": parse, "values": values,
            "dropped": [c for c in self.header if c in layout.dropped.get(self.entity, ())],
            "lossy": self.lossy, "lossy_rows": self.lossy_rows, "unparsed": self.unparsed,
            "malformed": self.malformed,
        }


# ---------------------------------------------------------------------------------------------

def _write_vendor_manifest(manifest: dict, files: list[dict], spec: Layout, path: Path) -> None:
    """The generic manifest naming the vendor's files, key headers and, in custom objects and
    relations, the headers the vendor writes for the columns they name."""
    by_entity = {f["entity"]: f for f in files}

    def header_of(entity: str, column: str) -> str:
        columns = by_entity[entity]["columns"] if entity in by_entity else {}
        return next((h for h, c in columns.items() if c == column), column)

    vendor = {k: v for k, v in manifest.items() if k not in ("entities", "encoding")}
    vendor["encoding"] = spec.encoding
    vendor["entities"] = {f["entity"]: {"file": f["file"], "key": f["key"]} for f in files}
    vendor["custom_objects"] = [{**o, "key": header_of(o["entity"], o["key"])}
                                for o in manifest.get("custom_objects", [])]
    vendor["relations"] = [{**r, **{side: {**r[side], "column": header_of(r["entity"], r[side]["column"])}
                                    for side in ("left", "right") if side in r}}
                           for r in manifest.get("relations", [])]
    vendor["workflows"] = "workflows.json"
    path.write_text(json.dumps(vendor, indent=2, ensure_ascii=False), encoding="utf-8")


def write_layout(generic_export: Path, layout: str, out: Path) -> Path:
    """Write the generic export at `generic_export` (the folder holding manifest.json) in vendor
    layout `layout` (a name in LAYOUTS) to `out/export/`, and its ground truth to `out/truth.json`.
    Returns the export folder written. `out/export/` is replaced if it exists.

    Every record is kept (malformed ones stay malformed by as many fields); documents (files/)
    and workflows.json are copied as they are, and document paths stay relative to the export."""
    if layout.startswith("random:") and layout[7:].isdigit():
        spec = random_layout(int(layout[7:]))
    elif layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}: one of {', '.join(LAYOUTS)}, or random:<seed>")
    else:
        spec = LAYOUTS[layout]
    generic_export = Path(generic_export)
    manifest_path = generic_export / "manifest.json"
    if not manifest_path.is_file():
        raise FileNotFoundError(f"{manifest_path}: not a generic export (no manifest.json)")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    source_encoding = manifest.get("encoding", "utf-8")
    out = Path(out)
    export = out / "export"
    source = generic_export.resolve()
    if export.resolve() == source or export.resolve() in source.parents:
        raise ValueError(f"{export} would replace the generic export it is written from: choose another out folder")
    if export.exists():
        shutil.rmtree(export)
    export.mkdir(parents=True)

    files: list[dict] = []
    for entity, entry in manifest["entities"].items():
        source = generic_export / entry["file"]
        file_name = spec.file_name(entity)
        with open(source, encoding=source_encoding, newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                raise ValueError(f"{source}: empty file, no header")
            writer_state = _FileWriter(entity, header, spec)
            with open(export / file_name, "w", encoding=spec.encoding, newline="") as target:
                writer = csv.writer(target, delimiter=spec.delimiter, lineterminator=spec.lineterminator)
                writer.writerow([p.header for p in writer_state.plans])
                rows = 0
                for row in reader:
                    if not row:  # a blank line is no record
                        continue
                    rows += 1
                    writer.writerow(writer_state.row(row, rows))
        truth = writer_state.truth(file_name, rows)
        truth["cells"], truth["changed_cells"] = writer_state.cells, writer_state.changed
        files.append(truth)

    if (generic_export / "files").is_dir():
        shutil.copytree(generic_export / "files", export / "files")
    workflows = manifest.get("workflows", "workflows.json")
    if (generic_export / workflows).is_file():
        shutil.copyfile(generic_export / workflows, export / "workflows.json")
    if spec.manifest:
        _write_vendor_manifest(manifest, files, spec, export / "manifest.json")

    metadata_keys = ("clinic_name", "timezone", "document_url_base", "exported_at", "custom_objects", "relations")
    truth = {
        "layout": spec.name, "description": spec.description,
        "generic_export": str(generic_export.resolve()),
        "manifest": spec.manifest,
        "metadata": {k: manifest[k] for k in metadata_keys if k in manifest},
        "documents_folder": "files", "workflows": "workflows.json",
        "files": files,
    }
    (out / "truth.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False), encoding="utf-8")
    return export
