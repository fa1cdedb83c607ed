"""The generic clinic export (docs/generic_export.md): manifest.json, one CSV per entity, and
workflows.json. Document files are never read here; only their metadata rows land."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from .errors import LandingError
from .names import snake
from .result import FileLoad
from .sniff import CsvShape, sniff_csv
from .store import Batch, land_relation, record_file_load, record_rejects, table_name

MANIFEST = "manifest.json"
WORKFLOW_COLUMNS = ["workflow_id", "name", "active", "trigger_type", "trigger_entity", "definition"]


def read_manifest(source: Path) -> dict[str, Any]:
    path = source / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise LandingError(f"cannot read manifest: {exc.strerror or exc}", file=path) from exc
    except json.JSONDecodeError as exc:
        raise LandingError(f"manifest is not valid JSON ({exc.msg}, column {exc.colno})", file=path,
                           row=exc.lineno) from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("entities"), dict):
        raise LandingError("manifest has no 'entities' object", file=path, field="entities")
    return manifest


def record_keys(source: Path) -> dict[str, str]:
    """Entity -> record-key column, from the manifest's `key` (checked present by `plan`)."""
    return {snake(name): snake(spec["key"]) for name, spec in read_manifest(source)["entities"].items()
            if isinstance(spec, dict) and spec.get("key")}


def plan(source: Path) -> list[tuple[str, CsvShape]]:
    manifest = read_manifest(source)
    manifest_path = source / MANIFEST
    required: dict[str, set[str]] = {}
    for relation in manifest.get("relations") or []:
        if isinstance(relation, dict):
            for side in ("left", "right"):
                column = (relation.get(side) or {}).get("column")
                if column:
                    required.setdefault(snake(str(relation.get("entity", ""))), set()).add(snake(column))
    planned = []
    for name, spec in manifest["entities"].items():
        if not isinstance(spec, dict) or not spec.get("file"):
            raise LandingError(f"entity {name!r} has no 'file'", file=manifest_path, field=f"entities.{name}")
        entity = snake(name)
        path = source / spec["file"]
        if not path.is_file():
            raise LandingError(f"file listed for entity {name!r} is missing", file=path)
        shape = sniff_csv(path)
        needs = set(required.get(entity, set()))
        if spec.get("key"):
            needs.add(snake(spec["key"]))
        for column in sorted(needs - set(shape.columns)):
            raise LandingError("required column is missing from the header", file=path, field=column)
        planned.append((entity, shape))
    return planned


def land_extras(con: duckdb.DuckDBPyConnection, source: Path, batch: Batch) -> list[FileLoad]:
    manifest = read_manifest(source)
    name = manifest.get("workflows")
    if not name:
        return []
    path = source / name
    if not path.is_file():
        raise LandingError("workflows file named in the manifest is missing", file=path)
    return [land_workflows(con, path, batch)]


def land_workflows(con: duckdb.DuckDBPyConnection, path: Path, batch: Batch) -> FileLoad:
    """One row per workflow definition; the definition is kept whole as JSON text."""
    try:
        items = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise LandingError(f"not valid JSON ({exc.msg}, column {exc.colno})", file=path, row=exc.lineno) from exc
    if isinstance(items, dict) and isinstance(items.get("workflows"), list):
        items = items["workflows"]
    if not isinstance(items, list):
        raise LandingError("expected a JSON array of workflow definitions", file=path)
    good, bad = [], []
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            bad.append((n, None, "workflow definition is not a JSON object", json.dumps(item)))
        elif not item.get("workflow_id"):
            bad.append((n, "workflow_id", "workflow definition has no workflow_id", json.dumps(item)))
        else:
            trigger = item.get("trigger") if isinstance(item.get("trigger"), dict) else {}
            active = item.get("active")
            good.append((str(item["workflow_id"]), _text(item.get("name")),
                         None if active is None else str(active).lower(), _text(trigger.get("type")),
                         _text(trigger.get("entity")), json.dumps(item, ensure_ascii=False), n))
    con.execute("CREATE OR REPLACE TEMP TABLE _landing_workflows (workflow_id VARCHAR, name VARCHAR, "
                "active VARCHAR, trigger_type VARCHAR, trigger_entity VARCHAR, definition VARCHAR, _rn BIGINT)")
    if good:
        con.executemany("INSERT INTO _landing_workflows VALUES (?, ?, ?, ?, ?, ?, ?)", good)
    table = table_name("generic", "workflows")
    read_good, landed, unchanged = land_relation(con, table, WORKFLOW_COLUMNS, "SELECT * FROM _landing_workflows",
                                                 str(path), batch, key="workflow_id")
    rejected = 0
    if bad:
        con.execute("CREATE OR REPLACE TEMP TABLE _landing_workflow_rejects (source_row BIGINT, field VARCHAR, "
                    "reason VARCHAR, raw_record VARCHAR)")
        con.executemany("INSERT INTO _landing_workflow_rejects VALUES (?, ?, ?, ?)", bad)
        rejected = record_rejects(con, "SELECT * FROM _landing_workflow_rejects", str(path), batch)
    con.execute("DROP TABLE IF EXISTS _landing_workflows; DROP TABLE IF EXISTS _landing_workflow_rejects")
    load = FileLoad("workflows", str(path), table, read_good + rejected, landed, unchanged, rejected)
    record_file_load(con, batch, load.entity, load.file, load.read, landed, unchanged, rejected)
    return load


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
