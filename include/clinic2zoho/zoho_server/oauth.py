"""Zoho's OAuth server, as far as the project uses it: the refresh-token grant that hands out an
access token (`POST /oauth/v2/token`) and revoking a token (`POST /oauth/v2/token/revoke`). A
refused grant answers 200 with `{"error": ...}` in the body."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from .http import jresp

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from .app import ZohoServer


async def token(server: ZohoServer, request: Request) -> Response:
    creds, store = server.creds, server.store
    params = dict(request.query_params)
    if request.headers.get("content-type", "").startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        params.update({k: str(v) for k, v in form.items()})
    if params.get("grant_type") != "refresh_token":
        return jresp({"error": "unsupported_grant_type"})
    if not (secrets.compare_digest(params.get("client_id", ""), creds.client_id)
            and secrets.compare_digest(params.get("client_secret", ""), creds.client_secret)):
        return jresp({"error": "invalid_client"})
    if not secrets.compare_digest(params.get("refresh_token", ""), creds.refresh_token):
        return jresp({"error": "invalid_code"})
    lifetime = int(store.settings["token_lifetime"])
    access = "1000." + secrets.token_hex(32)
    store.begin()
    store.add_token(access, store.now() + lifetime)
    server.commit()
    return jresp({"access_token": access, "scope": " ".join(store.settings["granted_scopes"]), "api_domain": server.base_url,
                  "token_type": "Bearer", "expires_in": lifetime})


async def revoke(server: ZohoServer, request: Request) -> Response:
    token = request.query_params.get("token", "")
    if token in server.store.tokens:
        server.store.begin()
        server.store.revoke_token(token)
        server.commit()
    return jresp({"status": "success"})
