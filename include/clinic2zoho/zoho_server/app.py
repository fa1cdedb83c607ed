"""The ASGI application: Zoho's v8 routes over the store, with auth, credits, concurrency and
fault injection in front of every API call, plus the admin API for tests."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import layouts, metadata, profiles, query_api, record_reads, related_lists, scopes
from .bulk import BulkWrite
from .criteria import CriteriaError, parse
from .http import ApiError, jresp
from .limits import HEAVY_WRITE_RECORDS, Limited, Limits, write_cost
from .records import Records
from .schema import TIMESTAMP_FIELDS
from .settings import merge, org_type
from .store import Store
from .users import UsersApi

MAX_WRITE_RECORDS = 100
MAX_DELETE_IDS = 100
SEARCH_MAX = 2_000
NO_TOKEN = frozenset({"health", "token", "revoke", "admin_snapshot", "admin_settings", "admin_clock", "admin_credits",
                      "admin_calls", "admin_users", "admin_record"})


@dataclass
class Credentials:
    client_id: str
    client_secret: str
    refresh_token: str
    admin_token: str


def canonical_hash(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()


class ZohoServer:
    """State, rules and routes of one local Zoho org."""

    def __init__(self, store: Store, creds: Credentials, base_url: str = "") -> None:
        self.store = store
        self.creds = creds
        self.base_url = base_url
        self.limits = Limits(store)
        self.records = Records(store, row_fault=lambda: self.limits.roll("row_fail_rate"))
        self.bulk = BulkWrite(self)
        self.calls: list[dict[str, Any]] = []
        self.call_counts: dict[str, int] = {}

    # ---- guard of every API call -----------------------------------------------------------------
    async def guard(self, request: Request, op: str, cost: int = 1, module: str | None = None, records: int = 0) -> dict[str, Any]:
        token = self.check_token(request)
        info = request.scope.setdefault("c2z", {})
        info.update({"op": op, "module": module, "records": records, "credits": 0})
        if self.limits.roll("expire_token_rate"):
            self.store.revoke_token(token)
            raise ApiError(401, "INVALID_TOKEN", "invalid oauth token")
        if self.limits.roll("error_5xx_rate"):
            raise ApiError(500, "INTERNAL_ERROR", "Internal server error occurred.")
        heavy = records > HEAVY_WRITE_RECORDS and request.method in ("POST", "PUT")
        if heavy and self.limits.heavy_in_flight >= int(self.store.settings["heavy_write_concurrency"]):
            raise ApiError(429, "TOO_MANY_REQUESTS", "concurrency limit exceeded", {})
        try:
            self.limits.charge(cost)
        except Limited as exc:
            raise ApiError(429, "TOO_MANY_REQUESTS", str(exc), {}) from None
        info["credits"] = cost
        latency = int(self.store.settings["faults"].get("latency_ms") or 0)
        if latency:
            if heavy:
                self.limits.heavy_in_flight += 1
            try:
                await asyncio.sleep(latency / 1000)
            finally:
                if heavy:
                    self.limits.heavy_in_flight -= 1
        return self.store.current_user()

    def check_token(self, request: Request) -> str:
        auth = request.headers.get("authorization", "")
        token = auth[len("Zoho-oauthtoken "):].strip() if auth.startswith("Zoho-oauthtoken ") else ""
        expires = self.store.tokens.get(token)
        if not token or expires is None or expires <= self.store.now():
            raise ApiError(401, "INVALID_TOKEN", "invalid oauth token")
        return token

    def check_scope(self, request: Request) -> None:
        """401 OAUTH_SCOPE_MISMATCH unless the grant covers the route (zoho_server/scopes.py)."""
        self.require_scopes(scopes.required(request.method, request.url.path, self.is_custom_module))

    def require_scopes(self, requirement: scopes.Requirement) -> None:
        if scopes.missing(self.store.settings["granted_scopes"], requirement):
            raise ApiError(401, "OAUTH_SCOPE_MISMATCH", scopes.MISMATCH_MESSAGE, {})

    def is_custom_module(self, name: str) -> bool:
        mod = next((m for a, m in self.store.modules.items() if a.lower() == name.lower()), None)
        return bool(mod and mod.get("generated_type") == "custom")

    def admin(self, request: Request) -> None:
        if not secrets.compare_digest(request.headers.get("x-admin-token", ""), self.creds.admin_token):
            raise ApiError(401, "INVALID_TOKEN", "invalid admin token")

    def module(self, name: str, wrap: str | None = None) -> str:
        if name in self.store.modules:
            return name
        for api in self.store.modules:
            if api.lower() == name.lower():
                return api
        raise ApiError(400, "INVALID_MODULE", "The module name given seems to be invalid", {"resource_path_index": 0}, wrap)

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

    @staticmethod
    def write_status(results: list[dict[str, Any]], ok_status: int) -> int:
        ok = sum(1 for r in results if r["status"] == "success")
        if ok == len(results):
            return ok_status
        return 207 if ok else 400

    def commit(self) -> None:
        self.store.commit()

    # ---- OAuth ---------------------------------------------------------------------------------------
    async def token(self, request: Request) -> Response:
        params = dict(request.query_params)
        if request.headers.get("content-type", "").startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            params.update({k: str(v) for k, v in form.items()})
        if params.get("grant_type") != "refresh_token":
            return jresp({"error": "unsupported_grant_type"})
        if not (secrets.compare_digest(params.get("client_id", ""), self.creds.client_id)
                and secrets.compare_digest(params.get("client_secret", ""), self.creds.client_secret)):
            return jresp({"error": "invalid_client"})
        if not secrets.compare_digest(params.get("refresh_token", ""), self.creds.refresh_token):
            return jresp({"error": "invalid_code"})
        lifetime = int(self.store.settings["token_lifetime"])
        access = "1000." + secrets.token_hex(32)
        self.store.begin()
        self.store.add_token(access, self.store.now() + lifetime)
        self.commit()
        return jresp({"access_token": access, "scope": " ".join(self.store.settings["granted_scopes"]), "api_domain": self.base_url,
                      "token_type": "Bearer", "expires_in": lifetime})

    async def revoke(self, request: Request) -> Response:
        token = request.query_params.get("token", "")
        if token in self.store.tokens:
            self.store.begin()
            self.store.revoke_token(token)
            self.commit()
        return jresp({"status": "success"})

    # ---- org and users -------------------------------------------------------------------------------
    async def org(self, request: Request) -> Response:
        await self.guard(request, "org")
        self.commit()
        s = self.store.settings
        admin = self.store.current_user()
        active = sum(1 for u in self.store.users if u["status"] == "active")
        org = {"id": self.store.kv["org_id"], "company_name": s["company_name"], "alias": None,
               "primary_email": admin["email"], "primary_zuid": admin["zuid"], "zgid": self.store.zgid(),
               "domain_name": "org" + self.store.kv["org_id"][-9:], "type": org_type(s), "currency": "US Dollar",
               "currency_symbol": "$", "iso_code": "USD", "currency_locale": "en_US", "time_zone": "Etc/UTC",
               "country_code": "US", "country": "United States", "mc_status": False, "gapps_enabled": False,
               "privacy_settings": False, "hipaa_compliance_enabled": True, "translation_enabled": False,
               "license_details": {"paid": s["edition"] != "Free", "paid_type": s["edition"].lower(), "paid_expiry": None,
                                   "trial_type": None, "trial_expiry": None, "trial_action": None,
                                   "users_license_purchased": s.get("user_count") or active}}
        return jresp({"org": [org]}, headers=self.credit_headers())

    async def user(self, request: Request) -> Response:
        await self.guard(request, "users.get")
        self.commit()
        user = self.store.users_by_id.get(request.path_params["user_id"])
        if user is None:
            return jresp(None, 204)
        return jresp({"users": [user]}, headers=self.credit_headers())

    def paging(self, request: Request, max_per_page: int = 200) -> tuple[int, int]:
        try:
            page = int(request.query_params.get("page", "1"))
            per_page = int(request.query_params.get("per_page", str(max_per_page)))
        except ValueError:
            raise ApiError(400, "INVALID_DATA", "invalid data", {"param_name": "page"}) from None
        if page < 1 or per_page < 1 or per_page > max_per_page:
            raise ApiError(400, "INVALID_DATA", "invalid data", {"param_name": "per_page", "maximum_length": str(max_per_page)})  # a string, as record.json types it
        return page, per_page

    def credit_headers(self) -> dict[str, str]:
        value = self.limits.header_value()
        return {"X-API-CREDITS-REMAINING": value} if value is not None else {}

    # ---- metadata ---------------------------------------------------------------------------------------
    async def modules(self, request: Request) -> Response:
        await self.guard(request, "modules")
        self.commit()
        return jresp({"modules": list(self.store.modules.values())}, headers=self.credit_headers())

    async def module_get(self, request: Request) -> Response:
        await self.guard(request, "modules.get")
        self.commit()
        key = request.path_params["name"]
        found = next((m for m in self.store.modules.values() if key in (m["api_name"], m["id"])
                      or m["api_name"].lower() == key.lower()), None)
        if found is None:
            # modules.json: RErrorResponse is a bare Invalid_Module, not wrapped in `modules`
            raise ApiError(400, "INVALID_MODULE", "The module name given seems to be invalid", {})
        return jresp({"modules": [{**found, "fields": self.store.fields[found["api_name"]]}]}, headers=self.credit_headers())

    async def module_create(self, request: Request) -> Response:
        await self.guard(request, "modules.create", int(self.store.settings["custom_module_credits"]))
        self.commit()
        body = await self.body_json(request)
        items = body.get("modules") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise ApiError(400, "INVALID_DATA", "invalid data", {"api_name": "modules"})
        out, ok = [], 0
        for item in items:
            try:
                made = metadata.create_module(self.store, item)
                out.append({"code": "SUCCESS", "details": {"id": made["id"]}, "message": "module created",
                            "status": "success"})
                ok += 1
            except metadata.MetadataError as err:
                out.append(err.body())
        return jresp({"modules": out}, 201 if ok == len(out) else (207 if ok else 400), headers=self.credit_headers())

    def module_param(self, request: Request) -> str:
        name = request.query_params.get("module")
        if not name:
            raise ApiError(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", {"param": "module"})
        return self.module(name)

    async def fields(self, request: Request) -> Response:
        await self.guard(request, "fields")
        self.commit()
        module = self.module_param(request)
        return jresp({"fields": self.store.fields[module]}, headers=self.credit_headers())

    async def field_get(self, request: Request) -> Response:
        await self.guard(request, "fields.get")
        self.commit()
        module = self.module_param(request)
        key = request.path_params["field_id"]
        found = next((f for f in self.store.fields[module] if key in (f["id"], f["api_name"])), None)
        if found is None:
            return jresp(None, 204)
        return jresp({"fields": [found]}, headers=self.credit_headers())

    async def field_create(self, request: Request) -> Response:
        await self.guard(request, "fields.create")
        self.commit()
        module = self.module_param(request)
        body = await self.body_json(request)
        items = body.get("fields") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise ApiError(400, "INVALID_DATA", "invalid data", {"api_name": "fields"})
        out, ok = [], 0
        for item in items:
            try:
                made = metadata.create_field(self.store, module, item, self.store.settings["edition"])
                out.append({"code": "SUCCESS", "details": {"id": made["id"]}, "message": "field created",
                            "status": "success"})
                ok += 1
            except metadata.MetadataError as err:
                out.append(err.body())
        return jresp({"fields": out}, 201 if ok == len(out) else (207 if ok else 400), headers=self.credit_headers())

    async def field_update(self, request: Request) -> Response:
        await self.guard(request, "fields.update")
        self.commit()
        module = self.module_param(request)
        body = await self.body_json(request)
        items = body.get("fields") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise ApiError(400, "INVALID_DATA", "invalid data", {"api_name": "fields"})
        out, ok = [], 0
        path_id = request.path_params.get("field_id")
        for item in items:
            fid = path_id or (item.get("id") if isinstance(item, dict) else None) or ""
            try:
                made = metadata.update_field(self.store, module, str(fid), item)
                out.append({"code": "SUCCESS", "details": {"id": made["id"]}, "message": "field updated", "status": "success"})
                ok += 1
            except metadata.MetadataError as err:
                out.append(err.body())
        return jresp({"fields": out}, 200 if ok == len(out) else (207 if ok else 400), headers=self.credit_headers())

    async def field_delete(self, request: Request) -> Response:
        await self.guard(request, "fields.delete")
        self.commit()
        module = self.module_param(request)
        try:
            gone = metadata.delete_field(self.store, module, request.path_params["field_id"])
        except metadata.MetadataError as err:
            return jresp(err.body(), err.status, headers=self.credit_headers())
        return jresp({"fields": [{"code": "SUCCESS", "details": {"id": gone["id"]}, "message": "field deleted",
                                  "status": "success"}]}, headers=self.credit_headers())

    # ---- records ------------------------------------------------------------------------------------
    async def records_insert(self, request: Request) -> Response:
        module = self.module(request.path_params["module"])
        body, data = await self.data_list(request)
        user = await self.guard(request, "records.insert", write_cost(len(data)), module, len(data))
        results = self.records.insert(module, data, user)
        self.commit()
        return jresp({"data": results}, self.write_status(results, 201), headers=self.credit_headers())

    async def records_update(self, request: Request) -> Response:
        module = self.module(request.path_params["module"])
        body, data = await self.data_list(request)
        external = self.external_field(request, module)
        user = await self.guard(request, "records.update", write_cost(len(data)), module, len(data))
        results = self.records.update(module, data, user, external)
        self.commit()
        return jresp({"data": results}, self.write_status(results, 200), headers=self.credit_headers())

    async def record_update(self, request: Request) -> Response:
        module = self.module(request.path_params["module"])
        body, data = await self.data_list(request)
        external = self.external_field(request, module)
        user = await self.guard(request, "records.update", write_cost(len(data)), module, len(data))
        rid = self.resolve_path_id(module, request.path_params["record_id"], external)
        if rid is None:
            raise ApiError(400, "INVALID_DATA", "the id given seems to be invalid", {"id": request.path_params["record_id"]}, "data")
        results = self.records.update(module, data[:1], user, None, path_id=rid)
        self.commit()
        return jresp({"data": results}, self.write_status(results, 200), headers=self.credit_headers())

    async def records_upsert(self, request: Request) -> Response:
        module = self.module(request.path_params["module"])
        body, data = await self.data_list(request)
        external = self.external_field(request, module)
        dup = body.get("duplicate_check_fields")
        if dup is not None and (not isinstance(dup, list) or any(f not in self.store.specs[module] for f in dup)):
            raise ApiError(400, "INVALID_DATA", "invalid data", {"api_name": "duplicate_check_fields"})
        user = await self.guard(request, "records.upsert", write_cost(len(data)), module, len(data))
        results = self.records.upsert(module, data, user, dup, external)
        self.commit()
        inserted = any(r.get("action") == "insert" for r in results if r["status"] == "success")
        return jresp({"data": results}, self.write_status(results, 201 if inserted else 200), headers=self.credit_headers())

    def resolve_path_id(self, module: str, key: str, external: str | None) -> str | None:
        if external:
            return self.records.resolve_external(module, external, key)
        return key if key in self.store.records[module] else None

    async def record_get(self, request: Request) -> Response:
        module = self.module(request.path_params["module"])
        external = self.external_field(request, module)
        await self.guard(request, "records.get", 1, module)
        self.commit()
        rid = self.resolve_path_id(module, request.path_params["record_id"], external)
        if rid is None:
            return jresp(None, 204, headers=self.credit_headers())
        since = record_reads.modified_since(request)
        if since is not None and not record_reads.modified_after(self.store.records[module][rid], since):
            return record_reads.not_modified(self)
        fields = self.fields_param(request, module, required=False)
        return jresp({"data": [self.records.present(module, self.store.records[module][rid], fields)]},
                     headers=self.credit_headers())

    def fields_param(self, request: Request, module: str, required: bool) -> list[str] | None:
        raw = request.query_params.get("fields")
        if not raw:
            if required:
                raise ApiError(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", {"param": "fields"})
            return None
        names = [f.strip() for f in raw.split(",") if f.strip()]
        if len(names) > 50:
            raise ApiError(400, "LIMIT_EXCEEDED", "Max field limit exceeded", {"param": "fields", "limit": 50})
        unknown = [f for f in names if f not in self.store.specs[module] and f != "id"]
        if unknown:
            raise ApiError(400, "INVALID_DATA", "invalid data", {"param_name": "fields", "api_name": unknown[0]})
        return names

    async def records_list(self, request: Request) -> Response:
        module = self.module(request.path_params["module"])
        fields = self.fields_param(request, module, required=True)
        await self.guard(request, "records.list", 1, module)
        self.commit()
        page, per_page = self.paging(request)
        token = request.query_params.get("page_token")
        ids = request.query_params.get("ids")
        rows = list(self.store.records[module].values())
        since = record_reads.modified_since(request)
        if since is not None:  # record_reads.py: only records modified after; 304 when none
            rows = [r for r in rows if record_reads.modified_after(r, since)]
            if not rows:
                return record_reads.not_modified(self)
        if ids:
            wanted = set(ids.split(","))
            rows = [r for r in rows if r["id"] in wanted]
        sort_by = request.query_params.get("sort_by", "id")
        if sort_by not in ("id", "Created_Time", "Modified_Time"):
            raise ApiError(400, "INVALID_DATA", "invalid data", {"param_name": "sort_by"})
        order = request.query_params.get("sort_order", "asc")
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
            return jresp(None, 204, headers=self.credit_headers())
        more = start + per_page < len(rows)
        next_token = base64.urlsafe_b64encode(f"{module}:{start + per_page}".encode()).decode() if more else None
        info = {"per_page": per_page, "count": len(chunk), "page": page, "sort_by": sort_by, "sort_order": order,
                "more_records": more}
        if next_token:
            info["next_page_token"] = next_token
            info["page_token_expiry"] = datetime.fromtimestamp(self.store.now() + 86_400, timezone.utc).replace(microsecond=0).isoformat()
        return jresp({"data": [self.records.present(module, r, fields) for r in chunk], "info": info},
                     headers=self.credit_headers())

    async def records_search(self, request: Request) -> Response:
        module = self.module(request.path_params["module"])
        q = request.query_params
        await self.guard(request, "records.search", 1, module)
        self.commit()
        if q.get("criteria"):
            try:
                pred, names = parse(q["criteria"])
            except CriteriaError as exc:
                raise ApiError(400, "INVALID_QUERY", "invalid query formed", {"reason": str(exc)}) from None
            unknown = [n for n in names if n not in self.store.specs[module] and n != "id"]
            if unknown:
                raise ApiError(400, "INVALID_QUERY", "invalid query formed", {"api_name": unknown[0], "reason": "invalid field"})
        elif q.get("email") or q.get("phone") or q.get("word"):
            specs = self.store.specs[module]
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
        page, per_page = self.paging(request)
        if page * per_page > SEARCH_MAX:
            raise ApiError(400, "LIMIT_EXCEEDED", "Record count exceeded", {"limit": SEARCH_MAX})
        hits = [r for r in self.store.records[module].values() if pred(r)][:SEARCH_MAX]
        chunk = hits[(page - 1) * per_page: page * per_page]
        if not chunk:
            return jresp(None, 204, headers=self.credit_headers())
        fields = self.fields_param(request, module, required=False)
        info = {"per_page": per_page, "count": len(chunk), "page": page, "more_records": page * per_page < len(hits)}
        return jresp({"data": [self.records.present(module, r, fields) for r in chunk], "info": info},
                     headers=self.credit_headers())

    async def records_delete(self, request: Request) -> Response:
        module = self.module(request.path_params["module"])
        ids = [i for i in request.query_params.get("ids", "").split(",") if i]
        if not ids:
            raise ApiError(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", {"param": "ids"})
        if len(ids) > MAX_DELETE_IDS:
            raise ApiError(400, "LIMIT_EXCEEDED", "Record count exceeded", {"limit": MAX_DELETE_IDS, "param": "ids"})
        await self.guard(request, "records.delete", 1, module, len(ids))
        results = self.records.delete(module, ids)
        self.commit()
        return jresp({"data": results}, self.write_status(results, 200), headers=self.credit_headers())

    async def record_delete(self, request: Request) -> Response:
        module = self.module(request.path_params["module"])
        external = self.external_field(request, module)
        await self.guard(request, "records.delete", 1, module, 1)
        key = request.path_params["record_id"]
        rid = self.resolve_path_id(module, key, external) or key
        results = self.records.delete(module, [rid])
        self.commit()
        return jresp({"data": results}, self.write_status(results, 200), headers=self.credit_headers())

    # ---- notes --------------------------------------------------------------------------------------
    async def related_notes(self, request: Request) -> Response:
        module = self.module(request.path_params["module"])
        await self.guard(request, "notes.list", 1, module)
        self.commit()
        rid = request.path_params["record_id"]
        if rid not in self.store.records[module]:
            raise ApiError(400, "INVALID_DATA", "the id given seems to be invalid", {"id": rid})
        notes = [n for n in self.store.records.get("Notes", {}).values() if (n.get("Parent_Id") or {}).get("id") == rid]
        page, per_page = self.paging(request)
        chunk = notes[(page - 1) * per_page: page * per_page]
        if not chunk:
            return jresp(None, 204, headers=self.credit_headers())
        info = {"per_page": per_page, "count": len(chunk), "page": page, "more_records": page * per_page < len(notes)}
        return jresp({"data": [self.records.present("Notes", n) for n in chunk], "info": info}, headers=self.credit_headers())

    async def related_records(self, request: Request) -> Response:
        """GET /{module}/{id}/{related list}: a record's calls, events, tasks or custom-module
        records (Insurance, Communications...) by the lookup or activity link pointing at it."""
        module = self.module(request.path_params["module"])
        child = self.module(request.path_params["related"])
        await self.guard(request, "records.related", 1, child)
        self.commit()
        rid = request.path_params["record_id"]
        if rid not in self.store.records[module]:
            raise ApiError(400, "INVALID_DATA", "the id given seems to be invalid", {"id": rid})
        found = self.records.related(module, rid, child)
        if found is None:
            raise ApiError(400, "INVALID_DATA", "the related list name given seems to be invalid",
                           {"resource_path_index": 2})
        fields = self.fields_param(request, child, required=True)
        page, per_page = self.paging(request)
        chunk = found[(page - 1) * per_page: page * per_page]
        if not chunk:
            return jresp(None, 204, headers=self.credit_headers())
        info = {"per_page": per_page, "count": len(chunk), "page": page, "more_records": page * per_page < len(found)}
        return jresp({"data": [self.records.present(child, r, fields) for r in chunk], "info": info},
                     headers=self.credit_headers())

    async def related_notes_create(self, request: Request) -> Response:
        module = self.module(request.path_params["module"])
        body, data = await self.data_list(request)
        rid = request.path_params["record_id"]
        for item in data:
            if isinstance(item, dict):
                item["Parent_Id"] = {"module": {"api_name": module}, "id": rid}
        user = await self.guard(request, "notes.create", write_cost(len(data)), "Notes", len(data))
        results = self.records.insert("Notes", data, user)
        self.commit()
        return jresp({"data": results}, self.write_status(results, 201), headers=self.credit_headers())

    # ---- attachments ------------------------------------------------------------------------------------
    def attachment_parent(self, request: Request) -> tuple[str, str]:
        module = self.module(request.path_params["module"])
        rid = request.path_params["record_id"]
        if rid not in self.store.records[module]:
            raise ApiError(400, "INVALID_DATA", "the id given seems to be invalid", {"id": rid})  # attachments.json: bare
        return module, rid

    async def attachment_upload(self, request: Request) -> Response:
        module = self.module(request.path_params["module"])
        limit = int(self.store.settings["attachment_max_bytes"])
        declared = int(request.headers.get("content-length") or 0)
        user = await self.guard(request, "attachments.upload", 1, module, 1)
        self.commit()
        module, rid = self.attachment_parent(request)
        too_big = ApiError(413, "FILE_SIZE_MORE_THAN_ALLOWED_SIZE", "file size exceeds the allowed limit",
                           {"allowed_size": limit}, "data")
        if declared > limit + 64 * 1024:
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
        self.store.begin()
        aid = self.store.next_id()
        now = self.store.now_iso()
        who = {"name": user["full_name"], "id": user["id"], "email": user["email"]}
        meta = {"id": aid, "File_Name": name, "Size": str(size), "$se_module": module, "Parent_Id": {"id": rid},
                "Created_Time": now, "Modified_Time": now, "Created_By": who, "Modified_By": who, "Owner": who,
                "$type": "Attachment" if link_url is None else "Link URL", "$link_url": link_url, "$editable": True,
                "$file_id": hashlib.sha256(content).hexdigest() if content is not None else None, "$sharing_permission": "full_access"}
        self.store.conn.execute("INSERT INTO attachments VALUES (?, ?, ?, ?, ?)", (aid, module, rid, json.dumps(meta), content))
        self.commit()
        details = {"Modified_Time": now, "Modified_By": {"name": who["name"], "id": who["id"]}, "Created_Time": now, "id": aid,
                   "Created_By": {"name": who["name"], "id": who["id"]}}
        return jresp({"data": [{"code": "SUCCESS", "details": details, "message": "attachment uploaded successfully",
                                "status": "success"}]}, headers=self.credit_headers())

    def attachment_rows(self, rid: str) -> list[dict[str, Any]]:
        rows = self.store.conn.execute("SELECT meta FROM attachments WHERE record_id = ? ORDER BY id", (rid,)).fetchall()
        out = []
        for (meta,) in rows:
            item = json.loads(meta)
            parent_module = item["$se_module"]
            target = self.store.records.get(parent_module, {}).get(item["Parent_Id"]["id"])
            from .records import record_name
            item["Parent_Id"] = {"name": record_name(self.store, parent_module, target) if target else None, "id": item["Parent_Id"]["id"]}
            out.append(item)
        return out

    async def attachments_list(self, request: Request) -> Response:
        await self.guard(request, "attachments.list", 1)
        self.commit()
        module, rid = self.attachment_parent(request)
        if not request.query_params.get("fields"):  # attachments.json: `fields` is required
            raise ApiError(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing",
                           {"param_name": "fields", "param": "fields"})
        items = self.attachment_rows(rid)
        page, per_page = self.paging(request)
        chunk = items[(page - 1) * per_page: page * per_page]
        if not chunk:
            return jresp(None, 204, headers=self.credit_headers())
        info = {"per_page": per_page, "count": len(chunk), "page": page, "more_records": page * per_page < len(items)}
        return jresp({"data": chunk, "info": info}, headers=self.credit_headers())

    async def attachment_download(self, request: Request) -> Response:
        await self.guard(request, "attachments.download", 1)
        self.commit()
        module, rid = self.attachment_parent(request)
        row = self.store.conn.execute("SELECT meta, content FROM attachments WHERE id = ? AND record_id = ?",
                                      (request.path_params["attachment_id"], rid)).fetchone()
        if row is None:
            return jresp(None, 204)
        meta = json.loads(row[0])
        if row[1] is None:
            raise ApiError(400, "INVALID_DATA", "invalid data", {"reason": "link attachments have no content"}, "data")
        name = meta["File_Name"].replace('"', "")
        return Response(row[1], media_type="application/octet-stream",
                        headers={"Content-Disposition": f'attachment; filename="{name}"', **self.credit_headers()})

    async def attachment_delete(self, request: Request) -> Response:
        await self.guard(request, "attachments.delete", 1)
        module, rid = self.attachment_parent(request)
        aid = request.path_params["attachment_id"]
        cur = self.store.conn.execute("DELETE FROM attachments WHERE id = ? AND record_id = ?", (aid, rid))
        self.commit()
        if cur.rowcount == 0:
            result = {"code": "INVALID_DATA", "details": {"id": aid}, "message": "the id given seems to be invalid", "status": "error"}
            return jresp({"data": [result]}, 400, headers=self.credit_headers())
        return jresp({"data": [{"code": "SUCCESS", "details": {"id": aid}, "message": "record deleted", "status": "success"}]},
                     headers=self.credit_headers())

    # ---- admin ---------------------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for module, recs in self.store.records.items():
            if not recs:  # a module without records holds no data (its existence is schema)
                continue
            data[module] = {rid: {k: v for k, v in rec.items() if k not in TIMESTAMP_FIELDS} for rid, rec in recs.items()}
        attachments = {}
        for aid, module, rid, meta, content in self.store.conn.execute(
                "SELECT id, module, record_id, meta, content FROM attachments ORDER BY id"):
            m = json.loads(meta)
            attachments[aid] = {"module": module, "record_id": rid, "File_Name": m["File_Name"], "Size": m["Size"],
                                "sha256": hashlib.sha256(content).hexdigest() if content is not None else None,
                                "link_url": m.get("$link_url")}
        data["__attachments__"] = attachments
        schema = {api: {"module": {k: mod[k] for k in ("id", "api_name", "singular_label", "plural_label", "generated_type")},
                        "fields": [{k: f.get(k) for k in ("id", "api_name", "field_label", "data_type", "length", "custom_field",
                                                          "system_mandatory", "unique", "external", "lookup", "pick_list_values",
                                                          "subform_fields")}
                                   for f in self.store.fields[api]]}
                  for api, mod in self.store.modules.items()}
        return {"data_hash": canonical_hash(data), "schema_hash": canonical_hash(schema), "data": data, "schema": schema}

    async def admin_snapshot(self, request: Request) -> Response:
        self.admin(request)
        return jresp(self.snapshot())

    async def admin_settings(self, request: Request) -> Response:
        self.admin(request)
        if request.method == "POST":
            body = await self.body_json(request)
            if not isinstance(body, dict):
                raise ApiError(400, "INVALID_DATA", "settings must be a JSON object")
            try:
                merged = merge(self.store.settings, body)
            except (KeyError, ValueError) as exc:
                raise ApiError(400, "INVALID_DATA", str(exc).strip("'\"")) from None
            self.store.settings = merged
            self.store.set_kv("settings", merged)
            self.store.flush_kv()
            if "faults" in body:
                self.limits.reseed()
        return jresp(self.store.settings)

    async def admin_clock(self, request: Request) -> Response:
        self.admin(request)
        body = await self.body_json(request)
        try:
            seconds = float((body or {}).get("advance_seconds", 0))
        except (TypeError, ValueError, AttributeError):
            raise ApiError(400, "INVALID_DATA", "advance_seconds must be a number") from None
        self.store.set_kv("clock_offset", float(self.store.kv.get("clock_offset", 0.0)) + seconds)
        self.store.flush_kv()
        self.store.begin()
        self.store.prune_credits()
        self.commit()
        return jresp({"now": self.store.now_iso(), "offset_seconds": self.store.kv["clock_offset"]})

    async def admin_credits(self, request: Request) -> Response:
        self.admin(request)
        return jresp(self.limits.summary())

    async def admin_calls(self, request: Request) -> Response:
        self.admin(request)
        if request.method == "DELETE":
            self.calls.clear()
            self.call_counts.clear()
        return jresp({"total": sum(self.call_counts.values()), "by_op": self.call_counts, "calls": self.calls[-1000:]})

    async def admin_record(self, request: Request) -> Response:
        """Overwrite stored field values as-is (no validation): for diff and rollback tests."""
        self.admin(request)
        module = self.module(request.path_params["module"])
        rid = request.path_params["record_id"]
        current = self.store.records[module].get(rid)
        if current is None:
            raise ApiError(404, "NOT_FOUND", "no such record", {"id": rid})
        body = await self.body_json(request)
        if not isinstance(body, dict):
            raise ApiError(400, "INVALID_DATA", "body must be an object of field values")
        new = {**current, **{k: v for k, v in body.items() if k != "id"}}
        self.store.begin()
        self.store.put_records(module, [new], {rid: current})
        self.commit()
        return jresp({"data": [self.records.present(module, new)]})

    async def admin_users(self, request: Request) -> Response:
        """Replace the org's users (a users-file list) without a restart."""
        self.admin(request)
        body = await self.body_json(request)
        if not isinstance(body, list) or not body:
            raise ApiError(400, "INVALID_DATA", "body must be a non-empty list of users")
        try:
            users = metadata.load_users_inline(body)
        except (KeyError, TypeError):
            raise ApiError(400, "INVALID_DATA", "each user needs an email") from None
        self.store.begin()
        self.store.save_users(users)
        self.commit()
        return jresp({"users": users})

    async def health(self, request: Request) -> Response:
        return jresp({"status": "ok", "org_id": self.store.kv.get("org_id")})

    def record_call(self, scope: dict[str, Any], status: int, duration: float) -> None:
        info = scope.get("c2z")
        if not info:
            return
        op = info["op"]
        self.call_counts[op] = self.call_counts.get(op, 0) + 1
        self.calls.append({"op": op, "method": scope["method"], "path": scope["path"], "module": info.get("module"),
                           "records": info.get("records", 0), "credits": info.get("credits", 0), "status": status,
                           "ms": round(duration * 1000, 2)})
        if len(self.calls) > 5_000:
            del self.calls[:1_000]


