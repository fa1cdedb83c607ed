"""Bulk Write: zip upload (one CSV), job creation with field mappings and find_by, asynchronous
processing ADDED → IN PROGRESS → COMPLETED | FAILED in committed chunks (a restart resumes where
it stopped), and the result zip with STATUS, RECORD_ID and ERRORS per row."""

from __future__ import annotations

import asyncio
import csv
import io
import zipfile
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from . import scopes
from .http import ApiError, jresp
from .limits import BULK_JOB_COST
from .schema import BULK_REFUSED

if TYPE_CHECKING:
    from .app import ZohoServer

OPERATIONS = ("insert", "update", "upsert")
STATUS_WORD = {"insert": "ADDED", "update": "UPDATED"}


def _error(status: int, code: str, message: str, details: dict[str, Any] | None = None):
    return ApiError(status, code, message, details or {})


def read_csv_member(content: bytes) -> tuple[str, list[str], list[list[str]]]:
    """The single CSV of an uploaded zip: (name, header, rows). Raises ValueError naming the fault."""
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        members = [m for m in zf.infolist() if not m.is_dir()]
        if len(members) != 1 or not members[0].filename.lower().endswith(".csv"):
            raise ValueError("the zip must hold exactly one CSV file")
        raw = zf.read(members[0])
        name = members[0].filename
    text = raw.decode("utf-8-sig")
    sample = text[:4096].splitlines()[0] if text else ""
    delimiter = max(",;:|", key=sample.count) if sample else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if not header:
        raise ValueError("the CSV file is empty")
    return name, header, [row for row in reader if row]


