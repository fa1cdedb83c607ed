"""Paths found through an export (manifest entries, Synthea and FHIR file names) may only name
files inside the export folder: an export is untrusted input, and `../../etc/shadow`, an absolute
path or a symlink pointing out of the folder would land a file of the host into the warehouse.
Every such path goes through `inside_export` before anything opens it."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import LandingError


def inside_export(source: Path, relative: str | os.PathLike[str], *, named_in: Path | None = None,
                  field: str | None = None) -> Path:
    """`source / relative` once it is known to be a file inside `source` with every symlink
    followed (symlinks inside the folder pointing inside it are fine). Returns the path as given,
    which lineage keeps; the landing's change check (stability.py) notices a symlink swapped later.

    `named_in`/`field`: the file and field the path was read from (a manifest entry), which the
    error names; otherwise the error names the path itself. Refuses absolute paths, `..` escapes,
    symlinks out of the folder, missing files and anything that is not a regular file."""
    where = {"file": named_in, "field": field} if named_in is not None else {}
    if not isinstance(relative, (str, os.PathLike)) or not str(relative).strip():
        raise LandingError("expected a file name relative to the export folder", **_where(where, source))
    text = os.fspath(relative)
    path = source / text
    label = f"{text!r}"
    if Path(text).is_absolute():
        raise LandingError(f"refused: {label} is an absolute path; an export may only name files inside "
                           "its own folder", **_where(where, path))
    if os.path.normpath(text).split(os.sep)[0] == os.pardir:  # refused whether or not it exists
        raise LandingError(f"refused: {label} is a path that leads outside the export folder; an export "
                           "may only name files inside its own folder", **_where(where, path))
    try:
        root = source.resolve(strict=True)
        target = path.resolve(strict=True)
    except FileNotFoundError as exc:
        raise LandingError(f"{label} is missing", **_where(where, path)) from exc
    except (OSError, RuntimeError, ValueError) as exc:  # symlink loop, permission, NUL byte
        raise LandingError(f"cannot resolve {label}: {getattr(exc, 'strerror', None) or exc}",
                           **_where(where, path)) from exc
    if not target.is_relative_to(root):
        how = "a symlink pointing" if _has_symlink(source, text) else "a path that leads"
        raise LandingError(f"refused: {label} is {how} outside the export folder; an export may only "
                           "name files inside its own folder", **_where(where, path))
    if not target.is_file():
        raise LandingError(f"{label} is not a regular file", **_where(where, path))
    return path


def _where(where: dict, path: Path) -> dict:
    return where or {"file": path}


def _has_symlink(source: Path, relative: str) -> bool:
    """Whether any component of `relative` under `source` is a symlink (for the error's wording)."""
    current = source
    for part in Path(relative).parts:
        current = current / part
        if current.is_symlink():
            return True
    return False
