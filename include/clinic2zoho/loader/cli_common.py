"""Command-line plumbing shared by `load`, `rollback` and `estimate`: where Zoho is (options or
ZOHO_* environment variables; secrets only from the environment), the plan and the journal."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from clinic2zoho import settings as app_settings
from clinic2zoho.loader.plan import LoadPlan, plan_from_manifest
from clinic2zoho.zoho.environment import add_zoho_arguments, config_from_env

__all__ = ["add_limit_arguments", "add_plan_arguments", "add_zoho_arguments", "journal_root", "load_plan",
           "org_limits", "zoho_config"]


def add_plan_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--manifest", type=Path, default=app_settings.DBT_PROJECT_DIR / "target" / "manifest.json",
                        help="dbt manifest.json whose model meta gives the plan (default: dbt_project/target)")
    parser.add_argument("--plan", type=Path, default=None, help="a plan JSON instead of the manifest")
    parser.add_argument("--module", action="append", default=None, help="only this module (repeatable)")
    parser.add_argument("--journal", type=Path, default=None, help="journal folder (default: <work>/journal)")


def add_limit_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("plan limits")
    group.add_argument("--edition", default=os.environ.get("ZOHO_EDITION") or None,
                       help="Zoho edition (default: read from the org, GET /org's license_details)")
    group.add_argument("--users", type=int, default=int(os.environ["ZOHO_USER_COUNT"]) if os.environ.get(
        "ZOHO_USER_COUNT") else None, help="licensed users (default: the org's users_license_purchased)")
    group.add_argument("--per-minute", type=int, default=None, help="per-minute credit throttle (optional)")
    group.add_argument("--concurrency", type=int, default=None, help="concurrent calls (default: the edition's)")


def load_plan(args: argparse.Namespace) -> LoadPlan:
    plan = LoadPlan.from_json(args.plan.read_text()) if args.plan else plan_from_manifest(args.manifest)
    return plan


def journal_root(args: argparse.Namespace) -> Path:
    return app_settings.journal_root(args.journal)


def zoho_config(args: argparse.Namespace):
    return config_from_env(args,
                           # provisional until the org is read (org_limits) when no edition is given
                           edition=getattr(args, "edition", None) or "Enterprise",
                           user_count=getattr(args, "users", None) or 10,
                           per_minute_credits=getattr(args, "per_minute", None),
                           max_concurrency=getattr(args, "concurrency", None))


def org_limits(args: argparse.Namespace, config):
    """The config and plan limits with the edition and licensed users the org says it has (GET
    /org, zoho.edition), unless --edition / --users name them. Returns (config, PlanLimits, OrgEdition)."""
    from clinic2zoho.loader.estimate import PlanLimits
    from clinic2zoho.zoho.edition import config_with_org_edition

    config, found = config_with_org_edition(config, args.edition, args.users)
    return config, PlanLimits(config.edition, config.user_count, args.per_minute, args.concurrency), found
