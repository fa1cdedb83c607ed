"""The Zoho CRM v8 client the loader, mapping and reports call (interface in docs/architecture.md).

It knows three base URLs and nothing else about the server behind them. Thread-safe: one
client may be shared by the threads of a load; the OAuth token, the throttle and the HTTP
connection pool are shared.

Writes that may have landed are never resent blindly: an insert whose answer was lost is read
back by the caller's key (an external-id field through X-EXTERNAL, or a unique field through
search) and only the records not found are sent again."""

from __future__ import annotations

import logging
import mimetypes
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

import httpx

from clinic2zoho.zoho import existing
from clinic2zoho.zoho.auth import TokenSource
from clinic2zoho.zoho.bulk_files import read_result_zip, write_bulk_zips
from clinic2zoho.zoho.config import ZohoConfig
from clinic2zoho.zoho.facts import (BULK_JOB_CREDITS, BULK_REFUSED, CUSTOM_MODULE_CREDITS, FIELDS_PER_LIST, IDS_PER_DELETE,
                                    PER_PAGE, RECORDS_PER_CALL, SEARCH_REACH, write_credits)
from clinic2zoho.zoho.errors import (
    ZohoAuthError,
    ZohoBulkJobTimeout,
    ZohoTerminalError,
    ZohoTransientError,
)
from clinic2zoho.zoho.models import (
    BulkJobPart,
    BulkJobResult,
    BulkJobStatus,
    BulkRowResult,
    CallEvent,
    RecordResult,
)
from clinic2zoho.zoho.throttle import Throttle
from clinic2zoho.zoho.transport import Call, Transport

log = logging.getLogger(__name__)

API = "/crm/v8"
BULK_API = "/crm/bulk/v8"


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _landed_meanwhile(result: RecordResult, key_field: str) -> RecordResult:
    """A resent record refused as DUPLICATE_DATA on its own key did land on the earlier,
    unanswered try (read back too early to see it): report that record, not an error."""
    duplicate = result.details.get("duplicate_record") or {}
    if result.code == "DUPLICATE_DATA" and result.api_name == key_field and duplicate.get("id"):
        record_id = str(duplicate["id"])
        return RecordResult(result.index, True, "SUCCESS", id=record_id, action="insert",
                            message="landed on an earlier unanswered try", details={"id": record_id, "read_back": True})
    return result


