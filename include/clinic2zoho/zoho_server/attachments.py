"""A record's attachments: `GET` and `POST /{module}/{id}/Attachments` (list; upload a file or
attach a link by `attachmentUrl`), `GET` and `DELETE /{module}/{id}/Attachments/{attachment_id}`
(download, delete) (OAS attachments.json). Files live in the store's `attachments` table, their
size capped by the setting `attachment_max_bytes`."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from .http import ApiError, jresp
from .params import page_of
from .records import record_name
from .related_records import parent_id

if TYPE_CHECKING:
    from starlette.requests import Request

    from .app import ZohoServer

FORM_OVERHEAD = 64 * 1024  # what a multipart body may hold beyond its file before it counts as too big


def attachment_parent(server: ZohoServer, request: Request) -> tuple[str, str]:
    module = server.module(request.path_params["module"])
    return module, parent_id(server, module, request)


async def attachment_upload(server: ZohoServer, request: Request) -> Response:
    store = server.store
    module = server.module(request.path_params["module"])
    limit = int(store.settings["attachment_max_bytes"])
    declared = int(request.headers.get("content-length") or 0)
    user = await server.guard(request, "attachments.upload", 1, module, 1)
    server.commit()
    module, rid = attachment_parent(server, request)
    too_big = ApiError(413, "FILE_SIZE_MORE_THAN_ALLOWED_SIZE", "file size exceeds the allowed limit",
                       {"allowed_size": limit}, "data")
    if declared > limit + FORM_OVERHEAD:
        raise too_big
    form = await request.form(max_part_size=limit + 1)
    upload = form.get("file")
    link = form.get("attachmentUrl") or request.query_params.get("attachmentUrl")  # attachments.json: a query parameter
    if upload is not None and not isinstance(upload, str):
        content = await upload.read()
        if len(content) > limit:
            raise too_big
        name, size, link_url = upload.filename or "file", len(content), None
    elif isinstance(link, str) and link:
        # Zoho names a link by its `title` parameter, else by the page's title (here: the URL's last part)
        title = request.query_params.get("title") or form.get("title")
        name = title if isinstance(title, str) and title else link.rsplit("/", 1)[-1] or link
        content, size, link_url = None, 0, link
    else:
        raise ApiError(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", {"param": "file"})
    store.begin()
    aid = store.next_id()
    now = store.now_iso()
    who = {"name": user["full_name"], "id": user["id"], "email": user["email"]}
    meta = {"id": aid, "File_Name": name, "Size": str(size), "$se_module": module, "Parent_Id": {"id": rid},
            "Created_Time": now, "Modified_Time": now, "Created_By": who, "Modified_By": who, "Owner": who,
            "$type": "Attachment" if link_url is None else "Link URL", "$link_url": link_url, "$editable": True,
            "$file_id": hashlib.sha256(content).hexdigest() if content is not None else None, "$sharing_permission": "full_access"}
    store.conn.execute("INSERT INTO attachments VALUES (?, ?, ?, ?, ?)", (aid, module, rid, json.dumps(meta), content))
    server.commit()
    details = {"Modified_Time": now, "Modified_By": {"name": who["name"], "id": who["id"]}, "Created_Time": now, "id": aid,
               "Created_By": {"name": who["name"], "id": who["id"]}}
    return jresp({"data": [{"code": "SUCCESS", "details": details, "message": "attachment uploaded successfully",
                            "status": "success"}]}, headers=server.credit_headers())


def attachment_rows(server: ZohoServer, rid: str) -> list[dict[str, Any]]:
    """A record's attachments as attachments.json lists them, the parent named."""
    store = server.store
    rows = store.conn.execute("SELECT meta FROM attachments WHERE record_id = ? ORDER BY id", (rid,)).fetchall()
    out = []
    for (meta,) in rows:
        item = json.loads(meta)
        parent_module = item["$se_module"]
        target = store.records.get(parent_module, {}).get(item["Parent_Id"]["id"])
        item["Parent_Id"] = {"name": record_name(store, parent_module, target) if target else None, "id": item["Parent_Id"]["id"]}
        out.append(item)
    return out


async def attachments_list(server: ZohoServer, request: Request) -> Response:
    await server.guard(request, "attachments.list", 1)
    server.commit()
    module, rid = attachment_parent(server, request)
    if not request.query_params.get("fields"):  # attachments.json: `fields` is required
        raise ApiError(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing",
                       {"param_name": "fields", "param": "fields"})
    items = attachment_rows(server, rid)
    page, per_page = server.paging(request)
    chunk, info = page_of(items, page, per_page)
    if not chunk:
        return jresp(None, 204, headers=server.credit_headers())
    return jresp({"data": chunk, "info": info}, headers=server.credit_headers())


async def attachment_download(server: ZohoServer, request: Request) -> Response:
    await server.guard(request, "attachments.download", 1)
    server.commit()
    module, rid = attachment_parent(server, request)
    row = server.store.conn.execute("SELECT meta, content FROM attachments WHERE id = ? AND record_id = ?",
                                    (request.path_params["attachment_id"], rid)).fetchone()
    if row is None:
        return jresp(None, 204)
    meta = json.loads(row[0])
    if row[1] is None:
        raise ApiError(400, "INVALID_DATA", "invalid data", {"reason": "link attachments have no content"}, "data")
    name = meta["File_Name"].replace('"', "")
    return Response(row[1], media_type="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', **server.credit_headers()})


async def attachment_delete(server: ZohoServer, request: Request) -> Response:
    await server.guard(request, "attachments.delete", 1)
    module, rid = attachment_parent(server, request)
    aid = request.path_params["attachment_id"]
    cur = server.store.conn.execute("DELETE FROM attachments WHERE id = ? AND record_id = ?", (aid, rid))
    server.commit()
    if cur.rowcount == 0:
        result = {"code": "INVALID_DATA", "details": {"id": aid}, "message": "the id given seems to be invalid", "status": "error"}
        return jresp({"data": [result]}, 400, headers=server.credit_headers())
    return jresp({"data": [{"code": "SUCCESS", "details": {"id": aid}, "message": "record deleted", "status": "success"}]},
                 headers=server.credit_headers())
