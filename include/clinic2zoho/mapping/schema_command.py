"""`clinic2zoho prepare-schema [--dry-run]`: create in Zoho what the confirmed mapping needs."""

from __future__ import annotations

import argparse
import sys
import uuid
from pathlib import Path

import duckdb

from clinic2zoho import settings
from clinic2zoho.loader.journal import SCHEMA_SCOPE, audit_scope
from clinic2zoho.mapping import files
from clinic2zoho.mapping.gate import require_confirmed
from clinic2zoho.mapping.schema import Plan, apply_plan, build_plan, product_finder
from clinic2zoho.mapping.zoho_access import add_zoho_arguments, client_from_args
from clinic2zoho.zoho import refusals
from clinic2zoho.zoho.errors import ZohoError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="print the plan; change nothing")
    parser.add_argument("--format", dest="formats", action="append", choices=files.FORMATS,
                        help="mapping file(s) to prepare for (default: the formats landed in the warehouse)")
    parser.add_argument("--run-id", default=None, help="run id recorded in ops.schema_changes (default: new)")
    parser.add_argument("--warehouse", type=Path, default=None)
    parser.add_argument("--dbt-project", type=Path, default=None)
    add_zoho_arguments(parser)


def prepare_schema(client, dbt_dir: Path | None = None, formats: list[str] | None = None, dry_run: bool = False,
                   run_id: str | None = None, warehouse: Path | None = None, log=print) -> Plan:
    """Plan (and unless `dry_run`, apply) the schema changes of the confirmed mapping: by default
    of the mapping files of the formats landed in the warehouse only, so an org gets the fields and
    pick-list values this export uses (a generic export's org no Synthea-only Contacts.Race)."""
    dbt_dir = dbt_dir or files.dbt_project_dir()
    require_confirmed(dbt_dir, task="prepare-schema")
    warehouse = warehouse or settings.warehouse_path()
    if not formats:
        formats = landed_formats(warehouse)
        if not formats:
            raise SystemExit(f"no export landed in {warehouse}: land it first (or name the mapping with --format)")
        log(f"preparing the schema for the landed format(s): {', '.join(formats)}")
    mappings = files.read_all(dbt_dir, formats)
    if not mappings:
        raise SystemExit(f"no mapping file for {', '.join(formats)} in {files.mapping_dir(dbt_dir)}: "
                         "run `clinic2zoho propose` first")
    with audit_scope(SCHEMA_SCOPE):  # audited apart from the load's modules (loader/run.run_summary)
        plan = build_plan(mappings, client, product_finder(client))
        for note in plan.notes:
            log(f"note: {note}")
        if dry_run or not plan.steps:
            log(("dry run, nothing changed. plan:\n" if dry_run else "") + plan.describe())
            return plan
        run_id = run_id or new_run_id()
        log(f"run {run_id}: {len(plan.steps)} changes")
        apply_plan(plan, client, warehouse, run_id, log)
    return plan


def landed_formats(warehouse: Path) -> list[str]:
    """The source formats of the batches landed in the warehouse (raw._batches), known ones only."""
    if not Path(warehouse).is_file():
        return []
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            rows = con.execute("select distinct format from raw._batches").fetchall()
    except duckdb.CatalogException:  # nothing landed yet
        return []
    landed = {r[0] for r in rows}
    return [f for f in files.FORMATS if f in landed]


def new_run_id() -> str:
    return f"schema-{uuid.uuid4().hex[:12]}"


def run(args: argparse.Namespace) -> int:
    from clinic2zoho.loader.journal import AuditLog

    run_id = args.run_id or new_run_id()
    # every call of a run that changes the org is audited, under the run id it is recorded with
    audit = None if args.dry_run else AuditLog(settings.journal_root(), run_id)
    client = client_from_args(args, on_call=audit)
    try:
        prepare_schema(client, args.dbt_project, args.formats, args.dry_run, run_id, args.warehouse)
    except ZohoError as exc:  # refused credentials, a rate-limit storm: say what to do, no traceback
        message = refusals.explain(exc, resume="Run prepare-schema again: it creates only what is still missing")
        if message is None:
            raise
        print(message, file=sys.stderr)
        return 3
    finally:
        client.close()
        if audit is not None:
            audit.close()
    return 0
