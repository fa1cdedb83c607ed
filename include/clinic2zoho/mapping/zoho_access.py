"""The Zoho client for the mapping commands, from command-line options or the environment
(`ZOHO_CLIENT_ID`, `ZOHO_CLIENT_SECRET`, `ZOHO_REFRESH_TOKEN`, `ZOHO_API_URL`,
`ZOHO_ACCOUNTS_URL`, `ZOHO_UPLOAD_URL` or `ZOHO_DATA_CENTRE`: zoho/environment.py reads them).
Secrets are never printed."""

from __future__ import annotations

import argparse

from clinic2zoho.zoho.environment import add_zoho_arguments, config_from_env

__all__ = ["add_zoho_arguments", "client_from_args"]


def client_from_args(args: argparse.Namespace, on_call=None):
    from clinic2zoho.zoho import ZohoClient  # imported only when Zoho is reached

    config = config_from_env(args, unset_hint="(or pass --offline where the command allows it)")
    return ZohoClient(config, on_call=on_call)
