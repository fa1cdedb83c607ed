"""Records: insert, update and upsert 100 a call (an unanswered insert read back by its key and only
the missing records resent), get, search, every record of a module page by page, delete by id."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from clinic2zoho.zoho import existing
from clinic2zoho.zoho.client_base import API, ClientBase, chunks
from clinic2zoho.zoho.errors import ZohoTransientError
from clinic2zoho.zoho.facts import FIELDS_PER_LIST, IDS_PER_DELETE, PER_PAGE, RECORDS_PER_CALL, SEARCH_REACH, write_credits
from clinic2zoho.zoho.models import RecordResult
from clinic2zoho.zoho.transport import Call

log = logging.getLogger(__name__)


def _landed_meanwhile(result: RecordResult, key_field: str) -> RecordResult:
    """A resent record refused as DUPLICATE_DATA on its own key did land on the earlier,
    unanswered try (read back too early to see it): report that record, not an error."""
    duplicate = result.details.get("duplicate_record") or {}
    if result.code == "DUPLICATE_DATA" and result.api_name == key_field and duplicate.get("id"):
        record_id = str(duplicate["id"])
        return RecordResult(result.index, True, "SUCCESS", id=record_id, action="insert",
                            message="landed on an earlier unanswered try", details={"id": record_id, "read_back": True})
    return result


class RecordCalls(ClientBase):
    """An unanswered insert is read back through zoho.existing (COQL, or search where COQL is refused)."""

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
        for chunk in chunks(records, RECORDS_PER_CALL):
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
        for chunk in chunks((str(i) for i in ids), IDS_PER_DELETE):
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
