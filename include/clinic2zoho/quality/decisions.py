"""A person's decisions on duplicate patient pairs, kept as two CSV files in the work folder's
`decisions/` (owner-only, like everything there) that the run passes to dbt:

- patient_merges.csv (dbt var patient_merges_file): duplicate_patient_id, surviving_patient_id,
  decided_by, decided_at — the duplicate is left out of Zoho and its records move to the survivor;
- patient_distinct.csv (dbt var patient_distinct_file): patient_id_1, patient_id_2, decided_by,
  decided_at — two different people, both loaded.

A new decision on a pair replaces an earlier one on it. A merge into a patient that is itself
merged away, or away from a patient others were merged into, is refused (dbt reads one step:
duplicate -> survivor). The files are not covered by the mapping's confirmation hash: each row is
its own confirmation (who, when), and the gate wants one for every pair that needs it."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from clinic2zoho import settings

FOLDER = "decisions"
MERGES, DISTINCT = "patient_merges.csv", "patient_distinct.csv"
MERGE_COLUMNS = ("duplicate_patient_id", "surviving_patient_id", "decided_by", "decided_at")
DISTINCT_COLUMNS = ("patient_id_1", "patient_id_2", "decided_by", "decided_at")


class DecisionError(ValueError):
    """A decision that cannot be recorded as given (says why)."""


@dataclass(frozen=True)
class Decisions:
    merges: dict[str, dict]  # duplicate id -> row
    distinct: dict[tuple[str, str], dict]  # (smaller id, larger id) -> row

    def survivor(self, patient_id: str) -> str:
        row = self.merges.get(patient_id)
        return row["surviving_patient_id"] if row else patient_id

    def decision(self, id_1: str, id_2: str) -> str | None:
        """merged, distinct, contradictory or None, as dbt's int_duplicate_decisions says it."""
        merged = self.survivor(id_1) == self.survivor(id_2)
        distinct = pair(id_1, id_2) in self.distinct
        return "contradictory" if merged and distinct else "merged" if merged else "distinct" if distinct else None


def pair(id_1: str, id_2: str) -> tuple[str, str]:
    return (id_1, id_2) if id_1 <= id_2 else (id_2, id_1)


def folder(home: Path | None = None) -> Path:
    return (home or settings.home()) / FOLDER


def _read(path: Path, columns: tuple[str, ...]) -> list[dict]:
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [{c: (row.get(c) or "").strip() for c in columns} for row in rows]


def read(where: Path, merges_file: Path | None = None) -> Decisions:
    """The decisions in folder `where` (a merges file given instead of the folder's, e.g.
    `migrate --merges`, may lack decided_by/decided_at)."""
    merges = {r["duplicate_patient_id"]: r for r in _read(merges_file or where / MERGES, MERGE_COLUMNS)
              if r["duplicate_patient_id"]}
    distinct = {pair(r["patient_id_1"], r["patient_id_2"]): r for r in _read(where / DISTINCT, DISTINCT_COLUMNS)
                if r["patient_id_1"] and r["patient_id_2"] and r["decided_by"]}
    return Decisions(merges, distinct)


def _write(path: Path, columns: tuple[str, ...], rows: list[dict]) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


def record(where: Path, *, merges: list[tuple[str, str]] = (), distinct: list[tuple[str, str]] = (), by: str,
           now: datetime | None = None) -> Decisions:
    """Record `merges` (duplicate, survivor) and `distinct` pairs as decided by `by` now, in folder
    `where`; returns every decision the folder holds afterwards. Nothing is written when one of
    them cannot be recorded."""
    by = (by or "").strip()
    if not by:
        raise DecisionError("say who decides: --by NAME")
    at = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    current = read(where)
    merged = dict(current.merges)
    apart = dict(current.distinct)
    for dup, survivor in merges:
        dup, survivor = dup.strip(), survivor.strip()
        if not dup or not survivor or dup == survivor:
            raise DecisionError(f"merge {dup}={survivor}: give two different patient ids, DUPLICATE=SURVIVOR")
        if merged.get(survivor, {}).get("surviving_patient_id") == dup:
            del merged[survivor]  # the same pair merged the other way before
        merged[dup] = {"duplicate_patient_id": dup, "surviving_patient_id": survivor, "decided_by": by,
                       "decided_at": at}
        apart.pop(pair(dup, survivor), None)
    for id_1, id_2 in distinct:
        id_1, id_2 = id_1.strip(), id_2.strip()
        if not id_1 or not id_2 or id_1 == id_2:
            raise DecisionError(f"distinct {id_1},{id_2}: give two different patient ids, ID1,ID2")
        for a, b in ((id_1, id_2), (id_2, id_1)):
            if merged.get(a, {}).get("surviving_patient_id") == b:
                del merged[a]
        a, b = pair(id_1, id_2)
        apart[(a, b)] = {"patient_id_1": a, "patient_id_2": b, "decided_by": by, "decided_at": at}
    for dup, row in merged.items():
        survivor = row["surviving_patient_id"]
        if survivor in merged:
            raise DecisionError(f"merge {dup}={survivor}: {survivor} is itself merged into "
                                f"{merged[survivor]['surviving_patient_id']}; merge {dup} into that patient")
    result = Decisions(merged, apart)
    for a, b in apart:
        if result.decision(a, b) == "contradictory":
            raise DecisionError(f"distinct {a},{b}: both are merged into {result.survivor(a)}")
    _write(where / MERGES, MERGE_COLUMNS, sorted(merged.values(), key=lambda r: r["duplicate_patient_id"]))
    _write(where / DISTINCT, DISTINCT_COLUMNS, [apart[k] for k in sorted(apart)])
    return result
