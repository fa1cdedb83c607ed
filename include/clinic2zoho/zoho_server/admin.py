"""The admin API tests drive the org with (`/__admin/...`, behind the admin token, never the OAuth
one): snapshot, settings and faults, the clock, credits, the call log, stored values overwritten
as-is, the users replaced; and `/__health`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import metadata
from .http import ApiError, jresp
from .settings import merge
from .snapshot import snapshot

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from .app import ZohoServer


async def admin_snapshot(server: ZohoServer, request: Request) -> Response:
    server.admin(request)
    return jresp(snapshot(server.store))


async def admin_settings(server: ZohoServer, request: Request) -> Response:
    server.admin(request)
    store = server.store
    if request.method == "POST":
        body = await server.body_json(request)
        if not isinstance(body, dict):
            raise ApiError(400, "INVALID_DATA", "settings must be a JSON object")
        try:
            merged = merge(store.settings, body)
        except (KeyError, ValueError) as exc:
            raise ApiError(400, "INVALID_DATA", str(exc).strip("'\"")) from None
        store.settings = merged
        store.set_kv("settings", merged)
        store.flush_kv()
        if "faults" in body:
            server.limits.reseed()
    return jresp(store.settings)


async def admin_clock(server: ZohoServer, request: Request) -> Response:
    server.admin(request)
    store = server.store
    body = await server.body_json(request)
    try:
        seconds = float((body or {}).get("advance_seconds", 0))
    except (TypeError, ValueError, AttributeError):
        raise ApiError(400, "INVALID_DATA", "advance_seconds must be a number") from None
    store.set_kv("clock_offset", float(store.kv.get("clock_offset", 0.0)) + seconds)
    store.flush_kv()
    store.begin()
    store.prune_credits()
    server.commit()
    return jresp({"now": store.now_iso(), "offset_seconds": store.kv["clock_offset"]})


async def admin_credits(server: ZohoServer, request: Request) -> Response:
    server.admin(request)
    return jresp(server.limits.summary())


async def admin_calls(server: ZohoServer, request: Request) -> Response:
    server.admin(request)
    if request.method == "DELETE":
        server.call_log.clear()
    return jresp(server.call_log.summary())


async def admin_record(server: ZohoServer, request: Request) -> Response:
    """Overwrite stored field values as-is (no validation): for diff and rollback tests."""
    server.admin(request)
    module = server.module(request.path_params["module"])
    rid = request.path_params["record_id"]
    current = server.store.records[module].get(rid)
    if current is None:
        raise ApiError(404, "NOT_FOUND", "no such record", {"id": rid})
    body = await server.body_json(request)
    if not isinstance(body, dict):
        raise ApiError(400, "INVALID_DATA", "body must be an object of field values")
    new = {**current, **{k: v for k, v in body.items() if k != "id"}}
    server.store.begin()
    server.store.put_records(module, [new], {rid: current})
    server.commit()
    return jresp({"data": [server.records.present(module, new)]})


async def admin_users(server: ZohoServer, request: Request) -> Response:
    """Replace the org's users (a users-file list) without a restart."""
    server.admin(request)
    body = await server.body_json(request)
    if not isinstance(body, list) or not body:
        raise ApiError(400, "INVALID_DATA", "body must be a non-empty list of users")
    try:
        users = metadata.load_users_inline(body)
    except (KeyError, TypeError):
        raise ApiError(400, "INVALID_DATA", "each user needs an email") from None
    server.store.begin()
    server.store.save_users(users)
    server.commit()
    return jresp({"users": users})


async def health(server: ZohoServer, request: Request) -> Response:
    return jresp({"status": "ok", "org_id": server.store.kv.get("org_id")})
