"""The official Zoho Python SDK (zohocrmsdk8-0) pointed at a local org: one initialisation for every
SDK test (the SDK keeps it process-wide; each test initialises its own org)."""

from __future__ import annotations

from pathlib import Path

from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken
from zohocrmsdk.src.com.zoho.api.authenticator.store.file_store import FileStore
from zohocrmsdk.src.com.zoho.crm.api.dc.data_center import DataCenter
from zohocrmsdk.src.com.zoho.crm.api.initializer import Initializer
from zohocrmsdk.src.com.zoho.crm.api.sdk_config import SDKConfig

from clinic2zoho.zoho_server.process import ZohoServerProcess


def initialize(server: ZohoServerProcess, folder: Path) -> ZohoServerProcess:
    """The SDK on `server` (its token file and resources in `folder`); the server's own URL stays
    the API domain (update_api_domain=False), as ZOHO_API.md describes."""
    environment = DataCenter.Environment(server.api_url, f"{server.accounts_url}/oauth/v2/token", server.upload_url)
    token = OAuthToken(client_id=server.client_id, client_secret=server.client_secret,
                       refresh_token=server.refresh_token)
    Initializer.initialize(environment=environment, token=token, store=FileStore(str(folder / "sdk_tokens.txt")),
                           sdk_config=SDKConfig(auto_refresh_fields=False, pick_list_validation=False,
                                                update_api_domain=False),
                           resource_path=str(folder))
    return server
