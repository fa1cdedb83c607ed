"""`clinic2zoho estimate`: predict a load's credits and duration from the warehouse's record
counts and the plan (edition, users, optional per-minute throttle, concurrency)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from clinic2zoho import settings as app_settings
from clinic2zoho.loader import cli_common
from clinic2zoho.loader.estimate import PlanLimits, estimate
from clinic2zoho.loader.source import TableSource


def configure(parser: argparse.ArgumentParser) -> None:
    cli_common.add_plan_arguments(parser)
    cli_common.add_limit_arguments(parser)
    parser.add_argument("--warehouse", type=Path, default=None)
    parser.add_argument("--json", action="store_true", help="print the estimate as JSON")


def _limits(args: argparse.Namespace) -> PlanLimits:
    """--edition / --users, else the org's (when ZOHO_* variables say where it is), else Enterprise
    and 10 users, said aloud: an estimate made without the org states its assumption."""
    if not args.edition and os.environ.get("ZOHO_REFRESH_TOKEN") and (os.environ.get("ZOHO_API_URL")
                                                                       or os.environ.get("ZOHO_DATA_CENTRE")):
        args.api_url, args.data_centre = os.environ.get("ZOHO_API_URL"), os.environ.get("ZOHO_DATA_CENTRE")
        args.accounts_url, args.upload_url = os.environ.get("ZOHO_ACCOUNTS_URL"), os.environ.get("ZOHO_UPLOAD_URL")
        _, limits, found = cli_common.org_limits(args, cli_common.zoho_config(args))
        print(f"edition {found.describe()}", file=sys.stderr)
        return limits
    if not args.edition:
        print("no org to read the edition from: assuming Enterprise (give --edition)", file=sys.stderr)
    return PlanLimits(args.edition or "Enterprise", args.users or 10, args.per_minute, args.concurrency)


def run(args: argparse.Namespace) -> int:
    plan = cli_common.load_plan(args).select(args.module)
    source = TableSource(Path(args.warehouse) if args.warehouse else app_settings.warehouse_path())
    counts = {s.module: source.count(s) for s in plan.specs}
    est = estimate(plan, counts, _limits(args))
    if args.json:
        print(json.dumps(est.to_dict(), indent=1))
        return 0
    for m in est.modules:
        print(f"  {m.module:<20} {m.rows:>8} rows  {m.bulk_jobs:>3} bulk jobs  {m.record_calls:>6} calls"
              f"  {m.credits:>7} credits")
    d = est.to_dict()
    print(f"total {est.credits} credits (data writes {est.minimum_credits}); about {d['seconds']} s"
          f"{' (per-minute throttle bound ' + str(d['throttle_seconds']) + ' s)' if args.per_minute else ''}")
    print(f"{d['days_of_daily_credits']} days of the plan's {est.limits.daily_credits} daily credits"
          f" ({d['calendar_days']} calendar day(s))")
    return 0
