"""The sample's tables as the checks before its load read them (loader.layout_gate's columns, row
counts and empty values): the row counts are those the selection wrote, and the rest is read over
one read-only connection held for the checks, where a TableSource opens the warehouse for every
read (some 60 opens for the sample's plan)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from clinic2zoho.loader.plan import ModuleSpec
from clinic2zoho.loader.source import TableSource


class _Held:
    """A connection TableSource's reads may "close" after each read: it stays open for the next."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def execute(self, *args: Any) -> duckdb.DuckDBPyConnection:
        return self._con.execute(*args)

    def close(self) -> None:
        pass


class SampleTables(TableSource):
    """TableSource's reads (same SQL) over one connection; `counts`: rows per module as written.
    Use it as a context manager: the connection closes on exit."""

    def __init__(self, warehouse: str | Path, counts: dict[str, int]) -> None:
        super().__init__(warehouse)
        self.counts = dict(counts)
        self._held: duckdb.DuckDBPyConnection | None = None

    def _connect(self) -> Any:
        if self._held is None:
            self._held = super()._connect()
        return _Held(self._held)

    def count(self, spec: ModuleSpec) -> int:
        return self.counts[spec.module] if spec.module in self.counts else super().count(spec)

    def close(self) -> None:
        if self._held is not None:
            self._held.close()
            self._held = None

    def __enter__(self) -> SampleTables:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
