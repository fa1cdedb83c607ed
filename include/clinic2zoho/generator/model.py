"""What a generated export holds: paths, row counts per entity and the cases injected on purpose,
so tests (and the demo) can assert that every one of them is found downstream."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class DuplicatePair:
    """A patient entered twice. `kind` says how the second entry differs from the first."""

    original_id: str
    duplicate_id: str
    kind: str  # typo_last_name | typo_first_name | swapped_names | case_and_spacing


@dataclass(frozen=True)
class MalformedRow:
    """A CSV record with the wrong number of fields; landing must reject it."""

    entity: str
    source_row: int  # 1-based record number, header excluded
    record_id: str
    reason: str  # extra_field | missing_field


@dataclass(frozen=True)
class InjectedValue:
    """A field holding a value a clinic export really contains but that is wrong."""

    entity: str
    record_id: str
    column: str
    value: str
    reason: str  # invalid_date | invalid_email | invalid_phone | unknown_patient | unknown_provider


@dataclass
class InjectedCases:
    duplicate_pairs: list[DuplicatePair] = field(default_factory=list)
    malformed_rows: list[MalformedRow] = field(default_factory=list)
    invalid_values: list[InjectedValue] = field(default_factory=list)
    orphans: list[InjectedValue] = field(default_factory=list)
    oversized_documents: list[str] = field(default_factory=list)
    long_notes: list[str] = field(default_factory=list)
    providers_without_email: list[str] = field(default_factory=list)
    providers_not_in_zoho: list[str] = field(default_factory=list)
    # provider_id -> email the clinic fills in (missing or changed emails)
    email_overrides: dict[str, str] = field(default_factory=dict)
    # record-owning providers left without any email on purpose (breaks the owner gate)
    unresolved_providers: list[str] = field(default_factory=list)

    def invalid(self, reason: str) -> list[InjectedValue]:
        return [v for v in self.invalid_values if v.reason == reason]

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


@dataclass
class GeneratedExport:
    out_dir: Path
    export_dir: Path
    manifest_path: Path
    zoho_users_path: Path
    overrides_path: Path
    cases_path: Path
    counts: dict[str, int]  # data records written per entity file (malformed ones included)
    cases: InjectedCases
    files_written: int = 0

    @property
    def total_rows(self) -> int:
        return sum(self.counts.values())

    def write_cases(self) -> None:
        payload = {"counts": self.counts, "cases": self.cases.to_json()}
        self.cases_path.write_text(json.dumps(payload, indent=1, ensure_ascii=False), encoding="utf-8")
