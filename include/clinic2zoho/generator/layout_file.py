"""Writing one entity file of a generic export in a vendor layout (generator.layouts), and the
truth of that file: which clinic column each vendor header holds, how to parse it back, what it
cannot carry.

What a generic column holds is read from its name (`column_kind`), so a column added to the
generic layout later still gets a parse rule where its name says it is a date, a datetime or an
amount."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from datetime import date, datetime

from clinic2zoho.generator.layout_spec import ExtraColumn, Layout

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


class FileWriter:
    """One entity file in a layout: its vendor columns (`plans`), each record as the vendor writes it
    (`row`), and what the truth says of the file (`truth`)."""

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
