"""`land_export`: land one clinic export folder into DuckDB schema `raw` as one batch."""

from __future__ import annotations

import logging
import secrets
import tempfile
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path

from .. import settings
from ..formats import FORMATS
from ..transactions import transaction
from . import fhir, generic, synthea
from .delimited import land_delimited
from .errors import LandingError
from .result import LandingResult
from .stability import FileWatch
from .store import Batch, connect, table_name

log = logging.getLogger(__name__)
DELIMITED_SUFFIXES = (".csv", ".txt", ".tsv", ".tab", ".psv")


def detect_format(source: Path) -> str:
    """manifest.json -> generic; *.ndjson -> fhir; patients.csv with Synthea headers -> synthea;
    other CSV files -> generic, read through the export's source map (docs/source_map.md)."""
    if generic.has_manifest(source):
        return "generic"
    if any(p.suffix == ".ndjson" and not fhir.is_log_file(p) for p in source.iterdir()):
        return "fhir"
    if synthea.looks_like_synthea(source):
        return "synthea"
    if any(p.suffix.lower() in DELIMITED_SUFFIXES and p.is_file() for p in source.iterdir()):
        return "generic"
    raise LandingError("cannot tell the export format (no manifest.json, no .ndjson files, no CSV "
                       "files); pass the format explicitly", file=source)


def new_batch_id(now: datetime) -> str:
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def land_export(source: Path, fmt: str | None = None, warehouse: Path | None = None,
                batch_id: str | None = None) -> LandingResult:
    """Land every entity of the export in `source`. All or nothing: a fatal problem raises
    LandingError (naming file, row, field) and leaves the warehouse as it was."""
    source = Path(source)
    if not source.is_dir():
        raise LandingError("source is not a folder", file=source)
    if not any(source.iterdir()):
        raise LandingError("source folder is empty", file=source)
    fmt = fmt or detect_format(source)
    if fmt not in FORMATS:
        raise LandingError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}", file=source)
    warehouse = Path(warehouse) if warehouse else settings.warehouse_path()
    started = datetime.now(timezone.utc)
    batch = Batch(batch_id=batch_id or new_batch_id(started), loaded_at=started)
    result = LandingResult(batch_id=batch.batch_id, format=fmt, source=str(source))

    # Read and check every header before writing anything; every file read is watched for changes.
    watch = FileWatch()
    csv_plan = (synthea.plan(source, watch) if fmt == "synthea" else generic.plan(source, watch)
                if fmt == "generic" else [])
    ndjson_plan = fhir.plan(source, watch) if fmt == "fhir" else []
    generic_keys = generic.record_keys(source) if fmt == "generic" else {}

    with closing(connect(warehouse)) as con, transaction(con):
        if con.execute("SELECT count(*) FROM raw._batches WHERE batch_id = ?", [batch.batch_id]).fetchone()[0]:
            raise LandingError(f"batch id {batch.batch_id!r} was already used", file=source)
        with tempfile.TemporaryDirectory(prefix="landing-", dir=warehouse.parent) as workdir:
            for entity, shape in csv_plan:
                key = synthea.record_key(entity, shape) if fmt == "synthea" else generic_keys.get(entity)
                result.files.append(land_delimited(con, shape, entity, table_name(fmt, entity), batch,
                                                   Path(workdir), key))
                watch.verify(shape.path)
            for entity, path in ndjson_plan:
                result.files.append(fhir.land_ndjson(con, path, entity, table_name(fmt, entity), batch))
                watch.verify(path)
            if fmt == "generic":
                result.files.extend(generic.land_extras(con, source, batch, watch))
            else:  # no source map: staging reads the raw tables as landed
                from clinic2zoho.mapping.source_map import record_in_warehouse
                record_in_warehouse(con, None, None)
        watch.verify_all()
        con.execute("INSERT INTO raw._batches VALUES (?, ?, ?, ?, ?)",
                    [batch.batch_id, fmt, str(source), started, datetime.now(timezone.utc)])
    totals = result.totals()
    log.info("landed batch %s (%s): %s", batch.batch_id, fmt, totals)
    return result
