"""The Zoho CRM v8 client the loader, mapping and reports call (interface in docs/contracts.md).

It knows three base URLs and nothing else about the server behind them. Thread-safe: one
client may be shared by the threads of a load; the OAuth token, the throttle and the HTTP
connection pool are shared.

Writes that may have landed are never resent blindly: an insert whose answer was lost is read
back by the caller's key (an external-id field through X-EXTERNAL, or a unique field through
search) and only the records not found are sent again.

`ZohoClient` holds the connection (construction, close, call events, credits, `_json`); its calls,
one resource a module over the transport, come from client_org, client_metadata, client_records,
client_related and client_bulk."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx

from clinic2zoho.tls import tls_context
from clinic2zoho.zoho.auth import TokenSource
from clinic2zoho.zoho.bulk_files import read_result_zip
from clinic2zoho.zoho.client_bulk import BulkCalls
from clinic2zoho.zoho.client_metadata import MetadataCalls
from clinic2zoho.zoho.client_org import OrgCalls
from clinic2zoho.zoho.client_records import RecordCalls
from clinic2zoho.zoho.client_related import RelatedCalls
from clinic2zoho.zoho.config import ZohoConfig
from clinic2zoho.zoho.errors import ZohoTerminalError
from clinic2zoho.zoho.models import CallEvent
from clinic2zoho.zoho.throttle import Throttle
from clinic2zoho.zoho.transport import Call, Transport

log = logging.getLogger(__name__)


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


class ZohoClient(OrgCalls, MetadataCalls, RecordCalls, RelatedCalls, BulkCalls):
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
            verify=tls_context(),
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


# `read_result_zip` is re-exported for callers that downloaded a result themselves.
__all__ = ["ZohoClient", "read_result_zip"]
