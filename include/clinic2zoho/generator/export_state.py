"""What writing one export keeps track of (its options, the open entity files, the next id of each
entity, the cases injected, the documents still to write) and one chunk of patients being written,
with the random stream of its own that keeps a seed's bytes the same."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clinic2zoho.generator.columns import COLUMNS
from clinic2zoho.generator.model import InjectedCases

DOCUMENT_CAP = 10_000  # document rows (and files) in one export: attachments are a small share


class EntityFile:
    """One entity CSV, counting the records written (the source_row of the next one is count+1)."""

    def __init__(self, path: Path, columns: list[str], encoding: str) -> None:
        self.path = path
        self.handle = open(path, "w", encoding=encoding, newline="", buffering=1 << 20)
        self.writer = csv.writer(self.handle, lineterminator="\n")
        self.writer.writerow(columns)
        self.count = 0

    def write(self, columns: list[list], reshape: dict[int, tuple] | None = None) -> int:
        """Write rows given column-wise; `reshape` replaces rows (by chunk position) with ragged ones.
        Returns the source_row of the first row written."""
        first = self.count + 1
        rows = zip(*columns)
        if reshape:
            rows = list(rows)
            for pos, row in reshape.items():
                rows[pos] = row
        self.writer.writerows(rows)
        self.count += len(columns[0]) if columns and columns[0] is not None else 0
        return first

    def close(self) -> None:
        self.handle.close()


class ExportState:
    def __init__(self, out_dir: Path, patients: int, seed: int, with_files: bool, defects: bool,
                 unresolved_providers: int, encoding: str) -> None:
        self.out_dir = out_dir
        self.export_dir = out_dir / "export"
        self.n_patients = patients
        self.seed = seed
        self.with_files = with_files
        self.defects = defects
        self.unresolved = unresolved_providers
        self.encoding = encoding
        self.cases = InjectedCases()
        self.files: dict[str, EntityFile] = {}
        self.files_written = 0
        self.next_id = {entity: 1 for entity in COLUMNS}
        self.documents_left = min(DOCUMENT_CAP, max(1, math.ceil(patients * 0.1))) if patients else 0

    def rng(self, *stream: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, *stream])

    def take_ids(self, entity: str, prefix: str, width: int, n: int) -> list[str]:
        start = self.next_id[entity]
        self.next_id[entity] = start + n
        return [f"{prefix}{i:0{width}d}" for i in range(start, start + n)]


@dataclass
class Chunk:
    """A chunk of `size` patients (chunk `number`) and the random stream all its entities draw from
    in turn, so an entity's draws depend on those written before it in the chunk."""

    state: ExportState
    number: int
    size: int
    rng: np.random.Generator

    def quota(self, rate: float, floor: int, of: int) -> int:
        """How many of `of` rows get a planted case: `rate` of them, at least `floor` in the first
        chunk so a small export still holds every kind."""
        k = round(rate * of)
        return max(k, floor) if self.number == 0 else k
