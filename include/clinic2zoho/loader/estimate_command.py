"""`clinic2zoho estimate`: predict a load's credits and duration from the warehouse's record
counts and the plan (edition, users, optional per-minute throttle, concurrency)."""

from __future__ import annotations

import argparse
import json
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


def run(args: argparse.Namespace) -> int:
    plan = cli_common.load_plan(args).select(args.module)
    source = TableSource(Path(args.warehouse) if args.warehouse else app_settings.warehouse_path())
    counts = {s.module: source.count(s) for s in plan.specs}
    est = estimate(plan, counts, PlanLimits(args.edition, args.users, args.per_minute, args.concurrency))
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
