"""Record reads: `GET /{module}` (a page of records, by page or page_token), `GET /{module}/{id}`
(by id or by the X-EXTERNAL field), `GET /{module}/search` (criteria, email, phone or word),
`GET /{module}/actions/count` (OAS record_count.json: `{"count": n}`, filters email / phone / word,
cvid not combinable with them: AMBIGUITY_DURING_PROCESSING; Zoho's page
https://www.zoho.com/crm/developer/docs/api/v8/get-record-count.html),
`GET /{module}/deleted?type=all|recycle|permanent` (OAS record.json `Deleted_Records_Wrapper`;
https://www.zoho.com/crm/developer/docs/api/v8/get-deleted-records.html), and `If-Modified-Since`
on record reads (OAS record.json declares the header on list, get and deleted; Zoho's v8 "Get
Records" page: only records modified after the time; Zoho's status-code page: 304 NOT MODIFIED
when nothing was)."""

from __future__ import annotations

import base64
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from . import deleted
from .criteria import CriteriaError, parse
from .http import ApiError, jresp
from .params import page_of

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from .app import ZohoServer

DELETED_TYPES = ("all", "recycle", "permanent")
SEARCH_MAX = 2_000  # records a search, or page-numbered list, reaches
PAGE_TOKEN_LIFETIME = 86_400


def modified_since(request: Request) -> float | None:
    """The If-Modified-Since header as an instant; ISO 8601 with an offset, as Zoho's pages give
    it (2019-07-25T15:26:49+05:30). Anything else is INVALID_DATA (*unverified* details)."""

    raw = request.headers.get("if-modified-since")
    if raw is None:
        return None
    try:
        when = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise ApiError(400, "INVALID_DATA", "invalid data", {"header_name": "If-Modified-Since"})
    return when.timestamp()


def modified_after(rec: dict[str, Any], since: float) -> bool:
    stamp = rec.get("Modified_Time")
    if not isinstance(stamp, str):
        return False
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() > since


def not_modified(server: ZohoServer) -> Response:
    from starlette.responses import Response

    return Response(status_code=304, headers=server.credit_headers())


async def record_count(server: ZohoServer, request: Request) -> Response:

    try:
        module = server.module(request.path_params["module"])
    except ApiError as err:  # record_count.json spells the message in lower case
        err.message = "the module name given seems to be invalid"
        raise
    q = request.query_params
    searched = [p for p in ("email", "phone", "word") if q.get(p)]
    if q.get("cvid") and searched:
        raise ApiError(400, "AMBIGUITY_DURING_PROCESSING",
                       "Please use either Cvid or Search Params. Combination of both the params is not allowed",
                       {"ambiguity_due_to": [{"param_name": "cvid"}, {"param_name": searched[0]}]})
    await server.guard(request, "records.count", 1, module)
    server.commit()
    rows = server.store.records[module].values()
    if searched:
        specs = server.store.specs[module]
        kind = searched[0]
        probe = q[kind].lower()
        if kind == "word":
            keys = [s for s in specs if specs[s].data_type in ("text", "email", "phone")]
            rows = [r for r in rows if any(isinstance(r.get(k), str) and probe in r[k].lower() for k in keys)]
        else:
            keys = [s for s in specs if specs[s].data_type == kind]
            rows = [r for r in rows if any(isinstance(r.get(k), str) and r[k].lower() == probe for k in keys)]
    return jresp({"count": len(list(rows))}, headers=server.credit_headers())


async def deleted_records(server: ZohoServer, request: Request) -> Response:

    module = server.module(request.path_params["module"])
    kind = request.query_params.get("type", "all")
    if kind not in DELETED_TYPES:
        raise ApiError(400, "INVALID_DATA", "invalid data", {"param_name": "type", "supported_values": list(DELETED_TYPES)})
    since = modified_since(request)
    await server.guard(request, "records.deleted", 1, module)
    server.commit()
    page, per_page = server.paging(request)
    chunk, info = page_of(deleted.listed(server.store, module, kind, since), page, per_page)
    if not chunk:
        return jresp(None, 204, headers=server.credit_headers())
    return jresp({"data": chunk, "info": info}, headers=server.credit_headers())


async def record_get(server: ZohoServer, request: Request) -> Response:
    module = server.module(request.path_params["module"])
    external = server.external_field(request, module)
    await server.guard(request, "records.get", 1, module)
    server.commit()
    rid = server.resolve_path_id(module, request.path_params["record_id"], external)
    if rid is None:
        return jresp(None, 204, headers=server.credit_headers())
    rec = server.store.records[module][rid]
    since = modified_since(request)
    if since is not None and not modified_after(rec, since):
        return not_modified(server)
    fields = server.fields_param(request, module, required=False)
    return jresp({"data": [server.records.present(module, rec, fields)]}, headers=server.credit_headers())


