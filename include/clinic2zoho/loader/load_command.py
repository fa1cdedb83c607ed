"""`clinic2zoho load`: load the Zoho-shaped tables into Zoho in dependency order, journaled.
`--run RUN_ID` resumes an interrupted run (no duplicate, nothing lost)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from clinic2zoho import settings as app_settings
from clinic2zoho.loader import cli_common, journal
from clinic2zoho.loader.layout_gate import LayoutGapsFound
from clinic2zoho.loader.module_loader import LoadSettings
from clinic2zoho.loader.run import Loader, LoadStopped, new_run_id, open_client, write_report
from clinic2zoho.loader.run_org import OrgMismatch
from clinic2zoho.loader.source import TableSource
from clinic2zoho.zoho import facts, refusals
from clinic2zoho.zoho.edition import EditionUnknown
from clinic2zoho.zoho.errors import ZohoError


def configure(parser: argparse.ArgumentParser) -> None:
    cli_common.add_plan_arguments(parser)
    cli_common.add_limit_arguments(parser)
    cli_common.add_zoho_arguments(parser)
    parser.add_argument("--run", dest="run_id", default=None, help="resume this run id (default: a new run)")
    parser.add_argument("--warehouse", type=Path, default=None, help="DuckDB file (default: the work warehouse)")
    parser.add_argument("--path", choices=("auto", "record", "bulk"), default="auto",
                        help="auto: the cheaper path in credits per batch")
    parser.add_argument("--files-root", type=Path, default=None, help="where relative attachment paths start")
    parser.add_argument("--attachment-max-bytes", type=int, default=facts.ATTACHMENT_MAX_BYTES)
    parser.add_argument("--no-publish", action="store_true", help="leave ops.* in the warehouse untouched")


def mapping_gate() -> None:
    from clinic2zoho.mapping.gate import require_confirmed

    require_confirmed(task="clinic2zoho load")


def run(args: argparse.Namespace) -> int:
    from clinic2zoho.mapping.gate import MappingNotConfirmed

    try:
        mapping_gate()  # before any connection is made: nothing moves unless the mapping is confirmed
    except MappingNotConfirmed as exc:
        print(f"not loading: {exc}")
        return 2
    plan = cli_common.load_plan(args)
    root = cli_common.journal_root(args)
    warehouse = Path(args.warehouse) if args.warehouse else app_settings.warehouse_path()
    run_id = args.run_id or new_run_id()
    try:
        config, limits, edition = cli_common.org_limits(args, cli_common.zoho_config(args))
    except EditionUnknown as exc:  # an org naming no edition of the credit table: --edition says it
        print(f"not loading: {exc}", file=sys.stderr)
        return 2
    except ZohoError as exc:  # refused credentials, a rate-limit storm: said as the loader says them
        said = refusals.explain(exc, resume=f"Rerun with --run {run_id}: it resumes with the same run id")
        print(f"not loading: {said or exc}", file=sys.stderr)
        return 3
    print(f"plan limits: edition {edition.describe()}")
    settings = LoadSettings(
        record_concurrency=min(limits.effective_concurrency, 10), force_path=None if args.path == "auto" else args.path,
        files_root=args.files_root, attachment_max_bytes=args.attachment_max_bytes)
    audit = journal.AuditLog(root, run_id)
    client = open_client(config, audit)
    try:
        loader = Loader(plan, client, run_id=run_id, root=root, source=TableSource(warehouse), settings=settings,
                        gate=mapping_gate, limits=limits)  # checked again: the run may start much later
        print(f"run {run_id}: loading {', '.join(plan.select(args.module).order())}")
        result = loader.run(args.module)
    except LoadStopped as exc:  # refused credentials, a rate-limit storm: say what to do, no traceback
        print(exc.message(), file=sys.stderr)
        return 3
    except (OrgMismatch, LayoutGapsFound) as exc:  # another org than the run's own, or layout-mandatory
        print(f"not loading: {exc}", file=sys.stderr)  # fields left empty: nothing was sent
        return 2
    finally:
        client.close()
        audit.close()
    if not args.no_publish:
        journal.publish(root, warehouse, run_id)
    report = write_report(root, run_id)
    summary = json.loads(report.read_text())
    for m in summary["modules"]:
        print(f"  {m['module']:<20} loaded {m['done']:>7}  rejected {m['rejected']:>5}  skipped {m['skipped']:>4}"
              f"  pending {m['pending']:>3}  credits {m['credits']:>6}")
    pred = summary.get("predicted") or {}
    print(f"credits spent {summary['credits_spent']} (predicted {pred.get('credits', 'n/a')}); report {report}")
    if summary["rejects"]:
        print(f"rejected rows are in ops.load_rejects (run_id = '{run_id}')")
    print(f"undo with: clinic2zoho rollback --run {run_id}")
    return 1 if result.pending else 0
