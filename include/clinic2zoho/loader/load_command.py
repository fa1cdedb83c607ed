"""`clinic2zoho load`: load the Zoho-shaped tables into Zoho in dependency order, journaled.
`--run RUN_ID` resumes an interrupted run (no duplicate, nothing lost)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from clinic2zoho.loader import cli_common, service
from clinic2zoho.loader.module_loader import LoadSettings
from clinic2zoho.loader.run import LoadStopped, new_run_id
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
    print(f"run {run_id}: loading {', '.join(plan.select(args.module).order())}")
    try:
        result = service.load(service.LoadRequest(
            plan, run_id, config=config, modules=args.module, journal_root=args.journal, warehouse=args.warehouse,
            settings=settings, gate=mapping_gate, limits=limits))  # gate checked again: the run may start much later
    except LoadStopped as exc:  # refused credentials, a rate-limit storm: say what to do, no traceback
        print(exc.message(), file=sys.stderr)
        return 3
    except service.REFUSED as exc:  # another org than the run's own, or layout-mandatory
        print(f"not loading: {exc}", file=sys.stderr)  # fields left empty: nothing was sent
        return 2
    report = service.publish_and_report(run_id, journal_root=args.journal, warehouse=args.warehouse,
                                        publish=not args.no_publish)
    summary = report.summary
    for m in summary["modules"]:
        print(f"  {m['module']:<20} loaded {m['done']:>7}  rejected {m['rejected']:>5}  skipped {m['skipped']:>4}"
              f"  pending {m['pending']:>3}  credits {m['credits']:>6}")
    pred = summary.get("predicted") or {}
    print(f"credits spent {summary['credits_spent']} (predicted {pred.get('credits', 'n/a')}); report {report.path}")
    if summary["rejects"]:
        print(f"rejected rows are in ops.load_rejects (run_id = '{run_id}')")
    print(f"undo with: clinic2zoho rollback --run {run_id}")
    return 1 if result.pending else 0
