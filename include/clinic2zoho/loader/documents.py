"""Which document files of an export may be read, and the one way they are read.

A document's path comes from the export (documents.csv), so it is untrusted: it is taken relative
to the export folder, resolved with every symlink followed, and must stay inside that folder.
Absolute paths, `..` escapes and symlinks pointing out are refused before anything is opened; a
symlink inside the folder pointing inside it is fine. Refusals carry a code and a message that
name no path (a file name may hold a patient's name)."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import BinaryIO

OUTSIDE = "PATH_OUTSIDE_EXPORT"
NOT_FOUND = "FILE_NOT_FOUND"
UNREADABLE = "FILE_UNREADABLE"
NO_FOLDER = "EXPORT_FOLDER_UNKNOWN"

_DRIVE = re.compile(r"^[A-Za-z]:")  # C:\... from a Windows export


class DocumentRefused(Exception):
    def __init__(self, code: str, message: str):
        self.code, self.message = code, message
        super().__init__(message)


class DocumentUnreadable(OSError):
    """The file passed the checks but could not be opened or read (permissions, I/O)."""


def locate(value: str, export_folder: Path | None) -> Path:
    """The real path of the document `value` names, inside `export_folder`; raises DocumentRefused."""
    if export_folder is None:
        raise DocumentRefused(NO_FOLDER, "the export folder is not known (files_root / --files-root):"
                                         " documents are not read")
    text = str(value).replace("\\", "/")  # Windows exports use backslashes
    if "\0" in text:
        raise DocumentRefused(OUTSIDE, "document path is not a valid path")
    if text.startswith("/") or _DRIVE.match(text):
        raise DocumentRefused(OUTSIDE, "document path leaves the export folder (an absolute path)")
    # Lexically first: a `..` that climbs out is refused without touching the file system there.
    normal = posixpath.normpath(text)
    if normal == ".." or normal.startswith("../"):
        raise DocumentRefused(OUTSIDE, "document path leaves the export folder")
    root = Path(export_folder).resolve()
    try:
        real = (root / normal).resolve()  # follows every symlink on the way
    except (OSError, RuntimeError):  # a symlink loop
        raise DocumentRefused(NOT_FOUND, "document file not found (unresolvable path)") from None
    if not real.is_relative_to(root):
        raise DocumentRefused(OUTSIDE, "document path leaves the export folder")
    if not real.is_file():
        raise DocumentRefused(NOT_FOUND, "document file not found")
    return real


def open_document(path: Path) -> BinaryIO:
    """Every read of a document's bytes goes through here (the loader's probe and the upload)."""
    return open(path, "rb")


def opener(path: Path):
    """A callable opening `path` for one upload attempt, its OS errors as DocumentUnreadable."""
    def open_for_upload() -> BinaryIO:
        try:
            return open_document(path)
        except OSError as exc:
            raise DocumentUnreadable(exc.errno, f"document file unreadable ({type(exc).__name__})") from None
    return open_for_upload


def check_readable(path: Path) -> None:
    """Open and read one byte, so a file the loader cannot read is refused before it is journaled."""
    try:
        with opener(path)() as fh:
            fh.read(1)
    except DocumentUnreadable as exc:
        raise DocumentRefused(UNREADABLE, exc.strerror or "document file unreadable") from None
    except OSError as exc:  # a read error after a good open
        raise DocumentRefused(UNREADABLE, f"document file unreadable ({type(exc).__name__})") from None


__all__ = ["DocumentRefused", "DocumentUnreadable", "check_readable", "locate", "open_document", "opener",
           "OUTSIDE", "NOT_FOUND", "UNREADABLE", "NO_FOLDER"]
