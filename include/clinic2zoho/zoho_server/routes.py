"""The route table: every path the local server answers, the handler that answers it, and the
Starlette app around them (bulk jobs resumed at start, 404/405 in Zoho's words, the middleware in
front). An `api` route checks the access token and its scope before anything else; a `bare` one
(OAuth, health, the admin API behind its own token) does not."""

from __future__ import annotations

import contextlib
import functools
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from starlette.applications import Starlette
from starlette.routing import Route

from . import (admin, attachments, layouts, metadata_api, oauth, org, profiles, query_api, record_reads, record_writes,
               related_lists, related_records)
from .http import ApiError
from .middleware import FaultsAndConcurrency
from .users import UsersApi

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from .app import ZohoServer

Endpoint = Callable[["Request"], Awaitable["Response"]]


def endpoint(fn: Endpoint, server: ZohoServer | None = None) -> Endpoint:
    """`fn` answering its ApiError as Zoho's error body; with a server, behind the token and scope checks."""
    async def run(request: Request) -> Response:
        try:
            if server is not None:
                server.check_token(request)  # 401 comes before any other answer, as on Zoho
                server.check_scope(request)
            return await fn(request)
        except ApiError as err:
            return err.response()
    return run


def build_app(server: ZohoServer) -> Any:
    s = server
    u = UsersApi(s)

    def api(fn: Endpoint) -> Endpoint:
        return endpoint(fn, server)

    def bare(fn: Endpoint) -> Endpoint:
        return endpoint(fn)

    def bound(handler: Callable[[ZohoServer, Request], Awaitable[Response]]) -> Endpoint:
        """A route module's `handler(server, request)` as this server's endpoint."""
        return functools.partial(handler, s)
    routes = [
        Route("/__health", bare(bound(admin.health))),
        Route("/oauth/v2/token", bare(bound(oauth.token)), methods=["POST"]),
        Route("/oauth/v2/token/revoke", bare(bound(oauth.revoke)), methods=["POST"]),
        Route("/__admin/snapshot", bare(bound(admin.admin_snapshot))),
        Route("/__admin/settings", bare(bound(admin.admin_settings)), methods=["GET", "POST"]),
        Route("/__admin/clock", bare(bound(admin.admin_clock)), methods=["POST"]),
        Route("/__admin/credits", bare(bound(admin.admin_credits))),
        Route("/__admin/calls", bare(bound(admin.admin_calls)), methods=["GET", "DELETE"]),
        Route("/__admin/users", bare(bound(admin.admin_users)), methods=["POST"]),
        Route("/__admin/users/{user_id}/accept", bare(u.admin_accept), methods=["POST"]),
        Route("/__admin/records/{module}/{record_id}", bare(bound(admin.admin_record)), methods=["POST"]),
        Route("/crm/v8/org", api(bound(org.org))),
        Route("/crm/v8/users", api(u.list)),
        Route("/crm/v8/users", api(u.create), methods=["POST"]),
        Route("/crm/v8/users/{user_id}", api(u.get)),
        Route("/crm/v8/settings/roles", api(u.roles)),
        Route("/crm/v8/settings/modules", api(bound(metadata_api.modules))),
        Route("/crm/v8/settings/modules", api(bound(metadata_api.module_create)), methods=["POST"]),
        Route("/crm/v8/settings/modules/{name}", api(bound(metadata_api.module_get))),
        Route("/crm/v8/settings/fields", api(bound(metadata_api.fields))),
        Route("/crm/v8/settings/fields", api(bound(metadata_api.field_create)), methods=["POST"]),
        Route("/crm/v8/settings/fields", api(bound(metadata_api.field_update)), methods=["PATCH"]),
        Route("/crm/v8/settings/fields/{field_id}", api(bound(metadata_api.field_get))),
        Route("/crm/v8/settings/fields/{field_id}", api(bound(metadata_api.field_update)), methods=["PATCH"]),
        Route("/crm/v8/settings/fields/{field_id}", api(bound(metadata_api.field_delete)), methods=["DELETE"]),
        Route("/crm/v8/settings/layouts", api(bound(layouts.layouts_list))),
        Route("/crm/v8/settings/layouts/{layout_id}", api(bound(layouts.layout_get))),
        Route("/crm/v8/settings/profiles", api(bound(profiles.profiles_list))),
        Route("/crm/v8/settings/profiles/{profile_id}", api(bound(profiles.profile_get))),
        Route("/crm/v8/settings/related_lists", api(bound(related_lists.related_lists))),
        Route("/crm/v8/coql", api(bound(query_api.coql_endpoint)), methods=["POST"]),
        Route("/crm/v8/upload", api(s.bulk.upload), methods=["POST"]),
        Route("/crm/bulk/v8/write", api(s.bulk.create_job), methods=["POST"]),
        Route("/crm/bulk/v8/write/{job_id}", api(s.bulk.job_status)),
        Route("/crm/v8/bulk-write/{job_id}/{file_name}", api(s.bulk.download)),
        Route("/crm/v8/{module}/search", api(bound(record_reads.records_search))),
        Route("/crm/v8/{module}/actions/count", api(bound(record_reads.record_count))),
        Route("/crm/v8/{module}/deleted", api(bound(record_reads.deleted_records))),
        Route("/crm/v8/{module}/upsert", api(bound(record_writes.records_upsert)), methods=["POST"]),
        Route("/crm/v8/{module}/{record_id}/Notes", api(bound(related_records.related_notes))),
        Route("/crm/v8/{module}/{record_id}/Notes", api(bound(related_records.related_notes_create)), methods=["POST"]),
        Route("/crm/v8/{module}/{record_id}/Attachments", api(bound(attachments.attachments_list))),
        Route("/crm/v8/{module}/{record_id}/Attachments", api(bound(attachments.attachment_upload)), methods=["POST"]),
        Route("/crm/v8/{module}/{record_id}/Attachments/{attachment_id}", api(bound(attachments.attachment_download))),
        Route("/crm/v8/{module}/{record_id}/Attachments/{attachment_id}", api(bound(attachments.attachment_delete)),
              methods=["DELETE"]),
        Route("/crm/v8/{module}/{record_id}/{related}", api(bound(related_records.related_records))),
        Route("/crm/v8/{module}/{record_id}", api(bound(record_reads.record_get))),
        Route("/crm/v8/{module}/{record_id}", api(bound(record_writes.record_update)), methods=["PUT"]),
        Route("/crm/v8/{module}/{record_id}", api(bound(record_writes.record_delete)), methods=["DELETE"]),
        Route("/crm/v8/{module}", api(bound(record_reads.records_list))),
        Route("/crm/v8/{module}", api(bound(record_writes.records_insert)), methods=["POST"]),
        Route("/crm/v8/{module}", api(bound(record_writes.records_update)), methods=["PUT"]),
        Route("/crm/v8/{module}", api(bound(record_writes.records_delete)), methods=["DELETE"]),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Any):
        s.bulk.resume()
        yield
        await s.bulk.shutdown()
        s.store.close()

    async def no_route(request: Request, exc: Exception) -> Response:
        # status-codes page (https://www.zoho.com/crm/developer/docs/api/v8/status-codes.html): 404 for
        # a wrong URL, 405 for a wrong method; codes and messages from the OAS error enums
        # (INVALID_URL_PATTERN, INVALID_REQUEST_METHOD in share_records.json, blueprint.json...)
        if getattr(exc, "status_code", 404) == 405:
            return ApiError(405, "INVALID_REQUEST_METHOD", "The http request method type is not a valid one").response()
        return ApiError(404, "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one").response()

    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={404: no_route, 405: no_route})
    return FaultsAndConcurrency(app, server)
