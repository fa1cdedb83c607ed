"""The Zoho client for the mapping commands, from command-line options or the environment
(`ZOHO_CLIENT_ID`, `ZOHO_CLIENT_SECRET`, `ZOHO_REFRESH_TOKEN`, `ZOHO_API_URL`,
`ZOHO_ACCOUNTS_URL`, `ZOHO_UPLOAD_URL` or `ZOHO_DATA_CENTRE`). Secrets are never printed."""

from __future__ import annotations

import argparse
import os


def add_zoho_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Zoho (defaults from ZOHO_* environment variables)")
    group.add_argument("--api-url", default=os.environ.get("ZOHO_API_URL"))
    group.add_argument("--accounts-url", default=os.environ.get("ZOHO_ACCOUNTS_URL"))
    group.add_argument("--upload-url", default=os.environ.get("ZOHO_UPLOAD_URL"))
    group.add_argument("--data-centre", default=os.environ.get("ZOHO_DATA_CENTRE"))


def client_from_args(args: argparse.Namespace, on_call=None):
    from clinic2zoho.zoho import ZohoClient, ZohoConfig  # imported only when Zoho is reached

    missing = [v for v in ("ZOHO_CLIENT_ID", "ZOHO_CLIENT_SECRET", "ZOHO_REFRESH_TOKEN") if not os.environ.get(v)]
    if missing:
        raise SystemExit(f"set {', '.join(missing)} (or pass --offline where the command allows it)")
    kwargs: dict = {}
    if args.api_url:
        kwargs |= {"api_url": args.api_url, "accounts_url": args.accounts_url or args.api_url,
                   "upload_url": args.upload_url or args.api_url}
    elif args.data_centre:
        kwargs["data_centre"] = args.data_centre
    else:
        raise SystemExit("say where Zoho is: --api-url/--accounts-url or --data-centre (or ZOHO_API_URL / ZOHO_DATA_CENTRE)")
    if "data_centre" not in kwargs:
        kwargs["data_centre"] = None
    config = ZohoConfig(os.environ["ZOHO_CLIENT_ID"], os.environ["ZOHO_CLIENT_SECRET"],
                        os.environ["ZOHO_REFRESH_TOKEN"], **kwargs)
    return ZohoClient(config, on_call=on_call)
