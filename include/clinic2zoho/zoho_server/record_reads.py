"""Record reads beside the list and get: `GET /{module}/actions/count` (OAS record_count.json: `{"count":
n}`, filters email / phone / word, cvid not combinable with them: AMBIGUITY_DURING_PROCESSING;
Zoho's page https://www.zoho.com/crm/developer/docs/api/v8/get-record-count.html),
`GET /{module}/deleted?type=all|recycle|permanent` (OAS record.json `Deleted_Records_Wrapper`;
https://www.zoho.com/crm/developer/docs/api/v8/get-deleted-records.html), and `If-Modified-Since`
on record reads (OAS record.json declares the header on list, get and deleted; Zoho's v8 "Get
Records" page: only records modified after the time; Zoho's status-code page: 304 NOT MODIFIED
when nothing was)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import deleted
from .http import ApiError, jresp

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from .app import ZohoServer

DELETED_TYPES = ("all", "recycle", "permanent")


def modified_since(request: "Request") -> float | None:
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


def not_modified(server: "ZohoServer") -> "Response":
    from starlette.responses import Response

    return Response(status_code=304, headers=server.credit_headers())


async def record_count(server: "ZohoServer", request: "Request") -> "Response":

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


async def deleted_records(server: "ZohoServer", request: "Request") -> "Response":

    module = server.module(request.path_params["module"])
    kind = request.query_params.get("type", "all")
    if kind not in DELETED_TYPES:
        raise ApiError(400, "INVALID_DATA", "invalid data", {"param_name": "type", "supported_values": list(DELETED_TYPES)})
    since = modified_since(request)
    await server.guard(request, "records.deleted", 1, module)
    server.commit()
    page, per_page = server.paging(request)
    items = deleted.listed(server.store, module, kind, since)
    chunk = items[(page - 1) * per_page: page * per_page]
    if not chunk:
        return jresp(None, 204, headers=server.credit_headers())
    info = {"per_page": per_page, "count": len(chunk), "page": page, "more_records": page * per_page < len(items)}
    return jresp({"data": chunk, "info": info}, headers=server.credit_headers())
