"""The org the contract suite talks to: the local server (default) or, when the opt-in variable
names a set of credentials, a real Zoho org that must be a sandbox.

    CLINIC2ZOHO_CONTRACT_ORG=ZSBX  ->  ZSBX_CLIENT_ID, ZSBX_CLIENT_SECRET, ZSBX_REFRESH_TOKEN,
    ZSBX_ACCOUNTS_URL, ZSBX_API_DOMAIN (or ZSBX_DATA_CENTRE), optional ZSBX_UPLOAD_URL

The hosts go through the project's own ZohoConfig (same checks as the loader's). No secret is ever
put in a message: errors name the variables, not their values."""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from clinic2zoho.zoho import ZohoConfig
from clinic2zoho.zoho.config import DATA_CENTRES
from clinic2zoho.zoho_server.process import ZohoServerProcess

OPT_IN = "CLINIC2ZOHO_CONTRACT_ORG"
REQUIRED = ("CLIENT_ID", "CLIENT_SECRET", "REFRESH_TOKEN")


class ContractOrgError(Exception):
    """The opt-in variable is set but the org cannot be used (missing variables, not a sandbox)."""


@dataclass
class ContractOrg:
    name: str  # "local" or the variables' prefix
    config: ZohoConfig = field(repr=False)
    local: ZohoServerProcess | None = None  # the server process when the org is the local one
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])  # marks what this run creates
    _token: str | None = field(default=None, repr=False)

    @property
    def is_local(self) -> bool:
        return self.local is not None

    def token(self, fresh: bool = False) -> str:
        """An access token from the refresh-token grant (Zoho's OAuth page; common.json)."""
        if self._token is None or fresh:
            resp = httpx.post(f"{self.config.accounts_base}/oauth/v2/token", timeout=30.0, data={
                "grant_type": "refresh_token", "client_id": self.config.client_id,
                "client_secret": self.config.client_secret, "refresh_token": self.config.refresh_token})
            if resp.status_code != 200 or "access_token" not in resp.json():
                raise ContractOrgError(f"{self.name}: the token grant was refused (HTTP {resp.status_code})")
            self._token = resp.json()["access_token"]
        return self._token

    def http(self, base: str = "api", token: str | None = None) -> httpx.Client:
        url = {"api": self.config.api_base, "upload": self.config.upload_base}[base]
        return httpx.Client(base_url=url, timeout=60.0,
                            headers={"Authorization": f"Zoho-oauthtoken {token or self.token()}"})


def local_org(server: ZohoServerProcess) -> ContractOrg:
    url = server.base_url
    config = ZohoConfig(server.client_id, server.client_secret, server.refresh_token, data_centre=None,
                        accounts_url=url, api_url=url, upload_url=url)
    return ContractOrg("local", config, local=server)


def org_from_env(environ: Mapping[str, str] = os.environ) -> ContractOrg | None:
    """The real org the opt-in variable names, or None when it is not set."""
    prefix = (environ.get(OPT_IN) or "").strip()
    if not prefix:
        return None

    def var(name: str) -> str | None:
        value = environ.get(f"{prefix}_{name}")
        return value.strip() if value and value.strip() else None

    missing = [f"{prefix}_{n}" for n in REQUIRED if not var(n)]
    dc = var("DATA_CENTRE")
    if not dc and not (var("ACCOUNTS_URL") and var("API_DOMAIN")):
        missing.append(f"{prefix}_ACCOUNTS_URL and {prefix}_API_DOMAIN (or {prefix}_DATA_CENTRE)")
    if missing:
        raise ContractOrgError(f"{OPT_IN}={prefix} but these are not set: {', '.join(missing)}")
    hosts: dict[str, Any] = {"data_centre": dc}
    if var("ACCOUNTS_URL") or var("API_DOMAIN"):
        api = var("API_DOMAIN") or DATA_CENTRES[dc.upper()].api_url  # type: ignore[union-attr]
        # The upload host of the data centre whose API host this is (Zoho's per-DC table), unless named.
        same_dc = next((d for d in DATA_CENTRES.values() if d.api_url == api.rstrip("/")), None)
        hosts = {"data_centre": None, "api_url": api,
                 "accounts_url": var("ACCOUNTS_URL") or DATA_CENTRES[dc.upper()].accounts_url,  # type: ignore[union-attr]
                 "upload_url": var("UPLOAD_URL") or (same_dc.upload_url if same_dc else api)}
    try:
        config = ZohoConfig(var("CLIENT_ID"), var("CLIENT_SECRET"), var("REFRESH_TOKEN"), **hosts)  # type: ignore[arg-type]
    except ValueError as exc:
        raise ContractOrgError(f"{prefix}: {exc}") from None
    return ContractOrg(prefix, config)


def sandbox_refusal(org_answer: dict[str, Any]) -> str | None:
    """Why the suite must not run against this org, or None for a sandbox. Zoho's org.json gives
    `type` one of Bigin / Production / Developer / Sandbox (the local server answers lower case):
    anything but a sandbox is refused, a production org above all."""
    orgs = org_answer.get("org") or [{}]
    kind = orgs[0].get("type")
    if str(kind).lower() == "sandbox":
        return None
    return (f"GET /crm/v8/org says this org's type is {kind!r}, not a sandbox: the contract suite creates and "
            f"deletes records and runs only against a sandbox org")
