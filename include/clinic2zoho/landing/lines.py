"""Record ends of a delimited file, told apart from the line breaks inside quoted fields.

DuckDB's strict CSV reader stops ("state machine reached an invalid state") on a file whose records
end in more than one way - CRLF and LF mixed, as when files from two systems are concatenated - and
its detection of CR-only files (old Mac) is not to be relied on. Such a file is rewritten before
DuckDB reads it: every record ends in LF, blank lines (which are not records) are left out, and
line breaks inside quoted fields stay exactly as they were.

The scan follows the quoting rules of the reader (`quote = '"'`, `escape = '"'`, strict mode): a
quote opens a quoted field only at the start of a field (after optional spaces), a doubled quote
inside it is a quote, any other quote closes it; a quote in the middle of an unquoted field is text.
It also finds blank lines, which DuckDB counts in the line numbers of its rejects."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from .utf8 import CHUNK_BYTES

_BREAK = re.compile(rb"(\r\n|\r|\n)")
_QUOTE, _SPACE = 0x22, 0x20
ENDINGS = {b"\n": "LF", b"\r\n": "CRLF", b"\r": "CR"}


def physical_lines(chunks: Iterable[bytes]) -> Iterator[tuple[bytes, bytes]]:
    """(content, line break) per physical line of a byte stream; the last line may have no break."""
    carry = b""
    for chunk in chunks:
        data = carry + chunk
        hold = b""
        if data.endswith(b"\r"):  # may be the first half of a CRLF split between two chunks
            data, hold = data[:-1], b"\r"
        parts = _BREAK.split(data)
        for i in range(0, len(parts) - 1, 2):
            yield parts[i], parts[i + 1]
        carry = parts[-1] + hold
    if carry.endswith(b"\r"):
        yield carry[:-1], b"\r"
    elif carry:
        yield carry, b""


class RecordScanner:
    """Follows the quoting of one file line by line."""

    def __init__(self, delimiter: str) -> None:
        self.delimiter = delimiter.encode("utf-8")
        self.in_quotes = False

    def ends_record(self, content: bytes) -> bool:
        """Read one physical line; True when the line break after it ends a record."""
        if not self.in_quotes and b'"' not in content:
            return True
        i, n, field_start = 0, len(content), not self.in_quotes
        while i < n:
            if self.in_quotes:
                j = content.find(b'"', i)
                if j < 0:
                    return False
                if j + 1 < n and content[j + 1] == _QUOTE:
                    i = j + 2
                    continue
                self.in_quotes, i, field_start = False, j + 1, False
                continue
            if field_start:
                k = i
                while k < n and content[k] == _SPACE:
                    k += 1
                if k < n and content[k] == _QUOTE:
                    self.in_quotes, i, field_start = True, k + 1, False
                    continue
            j = content.find(self.delimiter, i)
            if j < 0:
                break
            i, field_start = j + len(self.delimiter), True
        return not self.in_quotes


def record_endings(sample: bytes, delimiter: str, complete: bool) -> str:
    """How the records of `sample` (UTF-8) end: "LF", "CRLF", "CR" or "mixed". Line breaks inside
    quoted fields do not count; a cut last line of an incomplete sample is left out."""
    crs, crlfs = sample.count(b"\r"), sample.count(b"\r\n")
    if not crs:
        return "LF"  # every line break is an LF, so every record end is
    if crs == crlfs == sample.count(b"\n"):
        return "CRLF"
    scanner = RecordScanner(delimiter)
    lines = list(physical_lines([sample]))
    if not complete and lines:
        lines.pop()
    kinds = {brk for content, brk in lines if scanner.ends_record(content) and brk}
    if len(kinds) > 1:
        return "mixed"
    return ENDINGS[kinds.pop()] if kinds else "LF"


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            yield chunk


def rewrite_record_ends(source: Path, target: Path, delimiter: str) -> Path:
    """Copy `source` to `target` with every record ending in LF and no blank lines; line breaks
    inside quoted fields are copied unchanged."""
    scanner = RecordScanner(delimiter)
    at_record_start = True
    with target.open("wb") as out:
        buffer: list[bytes] = []
        size = 0
        for content, brk in physical_lines(_chunks(source)):
            if at_record_start and not content:
                continue  # a blank line is not a record
            at_record_start = scanner.ends_record(content)
            buffer.append(content)
            if brk:
                buffer.append(b"\n" if at_record_start else brk)
            size += len(content) + 2
            if size >= CHUNK_BYTES:
                out.write(b"".join(buffer))
                buffer, size = [], 0
        out.write(b"".join(buffer))
    return target


def blank_records(path: Path, delimiter: str, up_to: int) -> list[int]:
    """Record numbers (the header is 1, as in DuckDB's reject `line`) of the blank lines among the
    first `up_to` records of `path`."""
    scanner = RecordScanner(delimiter)
    blanks: list[int] = []
    record, at_record_start = 1, True
    for content, brk in physical_lines(_chunks(path)):
        if record > up_to:
            break
        if at_record_start and not content and brk:
            blanks.append(record)
        at_record_start = scanner.ends_record(content)
        if at_record_start:
            record += 1
    return blanks


def first_change_of_ending(path: Path, delimiter: str) -> tuple[int, str, str] | None:
    """(record number, ending before, ending from there on) where the records of `path` first
    change how they end (the header is record 1), or None when they all end alike."""
    scanner = RecordScanner(delimiter)
    record, first = 1, None
    for content, brk in physical_lines(_chunks(path)):
        if scanner.ends_record(content):
            if brk and content:
                if first is None:
                    first = brk
                elif brk != first:
                    return record, ENDINGS[first], ENDINGS[brk]
            record += 1
    return None
