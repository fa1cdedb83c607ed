"""OAuth access tokens from Zoho's refresh-token grant, cached and shared by all threads.

A token is renewed shortly before it expires and whenever Zoho answers 401 INVALID_TOKEN for
it. Only one thread refreshes at a time; the others wait and reuse its token."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable

import httpx

from clinic2zoho.zoho.config import ZohoConfig
from clinic2zoho.zoho.errors import ZohoAuthError, ZohoTransientError
from clinic2zoho.zoho.models import CallEvent

TOKEN_PATH = "/oauth/v2/token"
# Zoho's token errors are short snake_case words ("invalid_client", "invalid_code"): only such
# a word is ever quoted back, never the answer's body.
_ERROR_WORD = re.compile(r"^[A-Za-z_]{1,64}$")


class TokenSource:
    def __init__(
        self,
        config: ZohoConfig,
        http: httpx.Client,
        emit: Callable[[CallEvent], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._config = config
        self._http = http
        self._emit = emit
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self.refresh_count = 0
        # The scopes the token answer says were granted (its `scope`), None until one names them
        self.granted_scopes: tuple[str, ...] | None = None

    def __repr__(self) -> str:  # never show the token
        return f"TokenSource(accounts={self._config.accounts_base!r}, cached={self._token is not None})"

    def token(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._expires_at:
                self._refresh()
            assert self._token is not None
            return self._token

    def invalidate(self, token: str) -> None:
        """Forget `token` after Zoho refused it (unless another thread already replaced it)."""
        with self._lock:
            if self._token == token:
                self._token = None

    def _refresh(self) -> None:
        cfg = self._config
        started = self._clock()
        status: int | None = None
        try:
            response = self._http.post(
                cfg.accounts_base + TOKEN_PATH,
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": cfg.refresh_token,
                    "client_id": cfg.client_id,
                    "client_secret": cfg.client_secret,
                },
            )
            status = response.status_code
        except httpx.TransportError as exc:
            self._event(started, None, "transient")
            raise ZohoTransientError(
                f"token refresh failed: {type(exc).__name__}", method="POST", path=TOKEN_PATH
            ) from None
        if status == 429 or status >= 500:
            self._event(started, status, "transient")
            raise ZohoTransientError("token refresh failed", method="POST", path=TOKEN_PATH, status=status)
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        token = body.get("access_token")
        if status != 200 or not token:
            error = str(body.get("error") or "no access_token in the answer")
            word = error if _ERROR_WORD.match(error) else "refused"
            self._event(started, status, "auth")
            raise ZohoAuthError(
                f"Zoho refused the refresh token grant ({word}): check the client id, client secret and refresh token",
                method="POST",
                path=TOKEN_PATH,
                status=status,
                code=word.upper(),
            )
        lifetime = float(body.get("expires_in") or body.get("expires_in_sec") or 3600)
        margin = min(cfg.token_renew_margin, lifetime / 10)
        self._token = str(token)
        self._expires_at = self._clock() + lifetime - margin
        scope = body.get("scope")
        if isinstance(scope, str) and scope.strip():  # space- or comma-separated (unverified which)
            self.granted_scopes = tuple(scope.replace(",", " ").split())
        self.refresh_count += 1
        self._event(started, status, "ok")

    def _event(self, started: float, status: int | None, outcome: str) -> None:
        self._emit(
            CallEvent(
                method="POST",
                path=TOKEN_PATH,
                module=None,
                record_count=0,
                credits=0,
                status=status,
                duration=self._clock() - started,
                outcome=outcome,
            )
        )
