"""Bulk Write files: rows streamed into zipped CSVs of at most Zoho's size, and result zips
read back row by row. Neither side holds a whole file in memory."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from clinic2zoho.zoho.facts import BULK_MAX_BYTES, BULK_MAX_COLUMNS, BULK_MAX_ROWS


@dataclass(frozen=True)
class BulkRowResult:
    """One row of a bulk job's result file. `row` is the 0-based position in the rows given to
    bulk_write; `key` is the value of the key column (the find_by / external id), when known."""

    row: int
    status: str  # added / updated / skipped / unprocessed
    record_id: str | None
    errors: tuple[tuple[str, str | None], ...]  # (CODE, column) pairs
    key: str | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("added", "updated") and not self.errors


@dataclass(frozen=True)
class BulkFile:
    path: Path  # the zip to upload
    first_row: int  # 0-based position of its first row in the caller's rows
    row_count: int


def format_cell(value: Any) -> str:
    """One value as Zoho reads it in a bulk CSV."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a datetime without a UTC offset cannot be sent to Zoho")
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        # a lookup given as {"id": ...}: the CSV holds the id
        return str(value["id"]) if "id" in value else json.dumps(value)
    if isinstance(value, (list, tuple)):
        return ";".join(format_cell(v) for v in value)  # multi-select pick list
    return str(value)


class _CountingSink:
    """Text written to a zip member, counting the encoded bytes (Zoho's limit is on the file)."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.bytes_written = 0

    def write_text(self, text: str) -> None:
        data = text.encode("utf-8")
        self.bytes_written += len(data)
        self.raw.write(data)


def write_bulk_zips(
    rows: Iterable[Mapping[str, Any]],
    columns: list[str],
    dest_dir: Path,
    *,
    stem: str = "bulk",
    max_rows: int = BULK_MAX_ROWS,
    max_bytes: int = BULK_MAX_BYTES,
) -> Iterator[BulkFile]:
    """Stream rows into zips of one CSV each (header = field API names), starting a new file
    before a limit would be passed. Yields each file once it is closed."""
    if not columns:
        raise ValueError("bulk write needs at least one column")
    if len(columns) > BULK_MAX_COLUMNS:
        raise ValueError(f"bulk write takes at most {BULK_MAX_COLUMNS} columns, got {len(columns)}")
    if len(set(columns)) != len(columns):
        raise ValueError("bulk write columns repeat a name")
    dest_dir.mkdir(parents=True, exist_ok=True)
    header_buf = io.StringIO()
    csv.writer(header_buf).writerow(columns)
    header = header_buf.getvalue()
    line_buf = io.StringIO()
    line_writer = csv.writer(line_buf)

    part = 0
    first_row = 0
    count = 0
    zf: zipfile.ZipFile | None = None
    member: Any = None
    sink: _CountingSink | None = None
    path: Path | None = None

    def close() -> BulkFile:
        assert zf is not None and member is not None and path is not None
        member.close()
        zf.close()
        return BulkFile(path=path, first_row=first_row, row_count=count)

    for index, row in enumerate(rows):
        line_buf.seek(0)
        line_buf.truncate()
        try:
            line_writer.writerow([format_cell(row.get(col)) for col in columns])
        except ValueError as exc:
            raise ValueError(f"bulk row {index}: {exc}") from None
        line = line_buf.getvalue()
        line_bytes = len(line.encode("utf-8"))
        if sink is not None and (count >= max_rows or sink.bytes_written + line_bytes > max_bytes):
            yield close()
            sink = None
        if sink is None:
            part += 1
            first_row, count = index, 0
            path = dest_dir / f"{stem}-{part:04d}.zip"
            zf = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED)
            member = zf.open(f"{stem}-{part:04d}.csv", "w", force_zip64=False)
            sink = _CountingSink(member)
            sink.write_text(header)
            if sink.bytes_written + line_bytes > max_bytes:
                raise ValueError(f"bulk row {index} alone exceeds the {max_bytes}-byte file limit")
        sink.write_text(line)
        count += 1
    if sink is not None:
        yield close()


def parse_errors(text: str | None) -> tuple[tuple[str, str | None], ...]:
    """Zoho's ERRORS cell, `CODE-column` pairs joined by `:`."""
    if not text:
        return ()
    pairs = []
    for part in text.split(":"):
        part = part.strip()
        if not part:
            continue
        code, sep, column = part.partition("-")
        pairs.append((code, column if sep and column else None))
    return tuple(pairs)


def read_result_zip(path: Path, *, first_row: int = 0, key_column: str | None = None) -> Iterator[BulkRowResult]:
    """Rows of a bulk result zip (one CSV: the mapped columns, then STATUS, RECORD_ID, ERRORS)."""
    with zipfile.ZipFile(path) as zf:
        names = [n for n in zf.namelist() if n.lower().endswith(".csv")]
        if len(names) != 1:
            raise ValueError(f"bulk result {path.name} holds {len(names)} CSV files, expected 1")
        with zf.open(names[0]) as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text:
            reader = csv.DictReader(text)
            missing = {"STATUS", "RECORD_ID", "ERRORS"} - set(reader.fieldnames or ())
            if missing:
                raise ValueError(f"bulk result {path.name} lacks column(s) {sorted(missing)}")
            for offset, line in enumerate(reader):
                yield BulkRowResult(
                    row=first_row + offset,
                    status=(line.get("STATUS") or "").strip().lower(),
                    record_id=(line.get("RECORD_ID") or "").strip() or None,
                    errors=parse_errors(line.get("ERRORS")),
                    key=(line.get(key_column) or None) if key_column else None,
                )
