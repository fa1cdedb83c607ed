"""Typed errors of the Zoho client.

Transient errors (429, 5xx, timeouts, dropped connections) may succeed when tried again;
terminal ones will not. Messages carry the call (method, path without query), the HTTP status
and Zoho's code and message — never a token, a secret or record data."""

from __future__ import annotations

from typing import Any


class ZohoError(Exception):
    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.message = message
        self.method = method
        self.path = path
        self.status = status
        self.code = code
        self.details = details or {}
        super().__init__(self._render())

    def _render(self) -> str:
        where = f"{self.method} {self.path}: " if self.method and self.path else ""
        status = f" (HTTP {self.status}" + (f", {self.code})" if self.code else ")") if self.status else ""
        if not self.status and self.code:
            status = f" ({self.code})"
        return f"{where}{self.message}{status}"

    @property
    def transient(self) -> bool:
        return False


class ZohoTerminalError(ZohoError):
    """Zoho refused the call for a reason retrying will not change (bad request, no permission...)."""


class ZohoAuthError(ZohoTerminalError):
    """Credentials refused: bad client id/secret, revoked refresh token, or a token Zoho keeps rejecting."""


class ZohoTransientError(ZohoError):
    """A failure that may pass: 5xx, timeout, dropped connection.

    `outcome_unknown` is True when the request may have reached Zoho and been applied (e.g. the
    connection dropped while waiting for the answer): such a write must be read back, not resent."""

    def __init__(self, message: str, *, outcome_unknown: bool = False, **kwargs: Any) -> None:
        self.outcome_unknown = outcome_unknown
        super().__init__(message, **kwargs)

    @property
    def transient(self) -> bool:
        return True


class ZohoRateLimited(ZohoTransientError):
    """HTTP 429 TOO_MANY_REQUESTS, or the daily credit budget known to be spent.

    `daily_exhausted` means the rolling 24-hour budget is gone: waiting seconds will not help."""

    def __init__(self, message: str, *, daily_exhausted: bool = False, **kwargs: Any) -> None:
        self.daily_exhausted = daily_exhausted
        super().__init__(message, **kwargs)


class ZohoBulkJobTimeout(ZohoTransientError):
    """A bulk job did not finish in time; it may still be running — re-attach with its job id."""

    def __init__(self, message: str, *, job_id: str, **kwargs: Any) -> None:
        self.job_id = job_id
        super().__init__(message, **kwargs)
