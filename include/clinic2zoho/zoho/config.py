"""Where a Zoho org lives and how hard the client may push it (the plans' limits: zoho/facts.py).

The client knows only three base URLs (accounts, API, upload); a data centre is a shorthand for
the three hosts Zoho runs in that region (the official SDK's `dc` classes hold the same table).
Explicit URLs win over the data centre, which is how the local server is reached."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from clinic2zoho.zoho.facts import EDITIONS, canonical_edition, daily_credit_limit


@dataclass(frozen=True)
class DataCentre:
    accounts_url: str
    api_url: str
    upload_url: str


DATA_CENTRES: dict[str, DataCentre] = {
    "US": DataCentre("https://accounts.zoho.com", "https://www.zohoapis.com", "https://content.zohoapis.com"),
    "EU": DataCentre("https://accounts.zoho.eu", "https://www.zohoapis.eu", "https://content.zohoapis.eu"),
    "IN": DataCentre("https://accounts.zoho.in", "https://www.zohoapis.in", "https://content.zohoapis.in"),
    "AU": DataCentre(
        "https://accounts.zoho.com.au", "https://www.zohoapis.com.au", "https://content.zohoapis.com.au"
    ),
    "JP": DataCentre("https://accounts.zoho.jp", "https://www.zohoapis.jp", "https://content.zohoapis.jp"),
    "CN": DataCentre(
        "https://accounts.zoho.com.cn", "https://www.zohoapis.com.cn", "https://content.zohoapis.com.cn"
    ),
    "CA": DataCentre("https://accounts.zohocloud.ca", "https://www.zohoapis.ca", "https://upload.zohocloud.ca"),
    "SA": DataCentre("https://accounts.zoho.sa", "https://www.zohoapis.sa", "https://files.zoho.sa"),
}


@dataclass(frozen=True)
class ZohoConfig:
    """How to reach one Zoho org and how hard the client may push it.

    Secrets (client secret, refresh token) never appear in the repr."""

    client_id: str = field(repr=False)
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)
    data_centre: str | None = "US"
    accounts_url: str | None = None
    api_url: str | None = None
    upload_url: str | None = None
    edition: str = "Enterprise"
    user_count: int = 10
    per_minute_credits: int | None = None  # optional throttle a clinic may set (not a Zoho limit)
    max_concurrency: int | None = None  # default: the edition's concurrency
    timeout: float = 60.0  # seconds per HTTP call
    max_attempts: int = 8  # tries per call, the first included
    backoff_initial: float = 0.5  # seconds; doubled per retry, with jitter
    backoff_max: float = 30.0
    token_renew_margin: float = 60.0  # renew this long before expiry (capped at a tenth of the lifetime)
    poll_initial: float = 1.0  # bulk job polling: first wait, growing to poll_max
    poll_max: float = 15.0
    bulk_timeout: float = 3600.0  # give up waiting on one bulk job after this long

    def __post_init__(self) -> None:
        for name in ("client_id", "client_secret", "refresh_token"):
            if not getattr(self, name):
                raise ValueError(f"ZohoConfig.{name} is empty")
        if self.data_centre is not None:
            dc = self.data_centre.strip().upper()
            if dc not in DATA_CENTRES:
                raise ValueError(f"unknown Zoho data centre {self.data_centre!r}; expected one of {sorted(DATA_CENTRES)}")
            object.__setattr__(self, "data_centre", dc)
        elif not (self.accounts_url and self.api_url and self.upload_url):
            raise ValueError("ZohoConfig needs a data_centre or all of accounts_url, api_url and upload_url")
        object.__setattr__(self, "edition", canonical_edition(self.edition))
        for name in ("accounts_url", "api_url", "upload_url"):
            value = getattr(self, name)
            if value is not None:
                if not value.startswith(("http://", "https://")):
                    raise ValueError(f"ZohoConfig.{name} must be an http(s) URL, got {value!r}")
                object.__setattr__(self, name, value.rstrip("/"))
        if self.user_count < 0:
            raise ValueError("ZohoConfig.user_count must be >= 0")
        if self.per_minute_credits is not None and self.per_minute_credits <= 0:
            raise ValueError("ZohoConfig.per_minute_credits must be positive (or None for no throttle)")
        if self.max_concurrency is not None and self.max_concurrency <= 0:
            raise ValueError("ZohoConfig.max_concurrency must be positive (or None for the edition's)")
        if self.max_attempts < 1:
            raise ValueError("ZohoConfig.max_attempts must be >= 1")

    def _host(self, name: str) -> str:
        explicit = getattr(self, name)
        if explicit:
            return explicit
        assert self.data_centre is not None  # checked in __post_init__
        return getattr(DATA_CENTRES[self.data_centre], name)

    @property
    def accounts_base(self) -> str:
        return self._host("accounts_url")

    @property
    def api_base(self) -> str:
        return self._host("api_url")

    @property
    def upload_base(self) -> str:
        return self._host("upload_url")

    @property
    def concurrency(self) -> int:
        """Concurrent calls the client allows itself: the setting, or the edition's limit."""
        return self.max_concurrency or EDITIONS[self.edition].concurrency

    @property
    def daily_credits(self) -> int:
        return daily_credit_limit(self.edition, self.user_count)

    def with_overrides(self, **changes: Any) -> ZohoConfig:
        return replace(self, **changes)

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> ZohoConfig:
        """Build from a plain dict (e.g. a Connection's extra), ignoring unknown keys."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known and v is not None})
