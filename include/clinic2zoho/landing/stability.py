"""An export still being written (or copied) while it lands would land a mix of old and new bytes:
rows cut in half, a header that no longer matches. Each file's size, times and identity are taken
before landing reads it and compared after; any difference fails the batch (nothing lands)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .errors import LandingError

CHANGED = "changed while it was being landed; land again when the export is complete"


def _no_hook(path: Path) -> None:
    return None


# Called after landing has read a file, before its fingerprint is compared: lets a test change
# the file at exactly that moment instead of racing a writer.
after_read: Callable[[Path], None] = _no_hook


@dataclass(frozen=True)
class Fingerprint:
    device: int
    inode: int  # a symlink swapped to another file changes these two
    size: int
    mtime_ns: int
    ctime_ns: int  # changes with any write, even one that restores size and mtime


def fingerprint(path: Path) -> Fingerprint:
    try:
        st = os.stat(path)
    except FileNotFoundError as exc:
        raise LandingError("disappeared while it was being landed; land again when the export is complete",
                           file=path) from exc
    except OSError as exc:
        raise LandingError(f"cannot read file: {exc.strerror or exc}", file=path) from exc
    return Fingerprint(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class FileWatch:
    """The files one landing reads, fingerprinted when first seen (before their header is sniffed)."""

    def __init__(self) -> None:
        self._before: dict[str, Fingerprint] = {}

    def note(self, path: Path) -> Path:
        self._before.setdefault(str(path), fingerprint(path))
        return path

    def verify(self, path: Path) -> None:
        """Call after `path` was read: raise LandingError when it is not the file it was."""
        after_read(path)
        if fingerprint(path) != self._before[str(path)]:
            raise LandingError(CHANGED, file=path)

    def verify_all(self) -> None:
        """Every noted file (the manifest too) is still the one landing began with."""
        for name, before in self._before.items():
            if fingerprint(Path(name)) != before:
                raise LandingError(CHANGED, file=name)