class BulkWrite:
    def __init__(self, server: "ZohoServer") -> None:
        self.server = server
        self.store = server.store
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self._plans: dict[str, Any] = {}

    # ---- upload -------------------------------------------------------------------------------------
    async def upload(self, request: Request) -> Response:
        await self.server.guard(request, "bulk.upload", 1)
        self.server.commit()
        if request.headers.get("feature") != "bulk-write":
            raise _error(400, "INVALID_DATA", "check if headers [feature, X-CRM-ORG] are present and valid", {"api_name": "feature"})
        if request.headers.get("x-crm-org") != self.store.zgid():  # Zoho wants the zgid, not the org id
            raise _error(400, "INVALID_DATA", "check if headers [feature, X-CRM-ORG] are present and valid", {"api_name": "X-CRM-ORG"})
        limit = int(self.store.settings["bulk_max_bytes"])
        if int(request.headers.get("content-length") or 0) > limit + 64 * 1024:
            raise _error(413, "FILE_TOO_LARGE", "File size too large to process", {"allowed_size": limit})
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise _error(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", {"param": "file"})
        content = await upload.read()
        if len(content) > limit:
            raise _error(413, "FILE_TOO_LARGE", "File size too large to process", {"allowed_size": limit})
        if not zipfile.is_zipfile(io.BytesIO(content)):
            raise _error(400, "INVALID_FILE_FORMAT", "invalid file format. only zip format is supported", {})
        try:
            _, header, rows = read_csv_member(content)
        except (ValueError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
            raise _error(400, "INVALID_FILE_FORMAT", "File not supported for bulk write", {"reason": str(exc)}) from None
        if len(header) > int(self.store.settings["bulk_max_columns"]):
            raise _error(400, "LIMIT_EXCEEDED", "column count exceeded", {"limit": self.store.settings["bulk_max_columns"]})
        if len(rows) > int(self.store.settings["bulk_max_rows"]):
            raise _error(400, "LIMIT_EXCEEDED", "Record count exceeded", {"limit": self.store.settings["bulk_max_rows"]})
        self.store.begin()
        file_id = self.store.next_id()
        self.store.conn.execute("INSERT INTO uploads VALUES (?, ?, ?, ?)", (file_id, self.store.now(), upload.filename, content))
        self.server.commit()
        return jresp({"status": "success", "code": "FILE_UPLOAD_SUCCESS", "message": "file uploaded.",
                      "details": {"file_id": file_id, "created_time": self.store.now_iso()}},
                     headers=self.server.credit_headers())

    # ---- job creation ---------------------------------------------------------------------------------
    async def create_job(self, request: Request) -> Response:
        body = await self.server.body_json(request)
        job = self.validate_job(body)
        module = job["resource"][0]["module"]["api_name"]
        # create-job page: ZohoCRM.bulk.CREATE/ALL (checked on the path) and the module's CREATE
        self.server.require_scopes([scopes.module_scope(module, "CREATE", self.server.is_custom_module)])
        user = await self.server.guard(request, "bulk.create", BULK_JOB_COST, job["resource"][0]["module"]["api_name"])
        self.store.begin()
        job["id"] = self.store.next_id()
        job["created_by"] = {"id": user["id"], "name": user["full_name"]}
        job["created_time"] = self.store.now_iso()
        self.store.save_job(job)
        self.server.commit()
        self.start(job["id"])
        return jresp({"status": "success", "code": "SUCCESS", "message": "success",
                      "details": {"id": job["id"], "created_by": job["created_by"]}}, 201, headers=self.server.credit_headers())

    def validate_job(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise _error(400, "INVALID_DATA", "invalid data", {"reason": "body must be a JSON object"})
        operation = body.get("operation")
        if operation not in OPERATIONS:
            raise _error(400, "MISSING_REQUIRED_KEY" if operation is None else "INVALID_DATA", "required key operation is not found in request body." if operation is None else "invalid data", {"api_name": "operation"})
        resources = body.get("resource")
        if not isinstance(resources, list) or len(resources) != 1 or not isinstance(resources[0], dict):
            raise _error(400, "INVALID_DATA", "invalid data", {"api_name": "resource", "reason": "one data resource is supported"})
        res = resources[0]
        if res.get("type", "data") != "data":
            raise _error(400, "INVALID_DATA", "invalid data", {"api_name": "type"})
        mod_name = (res.get("module") or {}).get("api_name") if isinstance(res.get("module"), dict) else res.get("module")
        if not isinstance(mod_name, str):
            raise _error(400, "MANDATORY_NOT_FOUND", "required field not found", {"api_name": "module"})
        module = self.server.module(mod_name)
        if module in BULK_REFUSED:
            raise _error(400, "MODULE_NOT_AVAILABLE", f"Requested module '{module}' is not available.", {"api_name": "module", "module": module})
        file_id = str(res.get("file_id") or "")
        row = self.store.conn.execute("SELECT content FROM uploads WHERE file_id = ?", (file_id,)).fetchone()
        if row is None:
            raise _error(400, "INVALID_FILE_ID", "improper file id", {"api_name": "file_id"})
        _, header, _ = read_csv_member(row[0])
        specs = self.store.specs[module]
        find_by = res.get("find_by")
        if operation in ("update", "upsert"):
            if not find_by:
                raise _error(400, "MANDATORY_NOT_FOUND", "required field not found", {"api_name": "find_by"})
            if find_by != "id" and (find_by not in specs or not (specs[find_by].unique or specs[find_by].external)):
                raise _error(400, "INVALID_DATA", "invalid data", {"api_name": "find_by", "reason": "find_by must be id or a unique field"})
        mappings = res.get("field_mappings")
        if mappings is None:
            mappings = [{"api_name": h, "index": i} for i, h in enumerate(header)]
        if not isinstance(mappings, list) or not mappings:
            raise _error(400, "INVALID_DATA", "invalid data", {"api_name": "field_mappings"})
        for m in mappings:
            if not isinstance(m, dict) or not isinstance(m.get("api_name"), str):
                raise _error(400, "INVALID_DATA", "invalid data", {"api_name": "field_mappings"})
            name = m["api_name"]
            if name != "id" and name not in specs:
                raise _error(400, "INVALID_FIELD", f"invalid mapping. invalid api_name {name}.", {"api_name": name})
            if "index" in m and (not isinstance(m["index"], int) or not 0 <= m["index"] < len(header)):
                raise _error(400, "COLUMN_INDEX_NOT_FOUND", "invalid data", {"api_name": name, "index": m["index"]})
            if "index" not in m and "default_value" not in m:
                raise _error(400, "MANDATORY_NOT_FOUND", "required field not found", {"api_name": name, "reason": "index"})
            lookup_by = m.get("find_by")
            spec = specs.get(name)
            if lookup_by and spec is not None and spec.data_type == "lookup" and lookup_by != "id":
                target = self.store.specs.get(spec.lookup_module or "", {}).get(lookup_by)
                if target is None or not (target.unique or target.external):
                    raise _error(400, "INVALID_DATA", "invalid data", {"api_name": name, "reason": "find_by must be id or a unique field of the lookup module"})
        return {
            "operation": operation, "status": "ADDED", "character_encoding": "UTF-8", "ignore_empty": bool(body.get("ignore_empty", False)),
            "callback": body.get("callback"), "result": None,
            # `ignore_empty` may sit on the job or on the resource (bulk_write.json has both; the
            # official SDK sets the resource's): the resource's, when given, decides for its rows.
            "resource": [{"status": "ADDED", "type": "data", "module": {"api_name": module, "id": self.store.modules[module]["id"]},
                          "field_mappings": mappings, "find_by": find_by, "file_id": file_id,
                          "ignore_empty": res["ignore_empty"] if isinstance(res.get("ignore_empty"), bool) else None,
                          "file": {"status": "ADDED", "name": f"{module}.csv", "added_count": 0, "skipped_count": 0,
                                   "updated_count": 0, "total_count": 0}}],
            "_progress": 0,
        }

    # ---- status and download -------------------------------------------------------------------------
    def public(self, job: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in job.items() if not k.startswith("_") and v is not None}
        out["resource"] = [{k: v for k, v in r.items() if k != "file_id" and not (k == "ignore_empty" and v is None)}
                           for r in job["resource"]]
        return out

    async def job_status(self, request: Request) -> Response:
        await self.server.guard(request, "bulk.status", 1)
        self.server.commit()
        job = self.store.jobs.get(request.path_params["job_id"])
        if job is None:
            raise _error(400, "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one", {})
        return jresp(self.public(job), headers=self.server.credit_headers())

    async def download(self, request: Request) -> Response:
        await self.server.guard(request, "bulk.download", 1)
        self.server.commit()
        row = self.store.conn.execute("SELECT content FROM results WHERE job_id = ?", (request.path_params["job_id"],)).fetchone()
        if row is None:
            raise _error(400, "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one", {})
        return Response(row[0], media_type="application/zip",
                        headers={"Content-Disposition": f'attachment; filename="{request.path_params["job_id"]}.zip"'})

    # ---- processing ---------------------------------------------------------------------------------------
    def start(self, job_id: str) -> None:
        self.tasks[job_id] = asyncio.get_running_loop().create_task(self.run(job_id))

    def resume(self) -> None:
        for job in list(self.store.jobs.values()):
            if job["status"] in ("ADDED", "IN PROGRESS"):
                self.start(job["id"])

    async def shutdown(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)

    def _set_status(self, job: dict[str, Any], status: str) -> None:
        job["status"] = status
        for res in job["resource"]:
            res["status"] = status
            res["file"]["status"] = status

    async def run(self, job_id: str) -> None:
        job = self.store.jobs[job_id]
        limits = self.server.limits
        if job["status"] == "ADDED":
            await asyncio.sleep(float(self.store.settings["bulk_start_delay"]))
            self.store.begin()
            if limits.roll("bulk_fail_rate"):
                self._set_status(job, "FAILED")
                self.store.save_job(job)
                self.server.commit()
                return
            self._set_status(job, "IN PROGRESS")
            self.store.save_job(job)
            self.server.commit()
        res = job["resource"][0]
        module = res["module"]["api_name"]
        content = self.store.conn.execute("SELECT content FROM uploads WHERE file_id = ?", (res["file_id"],)).fetchone()[0]
        _, header, rows = read_csv_member(content)
        res["file"]["total_count"] = len(rows)
        chunk = int(self.store.settings["bulk_chunk_rows"])
        user = self.store.current_user()
        while job["_progress"] < len(rows):
            start = job["_progress"]
            self.store.begin()
            out_rows = []
            for n in range(start, min(start + chunk, len(rows))):
                status, rid, errors = self.write_row(job, module, header, rows[n], user)
                out_rows.append((job_id, n, status, rid, errors))
                key = {"ADDED": "added_count", "UPDATED": "updated_count"}.get(status, "skipped_count")
                res["file"][key] += 1
            self.store.conn.executemany("INSERT OR REPLACE INTO job_rows VALUES (?, ?, ?, ?, ?)", out_rows)
            job["_progress"] = start + len(out_rows)
            self.store.save_job(job)
            self.server.commit()
            await asyncio.sleep(0)
        self.finish(job, header, rows)

    def finish(self, job: dict[str, Any], header: list[str], rows: list[list[str]]) -> None:
        res = job["resource"][0]
        mapped = sorted({m["index"] for m in res["field_mappings"] if "index" in m})[:3]
        results = {n: (s, r, e) for n, s, r, e in self.store.conn.execute(
            "SELECT row_no, status, record_id, errors FROM job_rows WHERE job_id = ?", (job["id"],))}
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow([header[i] for i in mapped] + ["STATUS", "RECORD_ID", "ERRORS"])
        for n, row in enumerate(rows):
            status, rid, errors = results.get(n, ("UNPROCESSED", "", ""))
            writer.writerow([row[i] if i < len(row) else "" for i in mapped] + [status, rid or "", errors or ""])
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(f"{res['module']['api_name']}-bulkwrite.csv", text.getvalue())
        self.store.begin()
        self.store.conn.execute("INSERT OR REPLACE INTO results VALUES (?, ?)", (job["id"], buf.getvalue()))
        self._set_status(job, "COMPLETED")
        job["result"] = {"download_url": f"{self.server.base_url}/crm/v8/bulk-write/{job['id']}/{job['id']}.zip"}
        self.store.save_job(job)
        self.server.commit()

    def plan(self, job: dict[str, Any], module: str, header: list[str]) -> list[tuple[str, int | None, str, str, Any]]:
        """Per mapping: (api_name, csv index, kind, find_by, default) — worked out once per job."""
        specs = self.store.specs[module]
        out = []
        for m in job["resource"][0]["field_mappings"]:
            spec = specs.get(m["api_name"])
            kind = "plain"
            if spec is not None and spec.data_type == "lookup":
                kind = "lookup"
            elif spec is not None and spec.data_type in ("ownerlookup", "userlookup"):
                kind = "user"
            elif spec is not None and spec.data_type == "multiselectpicklist":
                kind = "multi"
            default = m.get("default_value")
            if isinstance(default, dict):
                default = default.get("value", "")
            out.append((m["api_name"], m.get("index"), kind, m.get("find_by", "id"), default))
        return out

    def write_row(self, job: dict[str, Any], module: str, header: list[str], row: list[str],
                  user: dict[str, Any]) -> tuple[str, str, str]:
        """One CSV row through the same checks as the record API; returns (STATUS, RECORD_ID, ERRORS)."""
        res = job["resource"][0]
        cache = self._plans.get(job["id"])
        if cache is None:
            plan = self.plan(job, module, header)
            column = {name: header[idx] if idx is not None else name for name, idx, _, _, _ in plan}
            cache = self._plans[job["id"]] = (plan, column)
        plan, column = cache
        records = self.server.records
        ignore_empty = res["ignore_empty"] if isinstance(res.get("ignore_empty"), bool) else job["ignore_empty"]
        record: dict[str, Any] = {}
        for name, idx, kind, by, default in plan:
            value = row[idx] if idx is not None and idx < len(row) else ""
            if value == "" and default is not None:
                value = default
            if value == "":
                if not ignore_empty:
                    record[name] = None
                continue
            if kind == "lookup":
                if by != "id":
                    found = records.resolve_external(self.store.specs[module][name].lookup_module or "", by, value)
                    if found is None:
                        return "SKIPPED", "", f"INVALID_DATA-{column[name]}"
                    value = found
                record[name] = {"id": value}
            elif kind == "user":
                if by == "email":
                    value = next((u["id"] for u in self.store.users if u["email"].lower() == value.lower()), value)
                record[name] = {"id": value}
            elif kind == "multi":
                record[name] = value.split(";")
            else:
                record[name] = value
        op = job["operation"]
        find_by = res.get("find_by")
        match = None
        if op in ("update", "upsert"):
            key = record.get(find_by) if find_by != "id" else record.get("id")
            key = key.get("id") if isinstance(key, dict) else key
            if key not in (None, ""):
                match = key if find_by == "id" and key in self.store.records[module] else (
                    records.resolve_external(module, find_by, key) if find_by != "id" else None)
            if op == "update" and match is None:
                return "SKIPPED", "", f"RESOURCE_NOT_FOUND-{column.get(find_by, find_by)}"
        if match is not None:
            result = records.update_one(module, match, record, 0, user)
        else:
            record.pop("id", None)
            result = records.insert_one(module, record, 0, user)
        if result["status"] == "success":
            return STATUS_WORD[result["action"]], result["details"]["id"], ""
        api_name = result.get("details", {}).get("api_name", "")
        code = result["code"] if result["code"] != "INTERNAL_ERROR" else "CANNOT_PROCESS"
        return "SKIPPED", "", f"{code}-{column.get(api_name, api_name)}"
