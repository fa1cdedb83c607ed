"""What the client's resource calls share (client_org, client_metadata, client_records,
client_related, client_bulk): the API paths, a create sent at most once, and one call's worth of
records sent until answered, with only the records that did not take effect sent again.

`ClientBase` names what the resource classes read from the client that composes them
(`client.ZohoClient`): its config, transport, sleep and `_json`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from clinic2zoho.zoho.config import ZohoConfig
from clinic2zoho.zoho.errors import ZohoTerminalError, ZohoTransientError
from clinic2zoho.zoho.models import RecordResult
from clinic2zoho.zoho.transport import Call, Transport

log = logging.getLogger(__name__)

API = "/crm/v8"
BULK_API = "/crm/bulk/v8"


def chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class ClientBase:
    config: ZohoConfig
    _transport: Transport
    _sleep: Callable[[float], None]

    def _json(self, call: Call) -> Any:
        """The call's answer read as JSON (None when empty): ZohoClient's."""
        raise NotImplementedError

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