def _endpoint(fn: Callable[[Request], Awaitable[Response]], server: ZohoServer | None = None) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        try:
            if server is not None:
                server.check_token(request)  # 401 comes before any other answer, as on Zoho
                server.check_scope(request)
            return await fn(request)
        except ApiError as err:
            return err.response()
    return run


class FaultsAndConcurrency:
    """ASGI middleware: concurrency per org, injected drops and late 5xx, the call log."""

    def __init__(self, app: Any, server: ZohoServer) -> None:
        self.app, self.server = app, server

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/crm/"):
            await self.app(scope, receive, send)
            return
        server = self.server
        limits = server.limits
        if limits.in_flight >= limits.concurrency():
            await ApiError(429, "TOO_MANY_REQUESTS", "concurrency limit exceeded").response()(scope, receive, send)
            return
        limits.in_flight += 1
        started = time.perf_counter()
        status_box = {"status": 0}
        is_write = scope["method"] in ("POST", "PUT", "DELETE", "PATCH")
        late_5xx = is_write and limits.roll("error_5xx_after_write_rate")
        drop = limits.roll("drop_rate")
        held: list[dict[str, Any]] = []

        async def wrapped_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status_box["status"] = message["status"]
            if late_5xx and status_box["status"] < 400:
                held.append(message)
                return
            if drop and message["type"] == "http.response.body":
                body = message.get("body", b"")
                await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
                raise ConnectionAbortedError("injected dropped connection")
            await send(message)

        try:
            await self.app(scope, receive, wrapped_send)
            if late_5xx and held:
                status_box["status"] = 500
                await ApiError(500, "INTERNAL_ERROR", "Internal server error occurred.").response()(scope, receive, send)
        finally:
            limits.in_flight -= 1
            server.record_call(scope, status_box["status"], time.perf_counter() - started)


