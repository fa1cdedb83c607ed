"""Look at the start of a delimited file: its encoding, its delimiter and its header.

Only a sample is read here; the file itself is read by DuckDB. A file that is not UTF-8 is
transcoded to UTF-8 chunk by chunk (memory stays flat) before DuckDB sees it."""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from pathlib import Path

from .errors import LandingError
from .lines import record_endings
from .names import snake
from .utf8 import CHUNK_BYTES, file_has_multibyte, has_multibyte

SAMPLE_BYTES = 1 << 20  # 1 MiB: enough for any header and for a reliable encoding guess
DELIMITERS = (",", ";", "\t", "|")

# cp1252 leaves five bytes undefined; a latin-1 file may still use them as C1 controls. Decode
# them as latin-1 does instead of failing, so cp1252 and latin-1 files both transcode losslessly.
def _c1_passthrough(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    chunk = error.object[error.start:error.end]
    return bytes(chunk).decode("latin-1"), error.end


codecs.register_error("clinic2zoho_c1", _c1_passthrough)


@dataclass(frozen=True)
class CsvShape:
    """What DuckDB needs to read a file: where, which delimiter, which (normalised) columns."""

    path: Path
    encoding: str  # "utf-8", "utf-8-sig", "utf-16" (BOM), "utf-16-le"/"utf-16-be" (no BOM), "cp1252"
    delimiter: str
    header: list[str]  # as written in the file
    columns: list[str]  # normalised, same order as header
    record_ends: str = "LF"  # "LF", "CRLF", "CR" or "mixed" (lines.record_endings, in the sample)

    @property
    def needs_rewriting(self) -> bool:
        """CR-only and mixed record ends are rewritten to LF before DuckDB reads the file."""
        return self.record_ends in {"CR", "mixed"}

    @property
    def needs_transcoding(self) -> bool:
        return self.encoding not in {"utf-8", "utf-8-sig"}


def detect_encoding(sample: bytes, complete: bool) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else cp1252 (a superset of latin-1's
    printable range, with latin-1 as fallback for the bytes cp1252 leaves undefined)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if without_bom := _utf16_without_bom(sample):
        return without_bom
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        # final=False tolerates a multi-byte character cut at the end of the sample
        decoder.decode(sample, final=complete)
        return "utf-8"
    except UnicodeDecodeError:
        # UTF-8 characters next to the bad bytes: UTF-8 with bad rows (rejected), not cp1252 (utf8.py)
        return "utf-8" if has_multibyte(sample) else "cp1252"


def _utf16_without_bom(sample: bytes) -> str | None:
    """UTF-16 written without a BOM: a header and rows of mostly ASCII text put a NUL byte in
    nearly every other position (odd positions little-endian, even ones big-endian)."""
    head = sample[:4096]
    head = head[:len(head) // 2 * 2]
    pairs = len(head) // 2
    if pairs < 2:
        return None
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if odd >= 0.4 * pairs and even <= 0.02 * pairs:
        return "utf-16-le"
    if even >= 0.4 * pairs and odd <= 0.02 * pairs:
        return "utf-16-be"
    return None


# Files that are no CSV at all, by their first bytes: refused with what they are.
_SIGNATURES = (
    (b"\x1f\x8b", "gzip-compressed; decompress it and land the CSV inside"),
    (b"BZh", "bzip2-compressed; decompress it and land the CSV inside"),
    (b"\xfd7zXZ\x00", "xz-compressed; decompress it and land the CSV inside"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed; decompress it and land the CSV inside"),
    (b"PK\x03\x04", "a zip archive (an Excel .xlsx workbook is one); save the sheet as CSV"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel .xls (or other OLE2) document; save the sheet as CSV"),
    (b"%PDF-", "a PDF document"),
)


def _not_text(sample: bytes) -> str | None:
    for signature, what in _SIGNATURES:
        if sample.startswith(signature):
            return what
    return None


def _control_character(name: str) -> str | None:
    for ch in name:
        if ch < " " or "\x7f" <= ch <= "\x9f" or ch == "\ufffd":
            return f"U+{ord(ch):04X}"
    return None


def _decode(sample: bytes, encoding: str) -> str:
    errors = "clinic2zoho_c1" if encoding == "cp1252" else "replace"
    return codecs.getincrementaldecoder(encoding)(errors=errors).decode(sample, final=False)


def _first_record(text: str, delimiter: str) -> list[str]:
    try:
        # newline="": CR-only (old Mac) files split into lines too
        return next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', doublequote=True,
                               strict=False))
    except StopIteration:
        return []
    except csv.Error:
        return []


def sniff_delimiter(text: str) -> str:
    """The candidate that splits the header row into the most fields (ties: comma first)."""
    best, best_count = ",", 0
    for delimiter in DELIMITERS:
        count = len(_first_record(text, delimiter))
        if count > best_count:
            best, best_count = delimiter, count
    return best


def sniff_csv(path: Path, renames: dict[str, str] | None = None) -> CsvShape:
    """Read the header of `path`; raise LandingError for an empty file, an unreadable file or a
    header that names the same column twice (after normalisation and renames)."""
    try:
        with path.open("rb") as handle:
            sample = handle.read(SAMPLE_BYTES)
            complete = len(handle.read(1)) == 0
    except OSError as exc:
        raise LandingError(f"cannot read file: {exc.strerror or exc}", file=path) from exc
    if not sample.strip(b" \t\r\n\x00" + codecs.BOM_UTF8):
        raise LandingError("file is empty: no header row", file=path)
    if what := _not_text(sample):
        raise LandingError(f"not a CSV text file: the file is {what}", file=path)
    encoding = detect_encoding(sample, complete)
    if encoding == "cp1252" and not complete and file_has_multibyte(path, len(sample) - 3):
        encoding = "utf-8"  # UTF-8 characters after the sample: the same rule as within it
    text = _decode(sample, encoding).lstrip("\ufeff")
    if text.lower().startswith("sep=") and text[4:5] and text[5:6] in {"\r", "\n"}:
        raise LandingError(f"the first line is Excel's delimiter hint {text[:5]!r}, not a header row; "
                           "remove that line", file=path, row=0)
    delimiter = sniff_delimiter(text)
    header = _first_record(text, delimiter)
    if not any(h.strip() for h in header):
        first_line = text.splitlines()[0] if text.splitlines() else ""
        why = "the first line is blank" if not first_line.strip() else "the first line holds no column names"
        raise LandingError(f"file has no header row: {why}", file=path, row=0)
    for i, name in enumerate(header):
        if code := _control_character(name):
            raise LandingError(f"the header names a column with a control character ({code}) in column {i + 1}: "
                               "not a CSV text file, or a damaged header", file=path, row=0, field=f"column {i + 1}")
    columns = normalise_header(header, path, renames or {})
    ends = record_endings(text.encode("utf-8", "surrogatepass"), delimiter, complete)
    return CsvShape(path=path, encoding=encoding, delimiter=delimiter, header=header, columns=columns,
                    record_ends=ends)


def normalise_header(header: list[str], path: Path, renames: dict[str, str]) -> list[str]:
    names = [snake(h) or f"column_{i + 1}" for i, h in enumerate(header)]
    # a rename applies only when the canonical name is not in the file already
    present = set(names)
    names = [renames[n] if n in renames and renames[n] not in present else n for n in names]
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            raise LandingError(
                f"duplicate column in header: columns {seen[name] + 1} ({header[seen[name]]!r}) and "
                f"{i + 1} ({header[i]!r}) both map to {name!r}; rename one and export again",
                file=path, row=0, field=header[i])
        seen[name] = i
    return names


def transcode_to_utf8(shape: CsvShape, target: Path) -> Path:
    """Stream `shape.path` into `target` as UTF-8, CHUNK_BYTES at a time."""
    errors = "clinic2zoho_c1" if shape.encoding == "cp1252" else "strict"
    decoder = codecs.getincrementaldecoder(shape.encoding)(errors=errors)
    try:
        with shape.path.open("rb") as src, target.open("w", encoding="utf-8", newline="") as dst:
            while chunk := src.read(CHUNK_BYTES):
                dst.write(decoder.decode(chunk))
            dst.write(decoder.decode(b"", final=True))
    except UnicodeDecodeError as exc:
        raise LandingError(f"not valid {shape.encoding} at byte {exc.start}", file=shape.path) from exc
    return target


__all__ = ["CsvShape", "sniff_csv", "transcode_to_utf8", "detect_encoding", "sniff_delimiter"]
