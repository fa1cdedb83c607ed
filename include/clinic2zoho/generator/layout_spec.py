"""What a vendor layout says (generator.layouts holds the layouts and the reader's rules): how it
names files and headers, writes dates, amounts, names and flags, and which columns it adds, drops
or codes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


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
