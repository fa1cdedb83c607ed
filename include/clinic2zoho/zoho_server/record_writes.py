"""Record writes: `POST /{module}` (insert), `PUT /{module}` and `PUT /{module}/{id}` (update, by id
or by the X-EXTERNAL field), `POST /{module}/upsert`, `DELETE /{module}?ids=` and `DELETE
/{module}/{id}` (OAS record.json). Each checks the request, passes the guard (credits by record
count), lets records.py write, and answers one result per record."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .http import ApiError, jresp
from .limits import write_cost

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from .app import ZohoServer

MAX_DELETE_IDS = 100


def written(server: ZohoServer, results: list[dict[str, Any]], ok_status: int) -> Response:
    """Commit the write and answer its per-record results (`ok_status`, 207 or 400)."""
    server.commit()
    return jresp({"data": results}, server.write_status(results, ok_status), headers=server.credit_headers())


async def records_insert(server: ZohoServer, request: Request) -> Response:
    module = server.module(request.path_params["module"])
    body, data = await server.data_list(request)
    user = await server.guard(request, "records.insert", write_cost(len(data)), module, len(data))
    return written(server, server.records.insert(module, data, user), 201)


async def records_update(server: ZohoServer, request: Request) -> Response:
    module = server.module(request.path_params["module"])
    body, data = await server.data_list(request)
    external = server.external_field(request, module)
    user = await server.guard(request, "records.update", write_cost(len(data)), module, len(data))
    return written(server, server.records.update(module, data, user, external), 200)


async def record_update(server: ZohoServer, request: Request) -> Response:
    module = server.module(request.path_params["module"])
    body, data = await server.data_list(request)
    external = server.external_field(request, module)
    user = await server.guard(request, "records.update", write_cost(len(data)), module, len(data))
    rid = server.resolve_path_id(module, request.path_params["record_id"], external)
    if rid is None:
        raise ApiError(400, "INVALID_DATA", "the id given seems to be invalid", {"id": request.path_params["record_id"]}, "data")
    return written(server, server.records.update(module, data[:1], user, None, path_id=rid), 200)


async def records_upsert(server: ZohoServer, request: Request) -> Response:
    module = server.module(request.path_params["module"])
    body, data = await server.data_list(request)
    external = server.external_field(request, module)
    dup = body.get("duplicate_check_fields")
    if dup is not None and (not isinstance(dup, list) or any(f not in server.store.specs[module] for f in dup)):
        raise ApiError(400, "INVALID_DATA", "invalid data", {"api_name": "duplicate_check_fields"})
    user = await server.guard(request, "records.upsert", write_cost(len(data)), module, len(data))
    results = server.records.upsert(module, data, user, dup, external)
    inserted = any(r.get("action") == "insert" for r in results if r["status"] == "success")
    return written(server, results, 201 if inserted else 200)


async def records_delete(server: ZohoServer, request: Request) -> Response:
    module = server.module(request.path_params["module"])
    ids = [i for i in request.query_params.get("ids", "").split(",") if i]
    if not ids:
        raise ApiError(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", {"param": "ids"})
    if len(ids) > MAX_DELETE_IDS:
        raise ApiError(400, "LIMIT_EXCEEDED", "Record count exceeded", {"limit": MAX_DELETE_IDS, "param": "ids"})
    await server.guard(request, "records.delete", 1, module, len(ids))
    return written(server, server.records.delete(module, ids), 200)


async def record_delete(server: ZohoServer, request: Request) -> Response:
    module = server.module(request.path_params["module"])
    external = server.external_field(request, module)
    await server.guard(request, "records.delete", 1, module, 1)
    key = request.path_params["record_id"]
    rid = server.resolve_path_id(module, key, external) or key
    return written(server, server.records.delete(module, [rid]), 200)