def build_app(server: ZohoServer) -> Any:
    s = server
    u = UsersApi(s)

    def e(fn: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        return _endpoint(fn, server if fn.__name__ not in NO_TOKEN else None)

    def bound(handler: Callable[[ZohoServer, Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        return functools.wraps(handler)(functools.partial(handler, s))
    routes = [
        Route("/__health", e(s.health)),
        Route("/oauth/v2/token", e(s.token), methods=["POST"]),
        Route("/oauth/v2/token/revoke", e(s.revoke), methods=["POST"]),
        Route("/__admin/snapshot", e(s.admin_snapshot)),
        Route("/__admin/settings", e(s.admin_settings), methods=["GET", "POST"]),
        Route("/__admin/clock", e(s.admin_clock), methods=["POST"]),
        Route("/__admin/credits", e(s.admin_credits)),
        Route("/__admin/calls", e(s.admin_calls), methods=["GET", "DELETE"]),
        Route("/__admin/users", e(s.admin_users), methods=["POST"]),
        Route("/__admin/users/{user_id}/accept", _endpoint(u.admin_accept), methods=["POST"]),
        Route("/__admin/records/{module}/{record_id}", e(s.admin_record), methods=["POST"]),
        Route("/crm/v8/org", e(s.org)),
        Route("/crm/v8/users", e(u.list)),
        Route("/crm/v8/users", e(u.create), methods=["POST"]),
        Route("/crm/v8/users/{user_id}", e(s.user)),
        Route("/crm/v8/settings/roles", e(u.roles)),
        Route("/crm/v8/settings/modules", e(s.modules)),
        Route("/crm/v8/settings/modules", e(s.module_create), methods=["POST"]),
        Route("/crm/v8/settings/modules/{name}", e(s.module_get)),
        Route("/crm/v8/settings/fields", e(s.fields)),
        Route("/crm/v8/settings/fields", e(s.field_create), methods=["POST"]),
        Route("/crm/v8/settings/fields", e(s.field_update), methods=["PATCH"]),
        Route("/crm/v8/settings/fields/{field_id}", e(s.field_get)),
        Route("/crm/v8/settings/fields/{field_id}", e(s.field_update), methods=["PATCH"]),
        Route("/crm/v8/settings/fields/{field_id}", e(s.field_delete), methods=["DELETE"]),
        Route("/crm/v8/settings/layouts", e(bound(layouts.layouts_list))),
        Route("/crm/v8/settings/layouts/{layout_id}", e(bound(layouts.layout_get))),
        Route("/crm/v8/settings/profiles", e(bound(profiles.profiles_list))),
        Route("/crm/v8/settings/profiles/{profile_id}", e(bound(profiles.profile_get))),
        Route("/crm/v8/settings/related_lists", e(bound(related_lists.related_lists))),
        Route("/crm/v8/coql", e(bound(query_api.coql_endpoint)), methods=["POST"]),
        Route("/crm/v8/upload", e(s.bulk.upload), methods=["POST"]),
        Route("/crm/bulk/v8/write", e(s.bulk.create_job), methods=["POST"]),
        Route("/crm/bulk/v8/write/{job_id}", e(s.bulk.job_status)),
        Route("/crm/v8/bulk-write/{job_id}/{file_name}", e(s.bulk.download)),
        Route("/crm/v8/{module}/search", e(s.records_search)),
        Route("/crm/v8/{module}/actions/count", e(bound(record_reads.record_count))),
        Route("/crm/v8/{module}/deleted", e(bound(record_reads.deleted_records))),
        Route("/crm/v8/{module}/upsert", e(s.records_upsert), methods=["POST"]),
        Route("/crm/v8/{module}/{record_id}/Notes", e(s.related_notes)),
        Route("/crm/v8/{module}/{record_id}/Notes", e(s.related_notes_create), methods=["POST"]),
        Route("/crm/v8/{module}/{record_id}/Attachments", e(s.attachments_list)),
        Route("/crm/v8/{module}/{record_id}/Attachments", e(s.attachment_upload), methods=["POST"]),
        Route("/crm/v8/{module}/{record_id}/Attachments/{attachment_id}", e(s.attachment_download)),
        Route("/crm/v8/{module}/{record_id}/Attachments/{attachment_id}", e(s.attachment_delete), methods=["DELETE"]),
        Route("/crm/v8/{module}/{record_id}/{related}", e(s.related_records)),
        Route("/crm/v8/{module}/{record_id}", e(s.record_get)),
        Route("/crm/v8/{module}/{record_id}", e(s.record_update), methods=["PUT"]),
        Route("/crm/v8/{module}/{record_id}", e(s.record_delete), methods=["DELETE"]),
        Route("/crm/v8/{module}", e(s.records_list)),
        Route("/crm/v8/{module}", e(s.records_insert), methods=["POST"]),
        Route("/crm/v8/{module}", e(s.records_update), methods=["PUT"]),
        Route("/crm/v8/{module}", e(s.records_delete), methods=["DELETE"]),
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