class _QueryFilter(logging.Filter):
    """httpx logs every request URL at INFO; search criteria in a query string may hold
    patient data, so the query is cut from those lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(
                str(a).split("?", 1)[0] if isinstance(a, (str, httpx.URL)) and "?" in str(a) else a
                for a in record.args
            )
        return True


logging.getLogger("httpx").addFilter(_QueryFilter())


class ZohoClient:
    def __init__(
        self,
        config: ZohoConfig,
        on_call: Callable[[CallEvent], None] | None = None,
        *,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self._on_call = on_call
        self._sleep = sleep
        self._owns_http = http is None
        self._http = http or httpx.Client(
            timeout=httpx.Timeout(config.timeout),
            limits=httpx.Limits(max_connections=config.concurrency + 2, max_keepalive_connections=config.concurrency),
        )
        self._stats_lock = threading.Lock()
        self.stats: Counter[str] = Counter()  # calls per outcome, plus "credits"
        self.throttle = Throttle(config.concurrency, config.per_minute_credits, sleep=sleep)
        self._tokens = TokenSource(config, self._http, self._emit)
        self._transport = Transport(config, self._http, self._tokens, self.throttle, self._emit, sleep=sleep)
        self._org: dict[str, Any] | None = None

    def __repr__(self) -> str:
        return f"ZohoClient(api={self.config.api_base!r}, edition={self.config.edition!r})"

    # -- lifecycle and bookkeeping ------------------------------------------------------------
    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> ZohoClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _emit(self, event: CallEvent) -> None:
        with self._stats_lock:
            self.stats[event.outcome] += 1
            self.stats["credits"] += event.credits
        if self._on_call is not None:
            try:
                self._on_call(event)
            except Exception:  # an audit hook must not turn a landed write into an unknown outcome
                log.exception("on_call callback failed for %s %s", event.method, event.path)

    @property
    def credits_remaining(self) -> int | None:
        """Daily credits left, as Zoho's last X-API-CREDITS-REMAINING said (None if never sent)."""
        return self.throttle.credits_remaining

    @property
    def token_refreshes(self) -> int:
        return self._tokens.refresh_count

    @property
    def granted_scopes(self) -> tuple[str, ...] | None:
        """The scopes the last token answer named (None before a token, or if Zoho named none)."""
        return self._tokens.granted_scopes

    def check_credentials(self) -> None:
        """Fetch an access token now (raises ZohoAuthError on bad credentials)."""
        self._tokens.token()

    def _json(self, call: Call) -> Any:
        response = self._transport.send(call)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ZohoTerminalError(
                "answer is not JSON", method=call.method, path=call.label, status=response.status_code
            ) from None

    # -- org, users, metadata -----------------------------------------------------------------
    def org(self) -> dict[str, Any]:
        body = self._json(Call("GET", f"{API}/org", f"{API}/org")) or {}
        orgs = body.get("org") or []
        if not orgs:
            raise ZohoTerminalError("answer holds no org", method="GET", path=f"{API}/org")
        return orgs[0]

    def current_org(self) -> dict[str, Any]:
        """GET /org, read once: the org these credentials reach does not change."""
        if self._org is None:
            self._org = self.org()
        return self._org

    def org_id(self) -> str:
        """The org's zgid, sent as X-CRM-ORG on bulk uploads and journaled with each run (cached)."""
        org = self.current_org()
        return str(org.get("zgid") or org.get("id"))

    def users(self, type: str = "ActiveUsers") -> list[dict[str, Any]]:
        users: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self._json(
                Call("GET", f"{API}/users", f"{API}/users", params={"type": type, "page": page, "per_page": PER_PAGE},
                     not_found_ok=True)
            ) or {}
            users.extend(body.get("users") or [])
            if not (body.get("info") or {}).get("more_records"):
                return users
            page += 1

    def roles(self) -> list[dict[str, Any]]:
        """GET /settings/roles (roles.json): the roles a new user may be given."""
        return (self._json(Call("GET", f"{API}/settings/roles", f"{API}/settings/roles")) or {}).get("roles") or []

    def profiles(self) -> list[dict[str, Any]]:
        """GET /settings/profiles (profiles.json): the profiles a new user may be given."""
        return (self._json(Call("GET", f"{API}/settings/profiles", f"{API}/settings/profiles")) or {}).get("profiles") or []

    def add_user(self, user: dict[str, Any]) -> RecordResult:
        """POST /users with one user (add-user.html: first_name, last_name, email, role id, profile id);
        Zoho sends the invitation. An unanswered call is read back by e-mail before it is sent again."""
        email = str(user.get("email") or "").lower()

        def find() -> dict[str, Any] | None:
            return next((u for u in self.users(type="AllUsers") if str(u.get("email") or "").lower() == email), None)

        call = Call("POST", f"{API}/users", f"{API}/users", json={"users": [user]}, idempotent=False)
        try:
            body = self._create_once(call, find)
        except ZohoTerminalError as exc:
            return RecordResult(0, False, exc.code or f"HTTP_{exc.status}", message=exc.message, details=exc.details)
        if body is None:  # landed on an unanswered try
            found = find() or {}
            return RecordResult(0, True, "SUCCESS", id=str(found.get("id")), action="insert", details={"read_back": True})
        return RecordResult.from_zoho(0, (body.get("users") or [{}])[0])

    def probe(self, method: str, path: str, *, host: str = "api", params: dict[str, Any] | None = None,
              json: Any = None, headers: dict[str, str] | None = None,
              files: Callable[[], dict[str, Any]] | None = None) -> int:
        """One call whose answer matters only as "let through or not" (the doctor's scope probes):
        the HTTP status of any answer but 401, which raises ZohoAuthError (code OAUTH_SCOPE_MISMATCH
        when the grant lacks the call's scope)."""
        call = Call(method, path, path.split("?", 1)[0], host=host, params=params, json=json, headers=headers or {},
                    files=files)
        try:
            return self._transport.send(call).status_code
        except ZohoAuthError:
            raise
        except ZohoTerminalError as exc:
            return exc.status or 400

    def modules(self) -> list[dict[str, Any]]:
        body = self._json(Call("GET", f"{API}/settings/modules", f"{API}/settings/modules")) or {}
        return body.get("modules") or []

    def fields(self, module: str) -> list[dict[str, Any]]:
        body = self._json(
            Call("GET", f"{API}/settings/fields", f"{API}/settings/fields", module=module, params={"module": module},
                 not_found_ok=True)
        ) or {}
        return body.get("fields") or []

    def field(self, module: str, api_name: str) -> dict[str, Any] | None:
        return next((f for f in self.fields(module) if f.get("api_name") == api_name), None)

    def create_module(
        self, singular_label: str, plural_label: str, api_name: str | None = None, profiles: list[dict] | None = None
    ) -> dict[str, Any]:
        """Create a custom module and return it as GET /settings/modules lists it. Zoho's v8
        "Create Custom Module" makes `profiles` mandatory: without `profiles`, every profile of
        the org gets the module (the providers who own its records must see them)."""
        spec: dict[str, Any] = {"singular_label": singular_label, "plural_label": plural_label}
        if api_name:
            spec["api_name"] = api_name
        if profiles is None:
            profiles = [{"id": str(p["id"])} for p in self.profiles() if p.get("id")]
        spec["profiles"] = profiles

        def find() -> dict[str, Any] | None:
            for m in self.modules():
                if (api_name and m.get("api_name") == api_name) or (
                    not api_name and m.get("plural_label") == plural_label
                ):
                    return m
            return None

        call = Call("POST", f"{API}/settings/modules", f"{API}/settings/modules", json={"modules": [spec]},
                    credits=CUSTOM_MODULE_CREDITS, idempotent=False, per_record=True)
        body = self._create_once(call, find)
        if isinstance(body, dict):
            self._raise_item_error(call, (body.get("modules") or [{}])[0])
        found = find()
        if found is None:
            raise ZohoTerminalError("module created but not listed", method="POST", path=call.label)
        return found

    def create_field(self, module: str, field_spec: dict[str, Any]) -> dict[str, Any]:
        """Create a custom field from Zoho's field JSON; return the field with its api_name
        (Zoho's create answer holds only the id, so the field is read back)."""
        label = field_spec.get("field_label")

        def find(field_id: str | None = None) -> dict[str, Any] | None:
            for f in self.fields(module):
                if (field_id and str(f.get("id")) == field_id) or (not field_id and label and f.get("field_label") == label):
                    return f
            return None

        call = Call("POST", f"{API}/settings/fields", f"{API}/settings/fields", module=module,
                    params={"module": module}, json={"fields": [field_spec]}, idempotent=False, per_record=True)
        body = self._create_once(call, find)
        field_id = None
        if isinstance(body, dict):
            item = (body.get("fields") or [{}])[0]
            self._raise_item_error(call, item)
            field_id = str((item.get("details") or {}).get("id") or "") or None
        found = find(field_id)
        if found is None:
            raise ZohoTerminalError("field created but not listed", method="POST", path=call.label)
        return found

    def add_picklist_values(self, module: str, field_api_name: str, values: Iterable[str]) -> dict[str, Any]:
        """Add the values a pick list lacks (those present are left alone); return the field."""
        wanted = list(dict.fromkeys(str(v) for v in values))
        for round_ in range(self.config.max_attempts):
            field = self.field(module, field_api_name)
            if field is None:
                raise ZohoTerminalError(f"{module} has no field {field_api_name}", code="INVALID_FIELD")
            present = {str(v.get("actual_value") or v.get("display_value")) for v in field.get("pick_list_values") or []}
            missing = [v for v in wanted if v not in present]
            if not missing:
                return field
            if round_:
                self._sleep(self._transport.backoff(round_ - 1))
            call = Call(
                "PATCH", f"{API}/settings/fields/{field['id']}", f"{API}/settings/fields/{{id}}", module=module,
                params={"module": module}, idempotent=False, per_record=True,
                json={"fields": [{"pick_list_values": [{"display_value": v, "actual_value": v} for v in missing]}]},
            )
            try:
                body = self._json(call)
            except ZohoTransientError as exc:
                if not exc.outcome_unknown:
                    raise
                continue  # read the field again and add only what is still missing
            if isinstance(body, dict):
                self._raise_item_error(call, (body.get("fields") or [{}])[0])
        raise ZohoTransientError("pick-list values still missing after retries", method="PATCH",
                                 path=f"{API}/settings/fields/{{id}}")

    def remove_picklist_values(self, module: str, field: str, values: Iterable[str]) -> dict[str, Any]:
        """Remove values from a pick list (PATCH /settings/fields/{id} with `{"id", "_delete": true}`
        per value, the `_delete` key of fields.json's pick_list_values); values not in the list are
        left alone, so a rerun after an unanswered call sends only what is still there. `field` is
        the api_name or id. Returns the field as it is afterwards."""
        unwanted = set(dict.fromkeys(str(v) for v in values))
        label = f"{API}/settings/fields/{{id}}"
        for round_ in range(self.config.max_attempts):
            found = self._find_field(module, field)
            if found is None:
                raise ZohoTerminalError(f"{module} has no field {field}", code="INVALID_FIELD")
            present = [v for v in found.get("pick_list_values") or []
                       if str(v.get("actual_value") or v.get("display_value")) in unwanted and v.get("id")]
            if not present:
                return found
            if round_:
                self._sleep(self._transport.backoff(round_ - 1))
            call = Call("PATCH", f"{API}/settings/fields/{found['id']}", label, module=module,
                        params={"module": module}, idempotent=False, per_record=True,
                        json={"fields": [{"pick_list_values": [{"id": str(v["id"]), "_delete": True} for v in present]}]})
            try:
                body = self._json(call)
            except ZohoTransientError as exc:
                if not exc.outcome_unknown:
                    raise
                continue  # read the field again and remove only what is still there
            if isinstance(body, dict):
                self._raise_item_error(call, (body.get("fields") or [{}])[0])
        raise ZohoTransientError("pick-list values still present after retries", method="PATCH", path=label)

    def delete_field(self, module: str, field_api_name_or_id: str) -> RecordResult:
        """Delete a custom field (DELETE /settings/fields/{id}?module=X; Zoho takes the id, so an
        api_name is looked up first). Zoho deletes the field's values on every record with it.
        A field already absent raises ZohoTerminalError code INVALID_FIELD; after an unanswered
        call the field is read back: gone means deleted."""
        found = self._find_field(module, field_api_name_or_id)
        if found is None:
            raise ZohoTerminalError(f"{module} has no field {field_api_name_or_id}", code="INVALID_FIELD")
        fid, api_name = str(found["id"]), str(found.get("api_name"))
        label = f"{API}/settings/fields/{{id}}"
        for round_ in range(self.config.max_attempts):
            call = Call("DELETE", f"{API}/settings/fields/{fid}", label, module=module, params={"module": module},
                        idempotent=False)
            try:
                body = self._json(call)
            except ZohoTransientError as exc:
                if not exc.outcome_unknown:
                    raise
                if self._find_field(module, fid) is None:
                    return RecordResult(0, True, "SUCCESS", id=fid, action="delete", api_name=api_name,
                                        message="gone after an unanswered delete", details={"id": fid, "read_back": True})
                self._sleep(self._transport.backoff(round_))
                continue
            item = ((body or {}).get("fields") or [{}])[0] if isinstance(body, dict) else {}
            self._raise_item_error(call, item)
            result = RecordResult.from_zoho(0, item)
            return RecordResult(**{**result.__dict__, "id": result.id or fid, "action": "delete", "api_name": api_name})
        raise ZohoTransientError("field delete still unanswered after retries", method="DELETE", path=label,
                                 outcome_unknown=True)

    def _find_field(self, module: str, field: str) -> dict[str, Any] | None:
        return next((f for f in self.fields(module) if field in (f.get("api_name"), str(f.get("id")))), None)

    def _create_once(self, call: Call, find: Callable[[], dict[str, Any] | None]) -> Any:
        """Send a create that must not run twice; after an unknown outcome, look before resending."""
        for round_ in range(self.config.max_attempts):
            try:
                return self._json(call)
            except ZohoTransientError as exc:
                if not exc.outcome_unknown:
                    raise
                if find() is not None:
                    return None
                self._sleep(self._transport.backoff(round_))
        raise ZohoTransientError("create still unanswered after retries", method=call.method, path=call.label,
                                 outcome_unknown=True)

    @staticmethod
    def _raise_item_error(call: Call, item: Mapping[str, Any]) -> None:
        if item.get("status") == "error":
            details = item.get("details") or {}
            raise ZohoTerminalError(
                str(item.get("message") or "refused")[:200], method=call.method, path=call.label,
                code=item.get("code"), details={k: details[k] for k in ("api_name", "json_path") if k in details},
            )

    # -- records ------------------------------------------------------------------------------
    def insert(
        self,
        module: str,
        records: Iterable[Mapping[str, Any]],
        trigger: Iterable[str] = (),
        *,
        external_field: str | None = None,
        key_field: str | None = None,
    ) -> list[RecordResult]:
        """Insert records, 100 per call. If a call's outcome is unknown (answer lost), the records
        are read back by `external_field` (an External ID field, through X-EXTERNAL) or by
        `key_field` (a unique field, through search) and only the missing ones are resent;
        without either, ZohoTransientError(outcome_unknown=True) is raised instead of resending."""
        return self._write("insert", module, records, trigger=list(trigger), external_field=external_field,
                           key_field=key_field)

    def update(
        self, module: str, records: Iterable[Mapping[str, Any]], *, external_field: str | None = None,
        trigger: Iterable[str] = (),
    ) -> list[RecordResult]:
        """Update records by `id` (or by an External ID field's value when `external_field` is
        given). Updates are idempotent, so they are retried freely."""
        return self._write("update", module, records, trigger=list(trigger), external_field=external_field)

    def upsert(
        self,
        module: str,
        records: Iterable[Mapping[str, Any]],
        duplicate_check_fields: Sequence[str] | None = None,
        external_field: str | None = None,
        *,
        trigger: Iterable[str] = (),
    ) -> list[RecordResult]:
        """Insert or update, matching on `external_field` (X-EXTERNAL) or `duplicate_check_fields`.
        With either, a resend cannot duplicate, so upserts retry freely."""
        return self._write("upsert", module, records, trigger=list(trigger), external_field=external_field,
                           duplicate_check_fields=list(duplicate_check_fields or []))

    def _write(self, operation: str, module: str, records: Iterable[Mapping[str, Any]], **opts: Any) -> list[RecordResult]:
        results: list[RecordResult] = []
        offset = 0
        for chunk in _chunks(records, RECORDS_PER_CALL):
            results.extend(self._write_chunk(operation, module, chunk, offset, **opts))
            offset += len(chunk)
        return results

    def _write_chunk(
        self,
        operation: str,
        module: str,
        chunk: list[Mapping[str, Any]],
        offset: int,
        *,
        trigger: list[str],
        external_field: str | None = None,
        key_field: str | None = None,
        duplicate_check_fields: list[str] | None = None,
    ) -> list[RecordResult]:
        method, path = {
            "insert": ("POST", f"{API}/{module}"),
            "update": ("PUT", f"{API}/{module}"),
            "upsert": ("POST", f"{API}/{module}/upsert"),
        }[operation]
        headers = {"X-EXTERNAL": f"{module}.{external_field}"} if external_field and operation != "insert" else {}
        idempotent = operation == "update" or (operation == "upsert" and bool(external_field or duplicate_check_fields))
        readback_field = external_field or key_field if operation != "update" else None

        def send(pending: list[int]) -> Any:
            body: dict[str, Any] = {"data": [dict(chunk[i]) for i in pending], "trigger": trigger}
            if duplicate_check_fields:
                body["duplicate_check_fields"] = duplicate_check_fields
            return self._json(Call(method, path, path, module=module, record_count=len(pending),
                                   credits=write_credits(len(pending)), json=body, headers=headers,
                                   idempotent=idempotent, per_record=True))

        def found(pending: list[int], exc: ZohoTransientError) -> dict[int, str]:
            if idempotent:  # the transport already resent it; unknown after its retries
                raise exc
            if not readback_field:
                raise ZohoTransientError(
                    f"{operation} outcome unknown and no key field to read it back; not resent",
                    method=method, path=path, status=exc.status, code=exc.code, outcome_unknown=True,
                ) from None
            ids = self._read_back(module, [chunk[i] for i in pending], readback_field)
            return {i: record_id for i, record_id in zip(pending, ids) if record_id is not None}

        def result_of(index: int, item: Mapping[str, Any], after_unanswered: bool) -> RecordResult:
            result = RecordResult.from_zoho(index, item)
            return _landed_meanwhile(result, readback_field) if after_unanswered and readback_field else result

        return self._per_record_chunk(len(chunk), offset, send, found, result_of, action="insert",
                                      what=f"{operation} {module}", method=method, path=path)

    def _per_record_chunk(
        self,
        size: int,
        offset: int,
        send: Callable[[list[int]], Any],
        found: Callable[[list[int], ZohoTransientError], dict[int, str]],
        result_of: Callable[[int, Mapping[str, Any], bool], RecordResult],
        *,
        action: str,
        what: str,
        method: str,
        path: str,
    ) -> list[RecordResult]:
        """One call's worth of records (insert, delete, notes) sent until answered. After an
        unanswered call (its outcome unknown), `found` reads back which items did take effect
        (index -> Zoho id; it may raise when they cannot be read back): those are kept, and only
        the rest are sent again. `result_of(index, item, after_unanswered)` reads one answer."""
        results: dict[int, RecordResult] = {}
        pending = list(range(size))
        last_error: ZohoTransientError | None = None
        for round_ in range(self.config.max_attempts):
            try:
                answer = send(pending)
            except ZohoTransientError as exc:
                if not exc.outcome_unknown:
                    raise
                last_error = exc
                done = found(pending, exc)
                for i, record_id in done.items():
                    results[i] = RecordResult(offset + i, True, "SUCCESS", id=record_id, action=action,
                                              message=f"{action} took effect on an unanswered call",
                                              details={"id": record_id, "read_back": True})
                pending = [i for i in pending if i not in done]
                if not pending:
                    break
                log.info("zoho %s: %d record(s) not done after an unanswered call; resending them", what, len(pending))
                self._sleep(self._transport.backoff(round_))
                continue
            items = (answer or {}).get("data") if isinstance(answer, dict) else None
            if not isinstance(items, list) or len(items) != len(pending):
                raise ZohoTerminalError(
                    f"answer holds {len(items) if isinstance(items, list) else 'no'} results for {len(pending)} records",
                    method=method, path=path,
                )
            for i, item in zip(pending, items):
                results[i] = result_of(offset + i, item, last_error is not None)
            pending = []
            break
        if pending:
            raise ZohoTransientError(f"{what} still unanswered after {self.config.max_attempts} tries", method=method,
                                     path=path, outcome_unknown=True) from last_error
        return [results[i] for i in range(size)]

    def _read_back(self, module: str, records: list[Mapping[str, Any]], field: str) -> list[str | None]:
        """Zoho ids of records already present, matched on `field` (None where absent), by COQL, 50
        keys a call (by search, 10 a call, where COQL is refused: zoho.existing): 2 calls for a lost
        100-record insert instead of 100 gets. A record missed by a lagging index is caught on
        resend: Zoho refuses it as DUPLICATE_DATA on its key, which `_landed_meanwhile` turns into
        the landed record."""
        keys = [r.get(field) for r in records]
        if any(k in (None, "") for k in keys):
            raise ZohoTransientError(
                f"write outcome unknown and some records lack {field}; cannot read them back", outcome_unknown=True
            )
        by_key = {key: str(rec["id"]) for key, rec in existing.find_by_keys(self, module, field, keys).items()}
        return [by_key.get(str(k)) for k in keys]

    def get(self, module: str, record_id: str) -> dict[str, Any] | None:
        body = self._json(Call("GET", f"{API}/{module}/{record_id}", f"{API}/{module}/{{id}}", module=module,
                               not_found_ok=True))
        data = (body or {}).get("data") if isinstance(body, dict) else None
        return data[0] if data else None

    def get_by_external(self, module: str, field: str, value: Any) -> dict[str, Any] | None:
        body = self._json(Call(
            "GET", f"{API}/{module}/{quote(str(value), safe='')}", f"{API}/{module}/{{external_id}}", module=module,
            headers={"X-EXTERNAL": f"{module}.{field}"}, not_found_ok=True,
        ))
        data = (body or {}).get("data") if isinstance(body, dict) else None
        return data[0] if data else None

    def search(self, module: str, criteria: str, fields: Sequence[str] | None = None) -> Iterator[dict[str, Any]]:
        """Records matching Zoho search criteria, page by page (Zoho stops at 2,000)."""
        page = 1
        while True:
            params: dict[str, Any] = {"criteria": criteria, "page": page, "per_page": PER_PAGE}
            if fields:
                params["fields"] = ",".join(fields)
            body = self._json(Call("GET", f"{API}/{module}/search", f"{API}/{module}/search", module=module,
                                   params=params, not_found_ok=True))
            if not isinstance(body, dict):
                return
            yield from body.get("data") or []
            info = body.get("info") or {}
            if not info.get("more_records"):
                return
            page += 1
            if page > SEARCH_REACH // PER_PAGE:
                log.warning("zoho search on %s matched more than Zoho returns (2,000); narrow the criteria", module)
                return

    def iter_records(self, module: str, fields: Sequence[str]) -> Iterator[dict[str, Any]]:
        """Every record of a module, 200 per page, following page_token past Zoho's 2,000."""
        if not fields or len(fields) > FIELDS_PER_LIST:
            raise ValueError(f"iter_records needs 1 to {FIELDS_PER_LIST} field names, got {len(fields)}")
        params: dict[str, Any] = {"fields": ",".join(fields), "per_page": PER_PAGE, "page": 1}
        while True:
            body = self._json(Call("GET", f"{API}/{module}", f"{API}/{module}", module=module, params=dict(params),
                                   not_found_ok=True))
            if not isinstance(body, dict):
                return
            yield from body.get("data") or []
            info = body.get("info") or {}
            if not info.get("more_records"):
                return
            token = info.get("next_page_token")
            if token:
                params.pop("page", None)
                params["page_token"] = token
            else:
                params["page"] = int(info.get("page") or params.get("page", 1)) + 1

    def delete(self, module: str, ids: Iterable[str]) -> list[RecordResult]:
        """Delete by id, 100 per call. After an unanswered call, ids no longer found count as
        deleted and only the rest are sent again."""
        results: list[RecordResult] = []
        offset = 0
        for chunk in _chunks((str(i) for i in ids), IDS_PER_DELETE):
            results.extend(self._delete_chunk(module, chunk, offset))
            offset += len(chunk)
        return results

    def _delete_chunk(self, module: str, chunk: list[str], offset: int) -> list[RecordResult]:
        path = f"{API}/{module}"

        def send(pending: list[int]) -> Any:
            return self._json(Call("DELETE", path, path, module=module, record_count=len(pending),
                                   params={"ids": ",".join(chunk[i] for i in pending)}, idempotent=False,
                                   per_record=True))

        def found(pending: list[int], _: ZohoTransientError) -> dict[int, str]:
            return {i: chunk[i] for i in pending if self.get(module, chunk[i]) is None}  # gone: deleted

        def result_of(index: int, item: Mapping[str, Any], _: bool) -> RecordResult:
            result = RecordResult.from_zoho(index, item)
            return result if result.id else RecordResult(**{**result.__dict__, "id": chunk[index - offset]})

        return self._per_record_chunk(len(chunk), offset, send, found, result_of, action="delete",
                                      what=f"delete {module}", method="DELETE", path=path)

    def related_records(self, module: str, record_id: str, related_list: str,
                        fields: Sequence[str]) -> list[dict[str, Any]]:
        """A record's related list (`GET /{module}/{id}/{related_list}`): its Calls, Events or the
        records of a custom module looking it up, 200 per page."""
        out: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self._json(Call(
                "GET", f"{API}/{module}/{record_id}/{related_list}", f"{API}/{module}/{{id}}/{related_list}",
                module=related_list, params={"fields": ",".join(fields), "page": page, "per_page": PER_PAGE},
                not_found_ok=True,
            ))
            if not isinstance(body, dict):
                return out
            out.extend(body.get("data") or [])
            if not (body.get("info") or {}).get("more_records"):
                return out
            page += 1

    # -- notes and attachments ----------------------------------------------------------------
    def notes(self, module: str, record_id: str) -> list[dict[str, Any]]:
        return self.related_records(module, record_id, "Notes",
                                    ["Note_Title", "Note_Content", "Parent_Id", "Created_Time"])

    def add_notes(self, notes: Iterable[Mapping[str, Any]]) -> list[RecordResult]:
        """Insert notes (each with Note_Title, Note_Content and Parent_Id {module: {api_name}, id}).
        After an unanswered call, notes are read back from their parent by Note_Title (the loader
        puts the clinic note id in the title) and only the missing ones are resent."""
        results: list[RecordResult] = []
        offset = 0
        for chunk in _chunks(notes, RECORDS_PER_CALL):
            results.extend(self._add_notes_chunk(chunk, offset))
            offset += len(chunk)
        return results

    def _add_notes_chunk(self, chunk: list[Mapping[str, Any]], offset: int) -> list[RecordResult]:
        path = f"{API}/Notes"

        def send(pending: list[int]) -> Any:
            return self._json(Call("POST", path, path, module="Notes", record_count=len(pending),
                                   credits=write_credits(len(pending)),
                                   json={"data": [dict(chunk[i]) for i in pending]}, idempotent=False,
                                   per_record=True))

        def found(pending: list[int], _: ZohoTransientError) -> dict[int, str]:
            parents: dict[tuple[str, str], dict[str, str]] = {}  # (module, id) -> title -> note id
            done: dict[int, str] = {}
            for i in pending:
                note = chunk[i]
                parent = note.get("Parent_Id") or {}
                pmod = ((parent.get("module") or {}).get("api_name")) or note.get("$se_module")
                pid, title = parent.get("id"), note.get("Note_Title")
                if not (pmod and pid and title):
                    raise ZohoTransientError("notes outcome unknown and a note lacks parent or title; not resent",
                                             method="POST", path=path, outcome_unknown=True) from None
                key = (str(pmod), str(pid))
                if key not in parents:
                    parents[key] = {str(n.get("Note_Title")): str(n["id"]) for n in self.notes(*key)}
                if parents[key].get(str(title)):
                    done[i] = parents[key][str(title)]
            return done

        def result_of(index: int, item: Mapping[str, Any], _: bool) -> RecordResult:
            return RecordResult.from_zoho(index, item)

        return self._per_record_chunk(len(chunk), offset, send, found, result_of, action="insert",
                                      what="insert Notes", method="POST", path=path)

    def attachments(self, module: str, record_id: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self._json(Call(
                "GET", f"{API}/{module}/{record_id}/Attachments", f"{API}/{module}/{{id}}/Attachments",
                module=module, params={"fields": "id,File_Name,Size,Created_Time,$type,$link_url", "page": page,
                                       "per_page": PER_PAGE},
                not_found_ok=True,
            ))
            if not isinstance(body, dict):
                return out
            out.extend(body.get("data") or [])
            if not (body.get("info") or {}).get("more_records"):
                return out
            page += 1

    def upload_attachment(self, module: str, record_id: str, path: Path | str, file_name: str | None = None,
                          opener: Callable[[], BinaryIO] | None = None) -> RecordResult:
        """Attach a file to a record (multipart, streamed from disk). A refusal (e.g. 413, too
        large) comes back as a failed RecordResult; after an unanswered upload the record's
        attachments are checked by file name before sending again. `opener` opens the file for
        each attempt (default: `path` opened for reading); its errors reach the caller as raised."""
        path = Path(path)
        name = file_name or path.name
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        label = f"{API}/{module}/{{id}}/Attachments"
        open_file = opener or (lambda: path.open("rb"))

        def files() -> dict[str, Any]:
            return {"file": (name, open_file(), mime)}

        call = Call("POST", f"{API}/{module}/{record_id}/Attachments", label, module=module, record_count=1,
                    files=files, idempotent=False, per_record=True)
        return self._attach(call, module, record_id, name, label)

    def link_attachment(self, module: str, record_id: str, url: str, title: str) -> RecordResult:
        """Attach a link to a record (Zoho's upload by `attachmentUrl`, form data; `title` names it
        in the record's attachments, as a file's name would). A refusal comes back as a failed
        RecordResult; after an unanswered call the record's attachments are checked by title
        before sending again, as for an upload."""
        label = f"{API}/{module}/{{id}}/Attachments"
        call = Call("POST", f"{API}/{module}/{record_id}/Attachments", label, module=module, record_count=1,
                    params={"title": title}, files=lambda: {"attachmentUrl": (None, url)}, idempotent=False,
                    per_record=True)
        return self._attach(call, module, record_id, title, label)

    def _attach(self, call: Call, module: str, record_id: str, name: str, label: str) -> RecordResult:
        """One attachment call (file or link), read back by `name` after an unanswered try."""
        for round_ in range(self.config.max_attempts):
            try:
                answer = self._json(call)
            except ZohoTransientError as exc:
                if not exc.outcome_unknown:
                    raise
                found = next((a for a in self.attachments(module, record_id) if a.get("File_Name") == name), None)
                if found is not None:
                    return RecordResult(0, True, "SUCCESS", id=str(found["id"]), action="insert",
                                        message="found after an unanswered upload",
                                        details={"id": str(found["id"]), "read_back": True})
                self._sleep(self._transport.backoff(round_))
                continue
            except ZohoAuthError:
                raise
            except ZohoTerminalError as exc:
                return RecordResult(0, False, exc.code or f"HTTP_{exc.status}", message=exc.message,
                                    details={"status": exc.status})
            items = (answer or {}).get("data") if isinstance(answer, dict) else None
            if not items:
                raise ZohoTerminalError("attachment answer holds no result", method="POST", path=label)
            return RecordResult.from_zoho(0, items[0])
        raise ZohoTransientError("attachment upload still unanswered after retries", method="POST", path=label,
                                 outcome_unknown=True)

    def download_attachment(self, module: str, record_id: str, attachment_id: str) -> bytes | None:
        """The content of one attachment (None when the record has no such attachment)."""
        response = self._transport.send(Call(
            "GET", f"{API}/{module}/{record_id}/Attachments/{attachment_id}",
            f"{API}/{module}/{{id}}/Attachments/{{attachment_id}}", module=module, not_found_ok=True))
        return response.content if response.status_code == 200 else None

    def delete_attachment(self, module: str, record_id: str, attachment_id: str) -> RecordResult:
        label = f"{API}/{module}/{{id}}/Attachments/{{attachment_id}}"
        answer = self._json(Call("DELETE", f"{API}/{module}/{record_id}/Attachments/{attachment_id}", label,
                                 module=module, record_count=1, per_record=True))
        items = (answer or {}).get("data") if isinstance(answer, dict) else None
        if not items:
            raise ZohoTerminalError("delete answer holds no result", method="DELETE", path=label)
        return RecordResult.from_zoho(0, items[0])

    # -- bulk write, in steps -----------------------------------------------------------------
    def bulk_upload(self, zip_path: Path | str) -> str:
        """Upload a zipped CSV to the upload host; return Zoho's file_id. Resending an upload
        only leaves an unused file behind, so uploads retry freely."""
        zip_path = Path(zip_path)
        org_id = self.org_id()

        def files() -> dict[str, Any]:
            return {"file": (zip_path.name, zip_path.open("rb"), "application/zip")}

        body = self._json(Call("POST", f"{API}/upload", f"{API}/upload", host="upload",
                               headers={"feature": "bulk-write", "X-CRM-ORG": org_id}, files=files))
        if not isinstance(body, dict):
            raise ZohoTerminalError("upload answer is empty", method="POST", path=f"{API}/upload")
        if body.get("status") == "error" or body.get("code") not in (None, "FILE_UPLOAD_SUCCESS", "SUCCESS"):
            raise ZohoTerminalError(str(body.get("message") or "upload refused")[:200], method="POST",
                                    path=f"{API}/upload", code=body.get("code"))
        file_id = (body.get("details") or {}).get("file_id")
        if not file_id:
            raise ZohoTerminalError("upload answer holds no file_id", method="POST", path=f"{API}/upload")
        return str(file_id)

    def bulk_create_job(
        self,
        module: str,
        file_id: str,
        columns: Sequence[str],
        operation: str = "insert",
        find_by: str | None = None,
        lookups: Mapping[str, str] | None = None,
        *,
        ignore_empty: bool = True,
        callback_url: str | None = None,
        record_count: int = 0,
    ) -> str:
        """Start a Bulk Write job over an uploaded file; return the job id (500 credits).
        An insert job whose creation went unanswered is not created again (it may be running):
        ZohoTransientError(outcome_unknown=True) is raised. Update/upsert jobs retry freely."""
        self._check_bulk_args(module, columns, operation, find_by, lookups)
        lookups = dict(lookups or {})
        mappings = []
        for index, column in enumerate(columns):
            mapping: dict[str, Any] = {"api_name": column, "index": index}
            if column in lookups:
                mapping["find_by"] = lookups[column]
            mappings.append(mapping)
        resource: dict[str, Any] = {"type": "data", "module": {"api_name": module}, "file_id": str(file_id),
                                    "field_mappings": mappings}
        if find_by:
            resource["find_by"] = find_by
        body: dict[str, Any] = {"operation": operation, "ignore_empty": ignore_empty, "resource": [resource]}
        if callback_url:
            body["callback"] = {"url": callback_url, "method": "post"}
        path = f"{BULK_API}/write"
        answer = self._json(Call("POST", path, path, module=module, record_count=record_count,
                                 credits=BULK_JOB_CREDITS, json=body, idempotent=operation != "insert"))
        if not isinstance(answer, dict) or answer.get("status") == "error":
            raise ZohoTerminalError(str((answer or {}).get("message") or "job refused")[:200], method="POST",
                                    path=path, code=(answer or {}).get("code"))
        job_id = (answer.get("details") or {}).get("id")
        if not job_id:
            raise ZohoTerminalError("job answer holds no id", method="POST", path=path)
        return str(job_id)

    def bulk_status(self, job_id: str) -> dict[str, Any]:
        """The job as Zoho describes it: `status`, `resource[].file` counts, `result.download_url`."""
        body = self._json(Call("GET", f"{BULK_API}/write/{job_id}", f"{BULK_API}/write/{{job_id}}"))
        if not isinstance(body, dict):
            raise ZohoTerminalError("job status answer is empty", method="GET", path=f"{BULK_API}/write/{{job_id}}")
        # Zoho answers with the job object; tolerate a {"data": [job]} wrapper.
        if "status" not in body and isinstance(body.get("data"), list) and body["data"]:
            body = body["data"][0]
        return body

    def bulk_wait(self, job_id: str, timeout: float | None = None) -> dict[str, Any]:
        """Poll a job with growing pauses until it is COMPLETED, FAILED or SKIPPED."""
        deadline = time.monotonic() + (self.config.bulk_timeout if timeout is None else timeout)
        pause = self.config.poll_initial
        while True:
            job = self.bulk_status(job_id)
            if BulkJobStatus.parse(str(job.get("status", ""))).is_terminal():
                return job
            if time.monotonic() + pause > deadline:
                raise ZohoBulkJobTimeout(f"bulk job still {job.get('status')} at the deadline", job_id=job_id,
                                         method="GET", path=f"{BULK_API}/write/{{job_id}}")
            self._sleep(pause)
            pause = min(self.config.poll_max, pause * 1.5)

    def bulk_download(self, download_url: str, dest: Path | str) -> Path:
        """Stream a job's result zip to `dest`."""
        dest = Path(dest)
        url = download_url if download_url.startswith(("http://", "https://")) else self.config.api_base + (
            download_url if download_url.startswith("/") else "/" + download_url)
        self._transport.send(Call("GET", url, "{download_url}", host="url", stream_to=dest))
        return dest

    def bulk_results(
        self, download_url: str, key_column: str | None = None, first_row: int = 0
    ) -> Iterator[BulkRowResult]:
        """A job's per-row outcomes (status, record id, errors; `key` = the `key_column` value),
        in file order. The zip is streamed to a temporary file, read row by row, then removed;
        the record values in the file are not handed out."""
        with tempfile.TemporaryDirectory(prefix="zoho-bulk-result-") as tmp:
            path = self.bulk_download(download_url, Path(tmp) / "result.zip")
            yield from read_result_zip(path, first_row=first_row, key_column=key_column)

    # -- bulk write, end to end ---------------------------------------------------------------
    def bulk_write(
        self,
        module: str,
        rows: Iterable[Mapping[str, Any]],
        columns: list[str],
        operation: str = "insert",
        find_by: str | None = None,
        lookups: Mapping[str, str] | None = None,
        *,
        key_column: str | None = None,
        work_dir: Path | str | None = None,
        ignore_empty: bool = True,
    ) -> BulkJobResult:
        """Rows -> zipped CSV (streamed, split at 25,000 rows / 25 MB) -> upload -> job -> poll ->
        result zips downloaded. A FAILED job is returned as such (its rows `unprocessed`), not
        raised. Read per-row outcomes with `result.rows()`; call `result.cleanup()` when done."""
        self._check_bulk_args(module, columns, operation, find_by, lookups)
        if key_column is None and find_by in columns:
            key_column = find_by
        if work_dir is not None:
            Path(work_dir).mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="zoho-bulk-", dir=work_dir))
        result = BulkJobResult(module=module, operation=operation, parts=[], key_column=key_column, work_dir=work)
        try:
            for bulk_file in write_bulk_zips(rows, list(columns), work, stem=f"{module}-{operation}"):
                file_id = self.bulk_upload(bulk_file.path)
                job_id = self.bulk_create_job(module, file_id, columns, operation, find_by, lookups,
                                              ignore_empty=ignore_empty, record_count=bulk_file.row_count)
                bulk_file.path.unlink()
                job = self.bulk_wait(job_id)
                result.parts.append(self._finish_part(job, job_id, bulk_file.first_row, bulk_file.row_count, work))
        except BaseException:
            result.cleanup()
            raise
        return result

    def _finish_part(self, job: dict[str, Any], job_id: str, first_row: int, row_count: int, work: Path) -> BulkJobPart:
        status = BulkJobStatus.parse(str(job.get("status")))
        counts: dict[str, int] = {}
        for resource in job.get("resource") or []:
            for name, value in ((resource or {}).get("file") or {}).items():
                if name.endswith("_count") and isinstance(value, int):
                    counts[name] = counts.get(name, 0) + value
        part = BulkJobPart(job_id=job_id, first_row=first_row, row_count=row_count, status=status, counts=counts)
        url = (job.get("result") or {}).get("download_url")
        if url and status is BulkJobStatus.COMPLETED:
            part.result_file = self.bulk_download(url, work / f"result-{job_id}.zip")
        if status is not BulkJobStatus.COMPLETED:
            log.warning("zoho bulk job %s ended %s (%d rows)", job_id, status.value, row_count)
        return part

    @staticmethod
    def _check_bulk_args(
        module: str, columns: Sequence[str], operation: str, find_by: str | None, lookups: Mapping[str, str] | None
    ) -> None:
        if module in BULK_REFUSED:
            raise ValueError(f"Zoho's Bulk Write does not take {module}; use the record APIs (insert/add_notes)")
        if operation not in ("insert", "update", "upsert"):
            raise ValueError(f"bulk operation must be insert, update or upsert, got {operation!r}")
        if operation != "insert" and not find_by:
            raise ValueError(f"a bulk {operation} needs find_by (id, or a unique / external field)")
        unknown = set(lookups or {}) - set(columns)
        if unknown:
            raise ValueError(f"lookups name columns that are not written: {sorted(unknown)}")


# `read_result_zip` is re-exported for callers that downloaded a result themselves.
__all__ = ["ZohoClient", "read_result_zip"]
