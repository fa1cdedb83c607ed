"""Zoho refusals that trying again now will not fix, in words a user can act on: the credentials
were refused (and which setting to fix, named, never its value), or Zoho keeps rate limiting
(the work resumes later). Commands print these instead of a traceback; the loader stops on them
instead of rejecting rows that did nothing wrong."""

from __future__ import annotations

from collections.abc import Iterable

from clinic2zoho.zoho.errors import ZohoAuthError, ZohoRateLimited
from clinic2zoho.zoho.scopes import REQUIRED_SCOPES, missing_scopes

# What Zoho's token endpoint answers (see zoho/auth.py): a wrong client id or secret, a wrong,
# expired or revoked refresh token.
_CLIENT_CODES = {"INVALID_CLIENT", "INVALID_CLIENT_SECRET", "UNAUTHORIZED_CLIENT"}
_TOKEN_CODES = {"INVALID_CODE", "INVALID_REFRESH_TOKEN", "INVALID_GRANT"}
SCOPE_MISMATCH = "OAUTH_SCOPE_MISMATCH"  # 401 when the token lacks the call's scope (ZOHO_API.md)

# Where each credential is set: environment (CLI) or an Airflow Connection's fields.
_ENV = {"client": "ZOHO_CLIENT_ID and ZOHO_CLIENT_SECRET", "token": "ZOHO_REFRESH_TOKEN",
        "all": "ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET and ZOHO_REFRESH_TOKEN"}
_CONNECTION = {"client": "login (client id) and password (client secret)", "token": "extra refresh_token",
               "all": "login (client id), password (client secret) and extra refresh_token"}
_WHAT = {"client": "the client id or client secret is wrong",
         "token": "the refresh token is wrong, expired or revoked",
         "all": "the client id, client secret or refresh token is wrong or lacks a scope"}


def stops_work(exc: BaseException) -> bool:
    """True for a refusal every further call would meet too: stop, do not reject rows."""
    return isinstance(exc, (ZohoAuthError, ZohoRateLimited))


def scope_missing(exc: ZohoAuthError, granted: Iterable[str] | None = None) -> str:
    """The refused call and what to grant. Zoho's answer does not say which scope is missing: the
    scopes the token answer did not list are named when known, else the whole list the project needs."""
    where = f" for {exc.method} {exc.path}" if exc.method and exc.path else ""
    lacking = missing_scopes(granted) if granted is not None else []
    what = (f"the grant lacks {', '.join(lacking)}" if lacking
            else f"the grant must hold all of {', '.join(REQUIRED_SCOPES)}")
    return (f"Zoho refused the access token's scope{where} ({SCOPE_MISMATCH}): {what}. Create the self-client"
            " grant again with those scopes, exchange it for a new refresh token, then run again.")


def credentials_refused(exc: ZohoAuthError, conn_id: str | None = None) -> str:
    code = (exc.code or "").upper()
    if code == SCOPE_MISMATCH:
        return scope_missing(exc)
    which = "client" if code in _CLIENT_CODES else "token" if code in _TOKEN_CODES else "all"
    where = (f"the fields {_CONNECTION[which]} of Airflow Connection {conn_id!r}" if conn_id
             else f"{_ENV[which]} in the environment")
    said = code.lower() if code else f"HTTP {exc.status}" if exc.status else "refused"
    return f"Zoho refused the credentials ({said}): {_WHAT[which]}. Fix {where}, then run again."


def rate_limited(exc: ZohoRateLimited, resume: str) -> str:
    where = f" on {exc.method} {exc.path}" if exc.method and exc.path else ""
    if exc.daily_exhausted:
        return (f"Zoho's daily API credits are spent{where}: stopped, nothing is lost. {resume}"
                " once the credits renew (a rolling 24 hours).")
    return f"rate limited by Zoho{where}: still refused (429) after every retry; stopped, nothing is lost. {resume}."


def explain(exc: BaseException, *, resume: str, conn_id: str | None = None) -> str | None:
    """The user's message for a refusal that stops work (None for any other error).
    `resume`: how to carry on, e.g. "Rerun with --run R1: it resumes with the same run id"."""
    if isinstance(exc, ZohoAuthError):
        return credentials_refused(exc, conn_id)
    if isinstance(exc, ZohoRateLimited):
        return rate_limited(exc, resume)
    return None
