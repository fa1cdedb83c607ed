"""`clinic2zoho rollback --run RUN_ID [--work DIR] [--module M] [--schema]`: undo a load run from
its journal.

Zoho is the org the ZOHO_* variables (or --api-url / --data-centre) name; when none is given and
the work folder is a demo's (`clinic2zoho migrate` on local orgs), its local org is started from
its saved state for the rollback and stopped after, so the command `migrate` prints runs as
printed. A full rollback of a cutover closes the delta window it opened."""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from clinic2zoho import settings as app_settings
from clinic2zoho.loader import cli_common, service
from clinic2zoho.loader.rollback import SETUP_MODULES
from clinic2zoho.loader.run_org import OrgMismatch
from clinic2zoho.zoho_server.work_orgs import ORGS, has_local_org, local_config, start_local_org

CREDENTIAL_VARS = ("ZOHO_CLIENT_ID", "ZOHO_CLIENT_SECRET", "ZOHO_REFRESH_TOKEN")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", dest="run_id", required=True, help="the load run to undo")
    parser.add_argument("--module", action="append", default=None, help="only this module (repeatable)")
    parser.add_argument("--schema", action="store_true",
                        help="also remove what prepare-schema --run-id RUN_ID created, newest first, once the "
                             "run's records are gone: design records, added pick-list values, custom fields. "
                             "Custom modules are left, empty: Zoho's API cannot delete a module; "
                             + SETUP_MODULES.replace("%", "%%") + " (listed in the output and the run report)")
    parser.add_argument("--work", type=Path, default=None,
                        help="the migration's work folder: its journal, warehouse and, when no Zoho is given, a "
                             "demo's local org (default: CLINIC2ZOHO_HOME or ./work)")
    parser.add_argument("--org", choices=ORGS, default="production",
                        help="which local org of a demo's work folder (default production, the cutover's)")
    parser.add_argument("--journal", type=Path, default=None, help="journal folder (default: <work>/journal)")
    parser.add_argument("--warehouse", type=Path, default=None, help="default: <work>/warehouse.duckdb")
    parser.add_argument("--no-publish", action="store_true")
    cli_common.add_zoho_arguments(parser)


@contextmanager
def _zoho(args: argparse.Namespace, home: Path) -> Iterator[Any]:
    """The Zoho to roll back in: the one given, else the work folder's local org (a demo's)."""
    given = args.api_url or args.data_centre or any(os.environ.get(v) for v in CREDENTIAL_VARS)
    if given or not has_local_org(home, args.org):
        yield cli_common.zoho_config(args)
        return
    server = start_local_org(home, args.org)
    try:
        print(f"the {args.org} org of work folder {home}: its local Zoho server started from its saved state")
        yield local_config(server)
    finally:
        server.close()


def run(args: argparse.Namespace) -> int:
    home = Path(args.work).resolve() if args.work else app_settings.home()
    root = Path(args.journal) if args.journal else home / "journal"
    warehouse = (Path(args.warehouse) if args.warehouse
                 else home / "warehouse.duckdb" if args.work else app_settings.warehouse_path())
    with _zoho(args, home) as config:
        return _rollback(args, config, root, warehouse)


def _rollback(args: argparse.Namespace, config: Any, root: Path, warehouse: Path) -> int:
    try:
        done = service.rollback(service.RollbackRequest(
            args.run_id, config, modules=args.module, schema=args.schema, journal_root=root, warehouse=warehouse,
            publish=not args.no_publish))
    except OrgMismatch as exc:  # nothing was undone: say which org to use, no traceback
        print(exc, file=sys.stderr)
        return 2
    for r in done.modules:
        print(f"  {r['module']:<20} deleted {r['deleted']:>7}  restored {r['restored']:>5}  failed {r['failed']:>3}")
    for s in done.schema:
        print(f"  schema {s['kind']} {s['module']}{'.' + s['field'] if s['field'] else ''}: {s['outcome']}")
    if done.left:
        print(f"custom modules left in Zoho (Zoho's API cannot delete modules), {SETUP_MODULES}: "
              + ", ".join(done.left))
    if done.report:
        print(f"run report: {done.report}")
    failed = done.records_failed or done.schema_failed
    if not failed and not args.module:
        for window in service.close_cutover_windows(done):
            print(window.describe())
    return 1 if failed else 0
