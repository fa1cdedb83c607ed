"""Command-line plumbing shared by `load`, `rollback` and `estimate`: where Zoho is (options or
ZOHO_* environment variables; secrets only from the environment), the plan and the journal."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from clinic2zoho import settings as app_settings
from clinic2zoho.loader.plan import LoadPlan, plan_from_manifest


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


def add_zoho_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Zoho (defaults from ZOHO_* environment variables)")
    group.add_argument("--api-url", default=os.environ.get("ZOHO_API_URL"))
    group.add_argument("--accounts-url", default=os.environ.get("ZOHO_ACCOUNTS_URL"))
    group.add_argument("--upload-url", default=os.environ.get("ZOHO_UPLOAD_URL"))
    group.add_argument("--data-centre", default=os.environ.get("ZOHO_DATA_CENTRE"))


def load_plan(args: argparse.Namespace) -> LoadPlan:
    plan = LoadPlan.from_json(args.plan.read_text()) if args.plan else plan_from_manifest(args.manifest)
    return plan


def journal_root(args: argparse.Namespace) -> Path:
    return app_settings.journal_root(args.journal)


def zoho_config(args: argparse.Namespace):
    from clinic2zoho.zoho import ZohoConfig

    missing = [v for v in ("ZOHO_CLIENT_ID", "ZOHO_CLIENT_SECRET", "ZOHO_REFRESH_TOKEN") if not os.environ.get(v)]
    if missing:
        raise SystemExit(f"set {', '.join(missing)} in the environment")
    where: dict = {"data_centre": None}
    if args.api_url:
        where.update(api_url=args.api_url, accounts_url=args.accounts_url or args.api_url,
                     upload_url=args.upload_url or args.api_url)
    elif args.data_centre:
        where["data_centre"] = args.data_centre
    else:
        raise SystemExit("say where Zoho is: --api-url or --data-centre (or ZOHO_API_URL / ZOHO_DATA_CENTRE)")
    return ZohoConfig(os.environ["ZOHO_CLIENT_ID"], os.environ["ZOHO_CLIENT_SECRET"], os.environ["ZOHO_REFRESH_TOKEN"],
                      # provisional until the org is read (org_limits) when no edition is given
                      edition=getattr(args, "edition", None) or "Enterprise",
                      user_count=getattr(args, "users", None) or 10,
                      per_minute_credits=getattr(args, "per_minute", None),
                      max_concurrency=getattr(args, "concurrency", None), **where)


def org_limits(args: argparse.Namespace, config):
    """The config and plan limits with the edition and licensed users the org says it has (GET
    /org, zoho.edition), unless --edition / --users name them. Returns (config, PlanLimits, OrgEdition)."""
    from clinic2zoho.loader.estimate import PlanLimits
    from clinic2zoho.zoho.edition import config_with_org_edition

    config, found = config_with_org_edition(config, args.edition, args.users)
    return config, PlanLimits(config.edition, config.user_count, args.per_minute, args.concurrency), found
