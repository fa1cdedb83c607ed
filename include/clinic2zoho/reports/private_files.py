"""Reports holding patient values (the sample diff, the reconciliation) are for the work folder's
owner only, whatever folder they are written to and whatever the umask: files 0600, a folder
created for them 0700. A file left readable by an earlier version is closed when rewritten."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

FILE_MODE, FOLDER_MODE = 0o600, 0o700


def private_folder(path: Path) -> Path:
    path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    return path


def open_private(path: Path, newline: str | None = None) -> IO[str]:
    """`path` opened for writing text, readable and writable by its owner only."""
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return os.fdopen(fd, "w", encoding="utf-8", newline=newline)


def write_private(path: Path, text: str) -> None:
    with open_private(path) as fh:
        fh.write(text)