async def records_list(server: ZohoServer, request: Request) -> Response:
    module = server.module(request.path_params["module"])
    fields = server.fields_param(request, module, required=True)
    await server.guard(request, "records.list", 1, module)
    server.commit()
    page, per_page = server.paging(request)
    q = request.query_params
    token = q.get("page_token")
    ids = q.get("ids")
    rows = list(server.store.records[module].values())
    since = modified_since(request)
    if since is not None:  # only records modified after; 304 when none
        rows = [r for r in rows if modified_after(r, since)]
        if not rows:
            return not_modified(server)
    if ids:
        wanted = set(ids.split(","))
        rows = [r for r in rows if r["id"] in wanted]
    sort_by = q.get("sort_by", "id")
    if sort_by not in ("id", "Created_Time", "Modified_Time"):
        raise ApiError(400, "INVALID_DATA", "invalid data", {"param_name": "sort_by"})
    order = q.get("sort_order", "asc")
    rows.sort(key=lambda r: (r.get(sort_by) or "", int(r["id"])), reverse=order == "desc")
    if token:
        try:
            start = int(base64.urlsafe_b64decode(token.encode()).decode().split(":")[1])
        except (ValueError, IndexError):
            raise ApiError(400, "INVALID_DATA", "invalid data", {"param_name": "page_token"}) from None
    else:
        if page * per_page > SEARCH_MAX:
            raise ApiError(400, "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
                           "cannot fetch more than 2000 records with page; use page_token", {"limit": SEARCH_MAX})
        start = (page - 1) * per_page
    chunk = rows[start:start + per_page]
    if not chunk:
        return jresp(None, 204, headers=server.credit_headers())
    more = start + per_page < len(rows)
    info = {"per_page": per_page, "count": len(chunk), "page": page, "sort_by": sort_by, "sort_order": order,
            "more_records": more}
    if more:  # the token is the module and the next page's first position
        info["next_page_token"] = base64.urlsafe_b64encode(f"{module}:{start + per_page}".encode()).decode()
        expiry = datetime.fromtimestamp(server.store.now() + PAGE_TOKEN_LIFETIME, timezone.utc)
        info["page_token_expiry"] = expiry.replace(microsecond=0).isoformat()
    return jresp({"data": [server.records.present(module, r, fields) for r in chunk], "info": info},
                 headers=server.credit_headers())


async def records_search(server: ZohoServer, request: Request) -> Response:
    module = server.module(request.path_params["module"])
    q = request.query_params
    await server.guard(request, "records.search", 1, module)
    server.commit()
    specs = server.store.specs[module]
    if q.get("criteria"):
        try:
            pred, names = parse(q["criteria"])
        except CriteriaError as exc:
            raise ApiError(400, "INVALID_QUERY", "invalid query formed", {"reason": str(exc)}) from None
        unknown = [n for n in names if n not in specs and n != "id"]
        if unknown:
            raise ApiError(400, "INVALID_QUERY", "invalid query formed", {"api_name": unknown[0], "reason": "invalid field"})
    elif q.get("email") or q.get("phone") or q.get("word"):
        if q.get("email"):
            keys, probe = [s for s in specs if specs[s].data_type == "email"], q["email"].lower()
        elif q.get("phone"):
            keys, probe = [s for s in specs if specs[s].data_type == "phone"], q["phone"].lower()
        else:
            keys, probe = [s for s in specs if specs[s].data_type in ("text", "email", "phone")], q["word"].lower()
        exact = not q.get("word")
        pred = lambda r: any(isinstance(r.get(k), str) and ((r[k].lower() == probe) if exact else probe in r[k].lower())  # noqa: E731
                             for k in keys)
    else:
        raise ApiError(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", {"param": "criteria"})
    page, per_page = server.paging(request)
    if page * per_page > SEARCH_MAX:
        raise ApiError(400, "LIMIT_EXCEEDED", "Record count exceeded", {"limit": SEARCH_MAX})
    hits = [r for r in server.store.records[module].values() if pred(r)][:SEARCH_MAX]
    chunk, info = page_of(hits, page, per_page)
    if not chunk:
        return jresp(None, 204, headers=server.credit_headers())
    fields = server.fields_param(request, module, required=False)
    return jresp({"data": [server.records.present(module, r, fields) for r in chunk], "info": info},
                 headers=server.credit_headers())
