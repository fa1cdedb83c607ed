"""The delimited files of an export folder as the source-map proposer sees them: header, a sample
of values per column and its profile (detectors.py), candidate keys and the references between
files found by value overlap. Only files inside the export folder are read."""

from __future__ import annotations

import csv
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from clinic2zoho.landing.errors import LandingError
from clinic2zoho.landing.paths import inside_export
from clinic2zoho.landing.sniff import CsvShape, sniff_csv, transcode_to_utf8
from clinic2zoho.mapping.detectors import ValueProfile, profile_values

SAMPLE_ROWS = 20_000
EXTENSIONS = {".csv", ".txt", ".tsv"}
SKIPPED = {"manifest.json", "workflows.json"}
KEY_FILL = 0.99  # share of rows a key column fills
REFERENCE = 0.9  # share of a column's values found in another file's key: a reference


@dataclass
class Reference:
    """`file.column` (this side) whose values are found in `target`'s key column."""
    column: str
    target: str  # relative file name
    target_key: str
    share: float  # of the column's rows whose value is a key value of the target
    rows: int


@dataclass
class SourceFile:
    relative: str  # path inside the export folder, as the source map names it
    shape: CsvShape
    header: list[str]
    rows: int  # rows read (the sample)
    truncated: bool  # the file holds more rows than the sample
    profiles: dict[str, ValueProfile]
    values: dict[str, list[str | None]] = field(default_factory=dict, repr=False)  # the sample, by header
    keys: list[str] = field(default_factory=list)  # candidate key headers
    references: list[Reference] = field(default_factory=list)
    _full_keys: dict[str, set[str]] = field(default_factory=dict, repr=False)

    def key_values(self, header: str) -> set[str]:
        """Every value of a key column (the whole file, not only the sample)."""
        if header not in self._full_keys:
            if self.truncated:
                values = _read_columns(self.shape, limit=None, only=self.header.index(header))[0]
                self._full_keys[header] = {v.strip() for v in values if v and v.strip()}
            else:
                self._full_keys[header] = set(self.profiles[header].counts)
        return self._full_keys[header]


def export_files(source: Path) -> list[Path]:
    """The export's delimited files (sorted), manifest and workflows left out."""
    out = []
    for path in sorted(source.rglob("*")):
        if path.name in SKIPPED or path.suffix.lower() not in EXTENSIONS or not path.is_file():
            continue
        relative = path.relative_to(source).as_posix()
        inside_export(source, relative)  # refuses a symlink pointing out of the folder
        out.append(path)
    return out


def read_source_file(source: Path, path: Path, limit: int = SAMPLE_ROWS) -> SourceFile:
    """Sniff and sample one file (LandingError when it is no readable delimited file)."""
    shape = sniff_csv(path)
    columns = _read_columns(shape, limit=limit + 1)
    rows = len(columns[0]) if columns else 0
    truncated = rows > limit
    if truncated:
        columns = [c[:limit] for c in columns]
        rows = limit
    profiles = {h: profile_values(col) for h, col in zip(shape.header, columns)}
    return SourceFile(path.relative_to(source).as_posix(), shape, list(shape.header), rows, truncated, profiles,
                      dict(zip(shape.header, columns)))


def _read_columns(shape: CsvShape, limit: int | None, only: int | None = None) -> list[list[str | None]]:
    """The file's values by column (header row left out), read by DuckDB as text; a file DuckDB
    cannot take as it is (another encoding, CR line ends) goes through a UTF-8 copy or Python's
    csv reader."""
    width = len(shape.header)
    try:
        if shape.needs_rewriting:
            raise duckdb.Error("CR record ends: read by Python")
        with tempfile.TemporaryDirectory(prefix="clinic2zoho_propose_") as tmp:
            path = shape.path
            if shape.needs_transcoding:
                path = transcode_to_utf8(shape, Path(tmp) / "utf8.csv")
            names = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width))
            select = f"c{only}" if only is not None else ", ".join(f"c{i}" for i in range(width))
            con = duckdb.connect()
            try:
                rows = con.execute(
                    f"select {select} from read_csv(?, delim=?, quote='\"', escape='\"', header=false, skip=1, "
                    f"columns={{{names}}}, all_varchar=true, ignore_errors=true, null_padding=false, "
                    f"max_line_size=33554432, auto_detect=false)" + (f" limit {int(limit)}" if limit else ""),
                    [str(path), shape.delimiter]).fetchall()
            finally:
                con.close()
    except (duckdb.Error, LandingError):
        rows = _python_rows(shape, limit, width)
        if only is not None:
            rows = [(r[only],) for r in rows]
    count = 1 if only is not None else width
    return [[r[i] for r in rows] for i in range(count)]


def _python_rows(shape: CsvShape, limit: int | None, width: int) -> list[tuple[str | None, ...]]:
    errors = "clinic2zoho_c1" if shape.encoding == "cp1252" else "replace"
    rows: list[tuple[str | None, ...]] = []
    with shape.path.open("r", encoding=shape.encoding, errors=errors, newline="") as handle:
        reader = csv.reader(handle, delimiter=shape.delimiter)
        next(reader, None)
        for record in reader:
            if not record or len(record) != width:  # blank lines and malformed records
                continue
            rows.append(tuple(record))
            if limit and len(rows) >= limit:
                break
    return rows


def candidate_keys(f: SourceFile) -> list[str]:
    """Headers whose values identify a record: unique, filled, identifier-like, not dates."""
    out = []
    for header, p in f.profiles.items():
        if p.non_null < max(1, KEY_FILL * f.rows) or not p.unique:
            continue
        if p.share("any_date") > 0.5 or p.share("email") > 0.5 or p.share("free_text") > 0.2:
            continue
        if p.share("id_like") >= 0.95 or p.share("integer") >= 0.95:
            out.append(header)
    return out


def find_references(files: list[SourceFile]) -> None:
    """Fill each file's candidate keys and the references of its identifier-like columns to other
    files' keys (value overlap)."""
    for f in files:
        f.keys = candidate_keys(f)
    for f in files:
        for header, p in f.profiles.items():
            if not p.non_null or p.share("any_date") > 0.5 or p.share("id_like") + p.share("integer") < 0.8:
                continue
            for g in files:
                if g is f:
                    continue
                for key in g.keys:
                    values = g.key_values(key)
                    hit = sum(n for v, n in p.counts.items() if v in values)
                    share = hit / p.non_null
                    if share >= 0.5:
                        f.references.append(Reference(header, g.relative, key, share, p.non_null))


def read_export(source: Path, limit: int = SAMPLE_ROWS) -> tuple[list[SourceFile], list[dict]]:
    """Every readable delimited file of the export, and the files left out with the reason."""
    files, skipped = [], []
    for path in export_files(source):
        try:
            files.append(read_source_file(source, path, limit))
        except LandingError as exc:
            message = str(exc).split(": ", 1)[-1] if exc.file else str(exc)
            skipped.append({"file": path.relative_to(source).as_posix(), "reasons": [f"not read: {message}"]})
    find_references(files)
    return files, skipped
