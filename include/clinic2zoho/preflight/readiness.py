"""The doctor's readiness table: one row per check, OK / WARN / FAIL with its cause and fix.
Ready means no FAIL (a WARN says what was assumed or left unchecked)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

OK, WARN, FAIL = "OK", "WARN", "FAIL"


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    cause: str
    fix: str = ""

    def __post_init__(self) -> None:
        if self.status not in (OK, WARN, FAIL):
            raise ValueError(f"status must be OK, WARN or FAIL, got {self.status!r}")


@dataclass
class Readiness:
    checks: list[Check] = field(default_factory=list)
    # tables the page shows below the checks: heading -> (headers, rows)
    details: dict[str, tuple[list[str], list[list[Any]]]] = field(default_factory=dict)

    def add(self, name: str, status: str, cause: str, fix: str = "") -> Check:
        check = Check(name, status, cause, fix)
        self.checks.append(check)
        return check

    @property
    def ready(self) -> bool:
        return bool(self.checks) and all(c.status != FAIL for c in self.checks)

    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status == FAIL]

    def status_of(self, name: str) -> str | None:
        return next((c.status for c in self.checks if c.name == name), None)
