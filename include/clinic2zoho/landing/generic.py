"""The generic clinic export (docs/generic_export.md): manifest.json, one CSV per entity, and
workflows.json. Document files are never read here; only their metadata rows land."""

from __future__ import annotations

import codecs
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from .errors import LandingError
from .names import snake
from .paths import inside_export
from .result import FileLoad
from .sniff import CsvShape, sniff_csv
from .stability import FileWatch
from .store import Batch, land_relation, record_file_load, record_rejects, table_name

MANIFEST = "manifest.json"
WORKFLOW_COLUMNS = ["workflow_id", "name", "active", "trigger_type", "trigger_entity", "definition"]
FORMAT, VERSIONS = "clinic2zoho-generic", (1,)
ENTITY_FIELDS = ("file", "key")


def _read_bytes(path: Path) -> bytes:
    """The one place this module opens a file (tests replace it to simulate an unreadable one)."""
    return path.read_bytes()


def read_json(path: Path, what: str) -> Any:
    """A JSON file of the export, as UTF-8 (a UTF-8 or UTF-16 BOM is honoured); every way it can
    fail is a LandingError naming the file."""
    try:
        data = _read_bytes(path)
    except OSError as exc:
        raise LandingError(f"cannot read the {what}: {exc.strerror or type(exc).__name__}", file=path) from exc
    encoding = "utf-16" if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise LandingError(f"the {what} is not valid {encoding.removesuffix('-sig').upper()} text "
                           f"(byte {exc.start}); save it as UTF-8", file=path) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise LandingError(f"the {what} is not valid JSON ({exc.msg}, column {exc.colno})", file=path,
                           row=exc.lineno) from exc


def read_manifest(source: Path, watch: FileWatch | None = None) -> dict[str, Any]:
    path = inside_export(source, MANIFEST)
    if watch is not None:
        watch.note(path)
    manifest = read_json(path, "manifest")
    if not isinstance(manifest, dict):
        raise LandingError(f"the manifest is a JSON {_json_type(manifest)}, expected an object", file=path)
    if not isinstance(manifest.get("entities"), dict):
        raise LandingError("manifest has no 'entities' object", file=path, field="entities")
    check_manifest(manifest, path)
    return manifest


