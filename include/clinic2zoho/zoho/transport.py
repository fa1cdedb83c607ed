"""One remote call: pacing, the OAuth header, error classification, retries, the audit event.

Retry policy. A call is retried with exponential backoff and jitter on 429, 5xx, timeouts and
dropped connections, except when it is not idempotent and may already have been applied
(`Call.idempotent=False` and the failure left its outcome unknown): then the error goes back to
the caller, who reads back what landed before sending the rest (see client.insert)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from clinic2zoho.zoho.auth import TokenSource
from clinic2zoho.zoho.config import ZohoConfig
from clinic2zoho.zoho.errors import (
    ZohoAuthError,
    ZohoError,
    ZohoRateLimited,
    ZohoTerminalError,
    ZohoTransientError,
)
from clinic2zoho.zoho.models import CallEvent
from clinic2zoho.zoho.throttle import Throttle

log = logging.getLogger(__name__)

CREDITS_HEADER = "X-API-CREDITS-REMAINING"
# Failures raised before a byte of the request left: resending cannot duplicate anything.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass
class Call:
    method: str
    path: str  # the real path (may hold ids or an external value)
    label: str  # the path as the audit log shows it: ids only, no external values, no query
    host: str = "api"  # "api", "upload", or "url" when `path` is an absolute URL
    module: str | None = None
    record_count: int = 0
    credits: int = 1
    params: dict[str, Any] | None = None
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    files: Callable[[], dict[str, Any]] | None = None  # opened afresh for every attempt
    idempotent: bool = True
    per_record: bool = False  # a 4xx whose body lists per-record results is an answer, not an error
    not_found_ok: bool = False  # 204/404 (and Zoho's "no such record" 400s) mean "nothing"
    stream_to: Path | None = None  # write a 200 body to this file, chunk by chunk


class _InvalidToken(Exception):
    def __init__(self, token: str) -> None:
        self.token = token


class Transport:
    def __init__(
        self,
        config: ZohoConfig,
        http: httpx.Client,
        tokens: TokenSource,
        throttle: Throttle,
        emit: Callable[[CallEvent], None],
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.http = http
        self.tokens = tokens
        self.throttle = throttle
        self._emit = emit
        self._sleep = sleep

    # -- retries -----------------------------------------------------------------------------
    def send(self, call: Call) -> httpx.Response:
        cfg = self.config

        def retryable(exc: BaseException) -> bool:
            if not isinstance(exc, ZohoTransientError):
                return False
            if isinstance(exc, ZohoRateLimited) and exc.daily_exhausted:
                return False
            return call.idempotent or not exc.outcome_unknown

        retrying = Retrying(
            stop=stop_after_attempt(cfg.max_attempts),
            wait=wait_exponential_jitter(multiplier=cfg.backoff_initial, max=cfg.backoff_max, jitter=cfg.backoff_initial),
            retry=retry_if_exception(retryable),
            sleep=self._sleep,
            reraise=True,
            before_sleep=lambda state: log.info(
                "zoho %s %s failed (%s), attempt %d of %d; retrying",
                call.method,
                call.label,
                type(state.outcome.exception()).__name__ if state.outcome else "?",
                state.attempt_number,
                cfg.max_attempts,
            ),
        )
        attempt = 0
        for try_ in retrying:
            with try_:
                attempt += 1
                return self._send_authorised(call, attempt)
        raise AssertionError("unreachable")  # pragma: no cover - reraise=True always raises

    def backoff(self, round_: int) -> float:
        """The pause before round `round_` (0-based) of a caller-driven retry (read-back loops)."""
        import random

        cfg = self.config
        return min(cfg.backoff_max, cfg.backoff_initial * 2**round_) + random.uniform(0, cfg.backoff_initial)

    # -- one attempt -------------------------------------------------------------------------
    def _send_authorised(self, call: Call, attempt: int) -> httpx.Response:
        # A 401 INVALID_TOKEN means Zoho did not run the call: renew and resend once at once.
        for renewal in range(2):
            token = self.tokens.token()
            try:
                return self._send_once(call, token, attempt)
            except _InvalidToken as exc:
                self.tokens.invalidate(exc.token)
        # The refresh itself succeeded (bad credentials raise ZohoAuthError there), so a token
        # refused right after renewal is revoked early: transient, retried with backoff.
        raise ZohoTransientError(
            "Zoho rejected a freshly renewed access token", method=call.method, path=call.label, status=401,
            code="INVALID_TOKEN",
        )

    def _url(self, call: Call) -> str:
        if call.host == "url":
            return call.path
        base = self.config.upload_base if call.host == "upload" else self.config.api_base
        return base + call.path

    def _send_once(self, call: Call, token: str, attempt: int) -> httpx.Response:
        if self.throttle.daily_budget_short(call.credits):
            raise ZohoRateLimited(
                f"daily API credits nearly spent ({self.throttle.credits_remaining} left, this call needs {call.credits})",
                method=call.method, path=call.label, daily_exhausted=True,
            )
        headers = {"Authorization": f"Zoho-oauthtoken {token}", **call.headers}
        with self.throttle.slot(call.credits, call.record_count):
            started = time.monotonic()
            try:
                request = self.http.build_request(
                    call.method, self._url(call), params=call.params, json=call.json, headers=headers,
                    files=call.files() if call.files else None,
                )
                response = self.http.send(request, stream=True)
            except httpx.TransportError as exc:
                unknown = not isinstance(exc, _NOT_SENT)
                self._event(call, started, None, "transient", attempt, code=type(exc).__name__)
                raise ZohoTransientError(
                    f"no answer from Zoho ({type(exc).__name__})", method=call.method, path=call.label,
                    outcome_unknown=unknown,
                ) from None
            try:
                if call.stream_to is not None and response.status_code == 200:
                    with call.stream_to.open("wb") as out:
                        for chunk in response.iter_bytes(1 << 16):
                            out.write(chunk)
                else:
                    response.read()
            except httpx.TransportError as exc:
                self._event(call, started, response.status_code, "transient", attempt, code=type(exc).__name__)
                raise ZohoTransientError(
                    f"answer from Zoho cut off ({type(exc).__name__})", method=call.method, path=call.label,
                    status=response.status_code, outcome_unknown=True,
                ) from None
            finally:
                response.close()
        return self._classify(call, response, token, started, attempt)

    def _classify(self, call: Call, response: httpx.Response, token: str, started: float, attempt: int) -> httpx.Response:
        status = response.status_code
        remaining = _credits_remaining(response)
        if remaining is not None:
            self.throttle.note_remaining(remaining)
        body = _json_or_none(response) if call.stream_to is None or status != 200 else None
        code, message = _error_of(body)

        if status == 401:
            self._event(call, started, status, "auth", attempt, code=code, remaining=remaining)
            if code in (None, "INVALID_TOKEN", "AUTHENTICATION_FAILURE"):
                raise _InvalidToken(token)
            raise ZohoAuthError(message or "not authorised", method=call.method, path=call.label, status=status, code=code)
        if status == 429:
            self.throttle.rate_limited()
            self._event(call, started, status, "rate_limited", attempt, code=code, remaining=remaining)
            exhausted = remaining is not None and remaining < call.credits
            raise ZohoRateLimited(
                "daily API credits exhausted" if exhausted else (message or "too many requests"),
                method=call.method, path=call.label, status=status, code=code or "TOO_MANY_REQUESTS",
                daily_exhausted=exhausted,
            )
        if status >= 500:
            self._event(call, started, status, "transient", attempt, code=code, remaining=remaining)
            # A 5xx may come after the work was done: the outcome of a write is unknown.
            raise ZohoTransientError(
                message or "Zoho server error", method=call.method, path=call.label, status=status, code=code,
                outcome_unknown=True,
            )
        if call.not_found_ok and (status in (204, 404) or (status == 400 and code in _NOT_FOUND_CODES)):
            self._event(call, started, status, "ok", attempt, remaining=remaining)
            return response
        if status >= 400:
            if call.per_record and isinstance(body, dict) and isinstance(body.get("data"), list):
                self._event(call, started, status, "partial", attempt, remaining=remaining, charged=True)
                return response
            self._event(call, started, status, "error", attempt, code=code, remaining=remaining)
            raise ZohoTerminalError(
                message or "request refused", method=call.method, path=call.label, status=status, code=code,
                details=_safe_details(body),
            )
        outcome = "partial" if status == 207 else "ok"
        self._event(call, started, status, outcome, attempt, remaining=remaining, charged=True)
        return response

    def _event(
        self, call: Call, started: float, status: int | None, outcome: str, attempt: int, *,
        code: str | None = None, remaining: int | None = None, charged: bool = False,
    ) -> None:
        self._emit(
            CallEvent(
                method=call.method, path=call.label, module=call.module, record_count=call.record_count,
                credits=call.credits if charged else 0, status=status, duration=time.monotonic() - started,
                outcome=outcome, attempt=attempt, code=code, credits_remaining=remaining,
            )
        )


_NOT_FOUND_CODES = {"INVALID_DATA", "RESOURCE_NOT_FOUND", "RECORD_NOT_FOUND", "NO_CONTENT"}


def _credits_remaining(response: httpx.Response) -> int | None:
    raw = response.headers.get(CREDITS_HEADER)
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def _json_or_none(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _error_of(body: Any) -> tuple[str | None, str | None]:
    """Zoho's error code and message, from `{code, message}` or `{data: [{code, message}]}`."""
    if isinstance(body, dict):
        if isinstance(body.get("code"), str):
            return body["code"], _short(body.get("message"))
        for key in ("data", "fields", "modules", "users"):
            items = body.get(key)
            if isinstance(items, list) and items and isinstance(items[0], dict) and items[0].get("status") == "error":
                return items[0].get("code"), _short(items[0].get("message"))
    return None, None


def _short(message: Any) -> str | None:
    return str(message)[:200] if message is not None else None


def _safe_details(body: Any) -> dict[str, Any]:
    """Only the field-level pointers of an error's details (api_name, json_path, limits), never values."""
    if not isinstance(body, dict):
        return {}
    details = body.get("details")
    if not isinstance(details, dict):
        return {}
    keep = ("api_name", "json_path", "maximum_length", "expected_data_type", "supported_values", "param_name")
    return {k: details[k] for k in keep if k in details}


__all__ = ["Call", "Transport", "ZohoError"]
