"""What a route reads from its request: the module (path or `module=` parameter), the JSON body and
its `data` list, the X-EXTERNAL header and the record id it names, `fields`, `page`/`per_page`, and
the status a write answers with. ZohoServer takes these as methods (server.module(...),
server.paging(...)), so every route module reads a request the same way."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .http import ApiError

if TYPE_CHECKING:
    from starlette.requests import Request

    from .records import Records
    from .store import Store

MAX_WRITE_RECORDS = 100
MAX_FIELDS = 50


class RequestParams:
    """Mixed into ZohoServer: the request readers that need the org's modules and fields."""

    store: Store
    records: Records

    def module(self, name: str, wrap: str | None = None) -> str:
        if name in self.store.modules:
            return name
        for api in self.store.modules:
            if api.lower() == name.lower():
                return api
        raise ApiError(400, "INVALID_MODULE", "The module name given seems to be invalid", {"resource_path_index": 0}, wrap)

    def module_param(self, request: Request) -> str:
        name = request.query_params.get("module")
        if not name:
            raise ApiError(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", {"param": "module"})
        return self.module(name)

    async def body_json(self, request: Request) -> Any:
        raw = await request.body()
        try:
            return json.loads(raw or b"null")
        except ValueError:
            raise ApiError(400, "INVALID_DATA", "invalid data", {"reason": "body is not JSON"}) from None

    async def data_list(self, request: Request) -> tuple[dict[str, Any], list[Any]]:
        body = await self.body_json(request)
        if not isinstance(body, dict) or not isinstance(body.get("data"), list) or not body["data"]:
            raise ApiError(400, "INVALID_DATA", "invalid data", {"api_name": "data", "expected_data_type": "jsonarray"})
        if len(body["data"]) > MAX_WRITE_RECORDS:
            raise ApiError(400, "LIMIT_EXCEEDED", "Record count exceeded", {"limit": MAX_WRITE_RECORDS, "api_name": "data"})
        return body, body["data"]

    def external_field(self, request: Request, module: str) -> str | None:
        header = request.headers.get("x-external")
        if not header:
            return None
        mod, _, field = header.partition(".")
        if mod.lower() != module.lower() or field not in self.store.specs[module] or not self.store.specs[module][field].external:
            raise ApiError(400, "INVALID_DATA", "The value of the external field is invalid.", {"api_name": field or header})
        return field

    def resolve_path_id(self, module: str, key: str, external: str | None) -> str | None:
        """The record a path names: by id, or by the X-EXTERNAL field's value; None when none is."""
        if external:
            return self.records.resolve_external(module, external, key)
        return key if key in self.store.records[module] else None

    def fields_param(self, request: Request, module: str, required: bool) -> list[str] | None:
        raw = request.query_params.get("fields")
        if not raw:
            if required:
                raise ApiError(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", {"param": "fields"})
            return None
        names = [f.strip() for f in raw.split(",") if f.strip()]
        if len(names) > MAX_FIELDS:
            raise ApiError(400, "LIMIT_EXCEEDED", "Max field limit exceeded", {"param": "fields", "limit": MAX_FIELDS})
        unknown = [f for f in names if f not in self.store.specs[module] and f != "id"]
        if unknown:
            raise ApiError(400, "INVALID_DATA", "invalid data", {"param_name": "fields", "api_name": unknown[0]})
        return names

    def paging(self, request: Request, max_per_page: int = 200) -> tuple[int, int]:
        try:
            page = int(request.query_params.get("page", "1"))
            per_page = int(request.query_params.get("per_page", str(max_per_page)))
        except ValueError:
            raise ApiError(400, "INVALID_DATA", "invalid data", {"param_name": "page"}) from None
        if page < 1 or per_page < 1 or per_page > max_per_page:
            raise ApiError(400, "INVALID_DATA", "invalid data", {"param_name": "per_page", "maximum_length": str(max_per_page)})  # a string, as record.json types it
        return page, per_page

    @staticmethod
    def write_status(results: list[dict[str, Any]], ok_status: int) -> int:
        """`ok_status` when every item succeeded, 207 when some did, 400 when none did."""
        ok = sum(1 for r in results if r["status"] == "success")
        if ok == len(results):
            return ok_status
        return 207 if ok else 400


def page_of(items: list[Any], page: int, per_page: int) -> tuple[list[Any], dict[str, Any]]:
    """One page of a list and the `info` Zoho answers beside it (the caller answers 204 when the
    page is empty)."""
    chunk = items[(page - 1) * per_page: page * per_page]
    return chunk, {"per_page": per_page, "count": len(chunk), "page": page, "more_records": page * per_page < len(items)}
