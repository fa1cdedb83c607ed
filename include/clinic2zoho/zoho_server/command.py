"""`clinic2zoho zoho-server`: run the local Zoho CRM v8 server on loopback.

Credentials not given on the command line are generated once and kept in
`<state>.credentials.json` beside the state file (mode 600); they are never printed."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from pathlib import Path
from typing import Any

CREDENTIAL_KEYS = ("client_id", "client_secret", "refresh_token", "admin_token")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, required=True, help="TCP port to listen on")
    parser.add_argument("--state", required=True, help="state file (SQLite); created when missing, kept across restarts")
    parser.add_argument("--users", help="JSON list of users {id?, email, full_name, status}; the first admin is CurrentUser")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--edition", help="Zoho edition for credits and concurrency (Free, Standard, Professional, Enterprise, Ultimate)")
    parser.add_argument("--settings", help="JSON file of settings merged at start (same keys as POST /__admin/settings)")
    parser.add_argument("--client-id")
    parser.add_argument("--client-secret")
    parser.add_argument("--refresh-token")
    parser.add_argument("--admin-token")
    parser.add_argument("--log-level", default="warning")


def credentials_path(state: str | Path) -> Path:
    return Path(f"{state}.credentials.json")


def resolve_credentials(args: argparse.Namespace, base_url: str, org_id: str, zgid: str) -> dict[str, Any]:
    path = credentials_path(args.state)
    creds: dict[str, Any] = {}
    if path.exists():
        try:
            creds = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            raise SystemExit(f"{path}: not valid JSON; delete it to generate new credentials") from None
    generated = {"client_id": "1000." + secrets.token_hex(16).upper(), "client_secret": secrets.token_hex(20),
                 "refresh_token": "1000." + secrets.token_hex(32), "admin_token": secrets.token_urlsafe(24)}
    for key in CREDENTIAL_KEYS:
        given = getattr(args, key)
        creds[key] = given or creds.get(key) or generated[key]
    creds.update({"base_url": base_url, "accounts_url": base_url, "api_url": base_url, "upload_url": base_url,
                  "org_id": org_id, "zgid": zgid})
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(creds, fh, indent=2)
    return creds


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from .app import Credentials, ZohoServer
    from .metadata import load_users, seed
    from .routes import build_app
    from .settings import merge
    from .store import Store

    state = Path(args.state)
    state.parent.mkdir(parents=True, exist_ok=True)
    try:
        users = load_users(args.users) if args.users else None
    except ValueError as exc:
        print(f"zoho-server: {exc}", file=sys.stderr)
        return 2
    store = Store(state)
    seed(store, users)
    changes: dict[str, Any] = {}
    if args.settings:
        try:
            changes.update(json.loads(Path(args.settings).read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            print(f"zoho-server: {args.settings}: not a readable JSON settings file ({exc.__class__.__name__})", file=sys.stderr)
            return 2
    if args.edition:
        changes["edition"] = args.edition
    if changes:
        try:
            store.settings = merge(store.settings, changes)
        except (KeyError, ValueError) as exc:
            print(f"zoho-server: bad setting: {exc}", file=sys.stderr)
            return 2
        store.set_kv("settings", store.settings)
        store.flush_kv()
    host_for_url = "127.0.0.1" if args.host in ("0.0.0.0", "") else args.host
    base_url = f"http://{host_for_url}:{args.port}"
    creds = resolve_credentials(args, base_url, store.kv["org_id"], store.zgid())
    server = ZohoServer(store, Credentials(creds["client_id"], creds["client_secret"], creds["refresh_token"],
                                           creds["admin_token"]), base_url)
    app = build_app(server)
    print(f"zoho-server: org {store.kv['org_id']} listening on {base_url}; state {state}; "
          f"credentials in {credentials_path(state)}", flush=True)
    # ws="none": the API has no WebSocket route, and uvicorn's default imports a WebSocket library
    # at every start (importing uvicorn and loading its config: 0.12-0.14 s of CPU, 0.10 s without;
    # the tests start dozens of servers)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False, lifespan="on",
                ws="none")
    return 0
