"""A Zoho org described by the environment, for the commands (mapping, preflight, load, rollback,
estimate, validate): the secrets only from ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET and ZOHO_REFRESH_TOKEN;
where Zoho is from the command's options, whose defaults are ZOHO_API_URL, ZOHO_ACCOUNTS_URL,
ZOHO_UPLOAD_URL and ZOHO_DATA_CENTRE. Its messages name variables, never a secret's value."""

from __future__ import annotations

import argparse
import os
from typing import Any

from clinic2zoho.zoho.config import ZohoConfig

SECRET_VARS = ("ZOHO_CLIENT_ID", "ZOHO_CLIENT_SECRET", "ZOHO_REFRESH_TOKEN")


def add_zoho_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Zoho (defaults from ZOHO_* environment variables)")
    group.add_argument("--api-url", default=os.environ.get("ZOHO_API_URL"))
    group.add_argument("--accounts-url", default=os.environ.get("ZOHO_ACCOUNTS_URL"))
    group.add_argument("--upload-url", default=os.environ.get("ZOHO_UPLOAD_URL"))
    group.add_argument("--data-centre", default=os.environ.get("ZOHO_DATA_CENTRE"))


def config_from_env(args: argparse.Namespace, *, unset_hint: str = "in the environment",
                    **settings: Any) -> ZohoConfig:
    """The config for the org `args` (add_zoho_arguments' options) points at, with the secrets from the
    environment and `settings` (edition, limits) as given. An API URL stands for the accounts and upload
    URLs it is not given. SystemExit when a secret is unset (the message ends with `unset_hint`) or
    nothing says where Zoho is."""
    missing = [name for name in SECRET_VARS if not os.environ.get(name)]
    if missing:
        raise SystemExit(f"set {', '.join(missing)} {unset_hint}")
    where: dict[str, Any] = {"data_centre": None}
    if args.api_url:
        where.update(api_url=args.api_url, accounts_url=args.accounts_url or args.api_url,
                     upload_url=args.upload_url or args.api_url)
    elif args.data_centre:
        where["data_centre"] = args.data_centre
    else:
        raise SystemExit("say where Zoho is: --api-url or --data-centre (or ZOHO_API_URL / ZOHO_DATA_CENTRE)")
    return ZohoConfig(*(os.environ[name] for name in SECRET_VARS), **where, **settings)