def _json_type(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number")


def check_manifest(manifest: dict[str, Any], path: Path) -> None:
    """Refuse what the landing would otherwise misread: another format or version, entities whose
    names do not make distinct table names, entries of the wrong type, reading options this landing
    does not take (it detects encoding and delimiter itself)."""
    fmt, version = manifest.get("format"), manifest.get("version")
    if fmt is not None and fmt != FORMAT:
        raise LandingError(f"the manifest's format is {fmt!r}, not {FORMAT!r}", file=path, field="format")
    if version is not None and (isinstance(version, bool) or version not in VERSIONS):
        raise LandingError(f"manifest version {version!r} is not supported (supported: "
                           f"{', '.join(map(str, VERSIONS))})", file=path, field="version")
    entities = manifest["entities"]
    if not entities:
        raise LandingError("the manifest lists no entities", file=path, field="entities")
    workflows = manifest.get("workflows")
    if workflows is not None and not isinstance(workflows, str):
        raise LandingError(f"'workflows' must be a file name, not a JSON {_json_type(workflows)}", file=path,
                           field="workflows")
    seen = {"workflows": "the workflows file"} if workflows else {}  # table -> what lands there
    for name, spec in entities.items():
        where = f"entities.{name}"
        table = snake(name)
        if not table:
            raise LandingError(f"entity name {name!r} gives no table name (it needs a letter or digit)",
                               file=path, field=where)
        if table in seen:
            raise LandingError(f"entity {name!r} and {seen[table]} would land in the same table "
                               f"raw.generic__{table}", file=path, field=where)
        seen[table] = f"entity {name!r}"
        if not isinstance(spec, dict):
            raise LandingError(f"entity {name!r} must be an object with 'file' and 'key', not a JSON "
                               f"{_json_type(spec)}", file=path, field=where)
        if unknown := sorted(set(spec) - set(ENTITY_FIELDS)):
            raise LandingError(f"entity {name!r} has unsupported field(s) {', '.join(map(repr, unknown))}; an "
                               f"entity takes {' and '.join(map(repr, ENTITY_FIELDS))} (encoding and delimiter "
                               "are detected)", file=path, field=f"{where}.{unknown[0]}")
        if not isinstance(spec.get("file"), str) or not spec["file"].strip():
            raise LandingError(f"entity {name!r} has no 'file'", file=path, field=f"{where}.file")
        key = spec.get("key")
        if key is not None and (not isinstance(key, str) or not snake(key)):
            raise LandingError(f"entity {name!r} has a 'key' that names no column", file=path, field=f"{where}.key")
    relations = manifest.get("relations")
    if relations is not None and not isinstance(relations, list):
        raise LandingError("'relations' must be an array", file=path, field="relations")
    for i, relation in enumerate(relations or []):
        sides = [relation.get(side) for side in ("left", "right")] if isinstance(relation, dict) else [None]
        if not all(isinstance(side, dict) and isinstance(side.get("column", ""), str) for side in sides):
            raise LandingError("a relation must be an object whose 'left' and 'right' are objects naming a "
                               "'column'", file=path, field=f"relations[{i}]")


@dataclass(frozen=True)
class Layout:
    """What says which file is which entity: the manifest, or the export's confirmed source map
    (docs/source_map.md), whose entities and keys win where both exist. `described_by` is the file
    errors point at."""

    entities: dict[str, Any]
    described_by: Path
    relations: list[Any]
    workflows: str | None
    source_map: dict[str, Any] | None = None
    source_map_path: Path | None = None


def read_layout(source: Path, watch: FileWatch | None = None) -> Layout:
    from clinic2zoho.mapping import source_map

    manifest = read_manifest(source, watch) if has_manifest(source) else None
    map_path = source_map.find_for(source)
    if map_path is None:
        if manifest is None:
            raise LandingError("no manifest.json and no source map for this export: propose one with "
                               f"`clinic2zoho propose --source {source}`, review and confirm it", file=source)
        return Layout(manifest["entities"], source / MANIFEST, manifest.get("relations") or [],
                      manifest.get("workflows"))
    try:
        doc = source_map.read_source_map(map_path)
    except source_map.SourceMapError as exc:
        raise LandingError(str(exc).removeprefix(f"{map_path}: "), file=map_path, field=exc.field) from exc
    workflows = doc.get("workflows") or (manifest or {}).get("workflows")
    return Layout(source_map.landing_entities(doc), map_path, (manifest or {}).get("relations") or [], workflows,
                  doc, map_path)


def has_manifest(source: Path) -> bool:
    return (source / MANIFEST).exists() or (source / MANIFEST).is_symlink()  # then read, or refused


def record_keys(source: Path) -> dict[str, str]:
    """Entity -> record-key column, from the layout's `key` (checked present by `plan`)."""
    return {snake(name): snake(spec["key"]) for name, spec in read_layout(source).entities.items()
            if isinstance(spec, dict) and spec.get("key")}


def plan(source: Path, watch: FileWatch | None = None) -> list[tuple[str, CsvShape]]:
    """Every entity file, checked inside the export and sniffed, before anything is written."""
    watch = watch or FileWatch()
    layout = read_layout(source, watch)
    if layout.source_map_path is not None:
        watch.note(layout.source_map_path)
    required: dict[str, set[str]] = {}
    for relation in layout.relations:
        if isinstance(relation, dict):
            for side in ("left", "right"):
                column = (relation.get(side) or {}).get("column")
                if column:
                    required.setdefault(snake(str(relation.get("entity", ""))), set()).add(snake(column))
    planned = []
    for name, spec in layout.entities.items():
        if not isinstance(spec, dict) or not spec.get("file"):
            raise LandingError(f"entity {name!r} has no 'file'", file=layout.described_by, field=f"entities.{name}")
        entity = snake(name)
        path = watch.note(inside_export(source, spec["file"], named_in=layout.described_by,
                                        field=f"entities.{name}.file"))
        shape = sniff_csv(path)
        needs = set(required.get(entity, set()))
        if spec.get("key"):
            needs.add(snake(spec["key"]))
        if layout.source_map is not None:
            needs |= {snake(c["source"]) for c in layout.source_map["entities"][name].get("columns") or []
                      if c.get("column")}
        for column in sorted(needs - set(shape.columns)):
            raise LandingError(f"required column is missing from the header (the header has: "
                               f"{', '.join(shape.header)})", file=path, field=column)
        planned.append((entity, shape))
    if layout.workflows:
        watch.note(inside_export(source, layout.workflows, named_in=layout.described_by, field="workflows"))
    return planned


def land_extras(con: duckdb.DuckDBPyConnection, source: Path, batch: Batch,
                watch: FileWatch | None = None) -> list[FileLoad]:
    """The workflows file, and the source map the export was read with (raw._source_map)."""
    from clinic2zoho.mapping import source_map

    layout = read_layout(source)
    source_map.record_in_warehouse(con, layout.source_map, layout.source_map_path)
    if not layout.workflows:
        return []
    path = inside_export(source, layout.workflows, named_in=layout.described_by, field="workflows")
    load = land_workflows(con, path, batch)
    if watch is not None:
        watch.verify(path)
    return [load]


def land_workflows(con: duckdb.DuckDBPyConnection, path: Path, batch: Batch) -> FileLoad:
    """One row per workflow definition; the definition is kept whole as JSON text."""
    items = read_json(path, "workflows file")
    if isinstance(items, dict) and isinstance(items.get("workflows"), list):
        items = items["workflows"]
    if not isinstance(items, list):
        raise LandingError(f"expected a JSON array of workflow definitions, found a JSON {_json_type(items)}",
                           file=path)
    good, bad = [], []
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            bad.append((n, None, "workflow definition is not a JSON object", json.dumps(item)))
        elif item.get("workflow_id") is None or not str(item["workflow_id"]).strip():
            bad.append((n, "workflow_id", "workflow definition has no workflow_id", json.dumps(item)))
        elif isinstance(item["workflow_id"], (dict, list, bool)):
            bad.append((n, "workflow_id", f"workflow_id is a JSON {_json_type(item['workflow_id'])}, not a "
                                          "string or number", json.dumps(item)))
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
