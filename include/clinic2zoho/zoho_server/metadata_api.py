"""Routes of the modules and fields metadata: `GET/POST /settings/modules`, `GET
/settings/modules/{name}`, `GET/POST/PATCH /settings/fields`, `GET/PATCH/DELETE
/settings/fields/{id}` (OAS modules.json, fields.json). The rules of a new module or field are
metadata.py's; a route here reads the request and answers each item in Zoho's list."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from . import metadata
from .http import ApiError, jresp

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from .app import ZohoServer


async def items_of(server: ZohoServer, request: Request, key: str) -> list[Any]:
    """The non-empty list under `key` of the JSON body (`{"fields": [...]}`)."""
    body = await server.body_json(request)
    items = body.get(key) if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise ApiError(400, "INVALID_DATA", "invalid data", {"api_name": key})
    return items


def each_item(server: ZohoServer, key: str, items: list[Any], act: Callable[[Any], dict[str, Any]], message: str,
              ok_status: int) -> Response:
    """Apply `act` to every item and answer one result per item under `key`: SUCCESS with the id
    `act` returns, or the MetadataError it raised; `ok_status` when all succeeded, 207 or 400 else."""
    out = []
    for item in items:
        try:
            made = act(item)
            out.append({"code": "SUCCESS", "details": {"id": made["id"]}, "message": message, "status": "success"})
        except metadata.MetadataError as err:
            out.append(err.body())
    return jresp({key: out}, server.write_status(out, ok_status), headers=server.credit_headers())


# ---- modules --------------------------------------------------------------------------------------
async def modules(server: ZohoServer, request: Request) -> Response:
    await server.guard(request, "modules")
    server.commit()
    return jresp({"modules": list(server.store.modules.values())}, headers=server.credit_headers())


async def module_get(server: ZohoServer, request: Request) -> Response:
    await server.guard(request, "modules.get")
    server.commit()
    key = request.path_params["name"]
    found = next((m for m in server.store.modules.values() if key in (m["api_name"], m["id"])
                  or m["api_name"].lower() == key.lower()), None)
    if found is None:
        # modules.json: RErrorResponse is a bare Invalid_Module, not wrapped in `modules`
        raise ApiError(400, "INVALID_MODULE", "The module name given seems to be invalid", {})
    return jresp({"modules": [{**found, "fields": server.store.fields[found["api_name"]]}]}, headers=server.credit_headers())


async def module_create(server: ZohoServer, request: Request) -> Response:
    await server.guard(request, "modules.create", int(server.store.settings["custom_module_credits"]))
    server.commit()
    items = await items_of(server, request, "modules")
    return each_item(server, "modules", items, lambda item: metadata.create_module(server.store, item), "module created", 201)


# ---- fields ---------------------------------------------------------------------------------------
async def fields(server: ZohoServer, request: Request) -> Response:
    await server.guard(request, "fields")
    server.commit()
    module = server.module_param(request)
    return jresp({"fields": server.store.fields[module]}, headers=server.credit_headers())


async def field_get(server: ZohoServer, request: Request) -> Response:
    await server.guard(request, "fields.get")
    server.commit()
    module = server.module_param(request)
    key = request.path_params["field_id"]
    found = next((f for f in server.store.fields[module] if key in (f["id"], f["api_name"])), None)
    if found is None:
        return jresp(None, 204)
    return jresp({"fields": [found]}, headers=server.credit_headers())


async def field_create(server: ZohoServer, request: Request) -> Response:
    await server.guard(request, "fields.create")
    server.commit()
    module = server.module_param(request)
    items = await items_of(server, request, "fields")
    edition = server.store.settings["edition"]
    return each_item(server, "fields", items, lambda item: metadata.create_field(server.store, module, item, edition),
                     "field created", 201)


async def field_update(server: ZohoServer, request: Request) -> Response:
    """PATCH one field by its path id, or each field of the body by its own `id`."""
    await server.guard(request, "fields.update")
    server.commit()
    module = server.module_param(request)
    items = await items_of(server, request, "fields")
    path_id = request.path_params.get("field_id")

    def update(item: Any) -> dict[str, Any]:
        fid = path_id or (item.get("id") if isinstance(item, dict) else None) or ""
        return metadata.update_field(server.store, module, str(fid), item)
    return each_item(server, "fields", items, update, "field updated", 200)


async def field_delete(server: ZohoServer, request: Request) -> Response:
    await server.guard(request, "fields.delete")
    server.commit()
    module = server.module_param(request)
    try:
        gone = metadata.delete_field(server.store, module, request.path_params["field_id"])
    except metadata.MetadataError as err:
        return jresp(err.body(), err.status, headers=server.credit_headers())
    return jresp({"fields": [{"code": "SUCCESS", "details": {"id": gone["id"]}, "message": "field deleted",
                              "status": "success"}]}, headers=server.credit_headers())
