"""Rows of the Zoho-shaped tables, read from the warehouse (read-only) as plain dicts with values
Zoho accepts (ISO dates and datetimes with offset, numbers, strings)."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import duckdb

from clinic2zoho.loader.plan import ModuleSpec


def zoho_value(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("datetime without a UTC offset")
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


class TableSource:
    """Reads `spec.table` from a DuckDB file, opened read-only for the duration of one read so
    parallel loading processes never hold a writer lock on the warehouse (or for a block of reads:
    `held`)."""

    def __init__(self, warehouse: str | Path):
        self.warehouse = Path(warehouse)
        self._held: duckdb.DuckDBPyConnection | None = None

    def _connect(self) -> duckdb.DuckDBPyConnection:
        if not self.warehouse.is_file():
            raise FileNotFoundError(f"{self.warehouse}: warehouse not found (run land and dbt build first)")
        return duckdb.connect(str(self.warehouse), read_only=True)

    @contextmanager
    def held(self) -> Iterator[TableSource]:
        """Every read inside the block over one read-only connection, closed after: for checks that
        read many tables in a row (the layout gate before a load), where opening the file per read
        costs more than the read."""
        self._held = self._connect()
        try:
            yield self
        finally:
            self._held.close()
            self._held = None

    @contextmanager
    def _reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if self._held is not None:
            yield self._held
            return
        con = self._connect()
        try:
            yield con
        finally:
            con.close()

    def columns(self, spec: ModuleSpec) -> list[str]:
        with self._reading() as con:
            return [d[0] for d in con.execute(f"SELECT * FROM {spec.table} LIMIT 0").description]

    def count(self, spec: ModuleSpec) -> int:
        with self._reading() as con:
            return int(con.execute(f"SELECT count(*) FROM {spec.table}").fetchone()[0])

    def empty_counts(self, spec: ModuleSpec, columns: list[str]) -> dict[str, int]:
        """Rows per column holding NULL or '' (a value Zoho reads as absent), and `__rows__`."""
        parts = ", ".join(f"count(*) FILTER (WHERE \"{c}\" IS NULL OR CAST(\"{c}\" AS VARCHAR) = '')"
                          for c in columns)
        with self._reading() as con:
            values = con.execute(f"SELECT count(*){', ' + parts if parts else ''} FROM {spec.table}").fetchone()
        return {"__rows__": int(values[0]), **{c: int(v) for c, v in zip(columns, values[1:])}}

    def export_folder(self) -> Path | None:
        """The export folder landed into this warehouse (landing's `raw._batches`), when exactly
        one was and its path is absolute; else None (then documents are read only when the folder
        is given)."""
        if not self.warehouse.is_file():
            return None
        try:
            with self._reading() as con:
                found = {r[0] for r in con.execute("SELECT DISTINCT source FROM raw._batches").fetchall() if r[0]}
        except duckdb.CatalogException:
            return None
        if len(found) != 1:
            return None
        folder = Path(found.pop())
        return folder if folder.is_absolute() else None

    def rows(self, spec: ModuleSpec, chunk: int = 10_000) -> Iterator[dict]:
        with self._reading() as con:
            cur = con.execute(f"SELECT * FROM {spec.table}")
            cols = [d[0] for d in cur.description]
            while batch := cur.fetchmany(chunk):
                for position, values in enumerate(batch):
                    row = {}
                    for col, value in zip(cols, values):
                        try:
                            row[col] = zoho_value(value)
                        except ValueError as exc:
                            raise ValueError(f"{spec.table}, column {col}: {exc}") from None
                    yield row


def parse_subform(value: Any, table: str, column: str, key: str) -> list[dict] | None:
    """A subform column holds a JSON list of line items (or a list already)."""
    if value is None or isinstance(value, list):
        return value
    try:
        parsed = json.loads(value)
    except (TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{table}, row {key}, field {column}: not a JSON list of line items ({exc})") from None
    if not isinstance(parsed, list):
        raise ValueError(f"{table}, row {key}, field {column}: expected a JSON list of line items")
    return parsed
