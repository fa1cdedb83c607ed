"""Change detection on an export folder: a fingerprint (size, mtime, sha256) per data file, and
the files that are new, changed or gone since the fingerprints recorded at the watermark.

Only the top-level files of the export are watched (CSV, NDJSON, JSON: what landing reads);
document files under `files/` are reached through `documents.csv`, whose rows change with them.
A file whose size and mtime are as recorded is taken as unchanged without reading it; one whose
size or mtime moved is hashed, so a file that was only touched (same bytes) is not a change."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

WATCHED_SUFFIXES = frozenset({".csv", ".ndjson", ".json", ".txt", ".tsv"})


@dataclass(frozen=True)
class FileFingerprint:
    """One export file as seen at a moment: `name` relative to the export folder."""

    name: str
    size: int
    mtime_ns: int
    sha256: str | None = None  # None when not hashed yet (a new file is a change either way)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping) -> "FileFingerprint":
        return cls(str(data["name"]), int(data["size"]), int(data["mtime_ns"]), data.get("sha256"))


@dataclass(frozen=True)
class ChangeSet:
    """Files new, changed (different bytes) and removed since the recorded fingerprints; `current`
    holds the fingerprints seen now (hashed), to be recorded once the changes are processed."""

    new: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    current: dict[str, FileFingerprint] = field(default_factory=dict)

    @property
    def any(self) -> bool:
        # A removed file is reported but is no delta: landing never deletes what it landed.
        return bool(self.new or self.changed)

    def files(self) -> list[str]:
        return sorted(self.new + self.changed)

    def summary(self) -> dict:
        return {"new": list(self.new), "changed": list(self.changed), "removed": list(self.removed)}


def file_sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def watched_files(source: str | Path) -> list[Path]:
    """The export's data files (top level, no hidden files), sorted by name."""
    folder = Path(source)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: export folder not found")
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in WATCHED_SUFFIXES)


def fingerprint(path: Path, name: str | None = None, *, with_hash: bool = True) -> FileFingerprint:
    st = path.stat()
    return FileFingerprint(name or path.name, st.st_size, st.st_mtime_ns, file_sha256(path) if with_hash else None)


def scan_source(source: str | Path) -> dict[str, FileFingerprint]:
    """Fingerprints (hashed) of every watched file: what a watermark records."""
    return {p.name: fingerprint(p) for p in watched_files(source)}


def detect_changes(source: str | Path, recorded: Mapping[str, FileFingerprint]) -> ChangeSet:
    """Compare the export folder with `recorded` (name -> fingerprint). Reads a file only when its
    size or mtime differ from the record (or it has no recorded hash)."""
    new, changed, current = [], [], {}
    for path in watched_files(source):
        before = recorded.get(path.name)
        seen = fingerprint(path, with_hash=False)
        if before is not None and before.sha256 and (seen.size, seen.mtime_ns) == (before.size, before.mtime_ns):
            current[path.name] = before
            continue
        now = fingerprint(path)
        current[path.name] = now
        if before is None:
            new.append(path.name)
        elif now.sha256 != before.sha256:
            changed.append(path.name)
    removed = sorted(set(recorded) - set(current))
    return ChangeSet(tuple(new), tuple(changed), tuple(removed), current)
