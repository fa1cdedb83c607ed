"""`clinic2zoho validate --run RUN_ID`: reconcile the run's counts, spot-check a random share of
its records read back from Zoho, check related-list integrity; exit 1 naming the rollback
command when anything fails."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from clinic2zoho.loader import cli_common


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", dest="run_id", required=True, help="the load run to validate")
    parser.add_argument("--spot-share", type=float, default=0.05, help="share of loaded records read back (0.05)")
    parser.add_argument("--min-spot", type=int, default=3, help="at least this many records per module (3)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the spot-check sample (default: random)")
    parser.add_argument("--warehouse", type=Path, default=None, help="DuckDB file (default: the work warehouse)")
    parser.add_argument("--journal", type=Path, default=None, help="journal folder (default: <work>/journal)")
    parser.add_argument("--manifest", type=Path, default=None, help="dbt manifest.json (column descriptions)")
    parser.add_argument("--out", type=Path, default=None, help="report folder (default: <work>/reports)")
    cli_common.add_zoho_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from clinic2zoho.reports.run_context import ReportError
    from clinic2zoho.reports.validate import validate_run
    from clinic2zoho.zoho import ZohoClient

    config = cli_common.zoho_config(args)
    console = Console(stderr=True)
    with ZohoClient(config) as client, Progress(SpinnerColumn(), TextColumn("{task.description}"),
                                                TimeElapsedColumn(), console=console, transient=True) as progress:
        task = progress.add_task(f"validating run {args.run_id}", total=None)
        try:
            result = validate_run(args.run_id, client, warehouse=args.warehouse, journal_root=args.journal,
                                  reports_dir=args.out, spot_share=args.spot_share, min_spot=args.min_spot,
                                  seed=args.seed, manifest=args.manifest,
                                  on_step=lambda s: progress.update(task, description=s))
        except ReportError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    s = result.summary()
    print(f"run {result.run_id}: validation {'PASSED' if result.ok else 'FAILED'}")
    print(f"  loaded {s['loaded']:,} of {s['table_rows']:,} rows; rejected {s['rejected']:,}; skipped {s['skipped']:,};"
          f" pending {s['pending']:,}; counts add up: {'yes' if s['counts_add_up'] else 'NO'}")
    print(f"  spot check: {s['spot_check']['records']:,} records, {s['spot_check']['fields']:,} fields,"
          f" {s['spot_check']['mismatches']:,} differ (seed {result.seed})")
    print(f"  integrity: {s['integrity']['relations']:,} relations, {s['integrity']['problems']:,} broken")
    for problem in result.problems:
        print(f"  problem: {problem}")
    print(f"report: {result.html_path}")
    if not result.ok:
        print(f"to undo this run: {result.rollback_command}")
        return 1
    return 0
