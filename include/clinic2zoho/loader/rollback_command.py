"""`clinic2zoho rollback --run RUN_ID [--module M] [--schema]`: undo a load run from its journal."""

from __future__ import annotations

import argparse
from pathlib import Path

from clinic2zoho import settings as app_settings
from clinic2zoho.loader import cli_common, journal
from clinic2zoho.loader.rollback import SETUP_MODULES, Rollback, modules_left, rollback_schema
from clinic2zoho.loader.run import open_client, write_report


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", dest="run_id", required=True, help="the load run to undo")
    parser.add_argument("--module", action="append", default=None, help="only this module (repeatable)")
    parser.add_argument("--schema", action="store_true",
                        help="also remove what prepare-schema --run-id RUN_ID created, newest first, once the "
                             "run's records are gone: design records, added pick-list values, custom fields. "
                             "Custom modules are left, empty: Zoho's API cannot delete a module; "
                             + SETUP_MODULES.replace("%", "%%") + " (listed in the output and the run report)")
    parser.add_argument("--journal", type=Path, default=None, help="journal folder (default: <work>/journal)")
    parser.add_argument("--warehouse", type=Path, default=None)
    parser.add_argument("--no-publish", action="store_true")
    cli_common.add_zoho_arguments(parser)


def run(args: argparse.Namespace) -> int:
    root = cli_common.journal_root(args)
    warehouse = Path(args.warehouse) if args.warehouse else app_settings.warehouse_path()
    audit = journal.AuditLog(root, args.run_id)
    client = open_client(cli_common.zoho_config(args), audit)
    try:
        results = Rollback(client, args.run_id, root).run(args.module)
        for r in results:
            print(f"  {r['module']:<20} deleted {r['deleted']:>7}  restored {r['restored']:>5}  failed {r['failed']:>3}")
        schema = rollback_schema(client, warehouse, args.run_id, root=root) if args.schema else []
        for s in schema:
            print(f"  schema {s['kind']} {s['module']}{'.' + s['field'] if s['field'] else ''}: {s['outcome']}")
        left = modules_left(schema)
        if left:
            print(f"custom modules left in Zoho (Zoho's API cannot delete modules), {SETUP_MODULES}: "
                  + ", ".join(left))
    finally:
        client.close()
        audit.close()
    if not args.no_publish and warehouse.exists():
        journal.publish(root, warehouse, args.run_id)
    if args.schema:
        print(f"run report: {write_report(root, args.run_id)}")
    return 1 if any(r["failed"] for r in results) or any(s["status"] == "failed" for s in schema) else 0
