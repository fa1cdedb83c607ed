"""Helpers for landing tests: independent row counts and small exports built in tmp_path."""

from __future__ import annotations

import csv
import json
import uuid
from pathlib import Path

import duckdb
import pytest


def csv_record_count(path: Path, encoding: str = "utf-8-sig", delimiter: str = ",") -> int:
    """Records in a CSV file counted with Python's csv module (header and blank lines excluded)."""
    with path.open(newline="", encoding=encoding) as handle:
        return sum(1 for row in csv.reader(handle, delimiter=delimiter) if row) - 1


def ndjson_line_count(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


_reading: duckdb.DuckDBPyConnection | None = None


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    """`sql` on the warehouse, opened read-only for it: attached to one in-memory database of the
    test process (starting a DuckDB database costs some 15 ms of CPU, attaching a file under one;
    the landing tests query hundreds of times)."""
    global _reading
    if _reading is None:
        _reading = duckdb.connect()
    con = _reading.cursor()
    alias = f"w{uuid.uuid4().hex[:12]}"
    con.execute(f"ATTACH '{str(warehouse).replace(chr(39), chr(39) * 2)}' AS {alias} (READ_ONLY)")
    try:
        con.execute(f"USE {alias}")
        return con.execute(sql, params or []).fetchall()
    finally:
        con.execute("USE memory")
        con.execute(f"DETACH {alias}")
        con.close()


def write_generic_export(folder: Path, files: dict[str, bytes], keys: dict[str, str] | None = None,
                         workflows: bytes | None = None) -> Path:
    """A generic export with one entity per given CSV (entity = file stem, key = `id` unless told)."""
    folder.mkdir(parents=True, exist_ok=True)
    entities = {}
    for name, content in files.items():
        (folder / name).write_bytes(content)
        stem = name.split(".")[0]
        entities[stem] = {"file": name, "key": (keys or {}).get(stem, "id")}
    manifest = {"format": "clinic2zoho-generic", "version": 1, "entities": entities}
    if workflows is not None:
        (folder / "workflows.json").write_bytes(workflows)
        manifest["workflows"] = "workflows.json"
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


@pytest.fixture
def warehouse(work_home: Path) -> Path:
    return work_home / "warehouse.duckdb"
