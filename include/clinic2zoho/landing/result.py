"""What a landing run reports back: one line per source file, checked for conservation."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FileLoad:
    """Counts for one source file. `read = landed + unchanged + rejected` always holds."""

    entity: str
    file: str
    table: str
    read: int
    landed: int
    unchanged: int
    rejected: int

    @property
    def conserved(self) -> bool:
        return self.read == self.landed + self.unchanged + self.rejected


@dataclass
class LandingResult:
    batch_id: str
    format: str
    source: str
    files: list[FileLoad] = field(default_factory=list)

    def by_entity(self) -> dict[str, dict[str, int]]:
        """Counts summed per entity (an entity may come from several files, e.g. Patient.000/001)."""
        out: dict[str, dict[str, int]] = {}
        for f in self.files:
            row = out.setdefault(f.entity, {"read": 0, "landed": 0, "unchanged": 0, "rejected": 0})
            row["read"] += f.read
            row["landed"] += f.landed
            row["unchanged"] += f.unchanged
            row["rejected"] += f.rejected
        return out

    def totals(self) -> dict[str, int]:
        keys = ("read", "landed", "unchanged", "rejected")
        return {k: sum(getattr(f, k) for f in self.files) for k in keys}

    @property
    def tables(self) -> list[str]:
        return sorted({f.table for f in self.files})
