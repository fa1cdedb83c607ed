"""A record's related lists as routes: `GET` and `POST /{module}/{id}/Notes` (its notes), and
`GET /{module}/{id}/{related}` (its calls, events, tasks or custom-module records: Insurance,
Communications...). Which lists a module has is related_lists.py's; attachments.py serves
`/{module}/{id}/Attachments`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .http import ApiError, jresp
from .limits import write_cost
from .params import page_of
from .record_writes import written

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from .app import ZohoServer


def parent_id(server: ZohoServer, module: str, request: Request) -> str:
    """The path's record id; INVALID_DATA (a bare error, as attachments.json has it) when the module
    holds no such record."""
    rid = request.path_params["record_id"]
    if rid not in server.store.records[module]:
        raise ApiError(400, "INVALID_DATA", "the id given seems to be invalid", {"id": rid})
    return rid


async def related_notes(server: ZohoServer, request: Request) -> Response:
    module = server.module(request.path_params["module"])
    await server.guard(request, "notes.list", 1, module)
    server.commit()
    rid = parent_id(server, module, request)
    notes = [n for n in server.store.records.get("Notes", {}).values() if (n.get("Parent_Id") or {}).get("id") == rid]
    page, per_page = server.paging(request)
    chunk, info = page_of(notes, page, per_page)
    if not chunk:
        return jresp(None, 204, headers=server.credit_headers())
    return jresp({"data": [server.records.present("Notes", n) for n in chunk], "info": info}, headers=server.credit_headers())


async def related_notes_create(server: ZohoServer, request: Request) -> Response:
    module = server.module(request.path_params["module"])
    body, data = await server.data_list(request)
    rid = request.path_params["record_id"]
    for item in data:
        if isinstance(item, dict):
            item["Parent_Id"] = {"module": {"api_name": module}, "id": rid}
    user = await server.guard(request, "notes.create", write_cost(len(data)), "Notes", len(data))
    return written(server, server.records.insert("Notes", data, user), 201)


async def related_records(server: ZohoServer, request: Request) -> Response:
    """A record's child records by the lookup or activity link pointing at it."""
    module = server.module(request.path_params["module"])
    child = server.module(request.path_params["related"])
    await server.guard(request, "records.related", 1, child)
    server.commit()
    rid = parent_id(server, module, request)
    found = server.records.related(module, rid, child)
    if found is None:
        raise ApiError(400, "INVALID_DATA", "the related list name given seems to be invalid",
                       {"resource_path_index": 2})
    fields = server.fields_param(request, child, required=True)
    page, per_page = server.paging(request)
    chunk, info = page_of(found, page, per_page)
    if not chunk:
        return jresp(None, 204, headers=server.credit_headers())
    return jresp({"data": [server.records.present(child, r, fields) for r in chunk], "info": info},
                 headers=server.credit_headers())
