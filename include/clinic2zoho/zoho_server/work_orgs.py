"""The local Zoho orgs of a demo's work folder: `clinic2zoho migrate` without a real org runs two
local servers, production and sandbox, each keeping its state in `<work>/zoho/<org>/state.sqlite`
with its credentials beside it (`state.sqlite.credentials.json`, mode 600, never printed). A
command run after the demo (rollback, the delta) starts them again from that saved state: same
records, same credentials, a new port."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clinic2zoho.zoho_server.command import credentials_path
from clinic2zoho.zoho_server.process import ZohoServerProcess

ORGS = ("production", "sandbox")


def state_file(home: Path, org: str) -> Path:
    if org not in ORGS:
        raise ValueError(f"org must be one of {', '.join(ORGS)}, got {org!r}")
    return Path(home) / "zoho" / org / "state.sqlite"


def has_local_org(home: Path, org: str) -> bool:
    """The work folder holds this org's saved state and its credentials (a demo's)."""
    state = state_file(home, org)
    return state.is_file() and credentials_path(state).is_file()


def start_local_org(home: Path, org: str, users: Path | None = None) -> ZohoServerProcess:
    """Start the org's server on its saved state (created when missing); `users` reloads the org's
    users, None keeps the saved ones."""
    state = state_file(home, org)
    state.parent.mkdir(parents=True, exist_ok=True)
    # the sandbox says so in GET /org (org.json `type` Sandbox), as a Zoho sandbox does: doctor and the
    # contract suite tell the orgs apart by it
    settings = {"org_type": "sandbox"} if org == "sandbox" else None
    return ZohoServerProcess(state=state, users=users, workdir=state.parent, settings=settings).start()


def local_config(server: ZohoServerProcess, edition: str = "Enterprise") -> Any:
    """The ZohoConfig that reaches a local server (its accounts, API and upload URLs are one)."""
    from clinic2zoho.zoho import ZohoConfig

    url = server.base_url
    return ZohoConfig(server.client_id, server.client_secret, server.refresh_token, data_centre=None,
                      accounts_url=url, api_url=url, upload_url=url, edition=edition)
