"""The one error type landing raises for problems a person must fix in the export."""

from __future__ import annotations

from pathlib import Path


class LandingError(Exception):
    """A fatal problem with a source (missing required column, unreadable or empty file, empty
    folder). The message names the file and, where it applies, the row and field; it never holds
    record values, so it is safe to log."""

    def __init__(self, message: str, *, file: Path | str | None = None, row: int | None = None,
                 field: str | None = None) -> None:
        self.file = str(file) if file is not None else None
        self.row = row
        self.field = field
        where = []
        if file is not None:
            where.append(f"file {file}")
        if row is not None:
            where.append(f"row {row}")
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
