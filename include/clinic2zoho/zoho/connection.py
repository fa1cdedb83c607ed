"""A Zoho org described as an Airflow Connection's fields, both ways, with no Airflow import.

Fields: login = client id, password = client secret; extra = refresh_token, data_centre or
accounts_url / api_url / upload_url, edition, user_count, per_minute_credits, max_concurrency
(and the client's tuning keys: timeout, max_attempts, backoff_initial, backoff_max, ...).
A `host` (with schema and port) stands for all three URLs when no URL is given: one local
server answers accounts, API and upload on the same address."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from clinic2zoho.zoho.config import ZohoConfig

_INT_KEYS = {"user_count", "per_minute_credits", "max_concurrency", "max_attempts"}
_FLOAT_KEYS = {"timeout", "backoff_initial", "backoff_max", "token_renew_margin", "poll_initial", "poll_max",
               "bulk_timeout"}


class ZohoConnectionError(ValueError):
    """A Connection that cannot describe a Zoho org; names the Connection, never a value of a secret."""


def config_from_connection(
    conn_id: str,
    *,
    login: str | None,
    password: str | None,
    extra: Mapping[str, Any] | None,
    host: str | None = None,
    schema: str | None = None,
    port: int | None = None,
) -> ZohoConfig:
    extra = dict(extra or {})
    missing = [name for name, value in (("login (client id)", login), ("password (client secret)", password),
                                        ("extra.refresh_token", extra.get("refresh_token"))) if not value]
    if missing:
        raise ZohoConnectionError(f"Airflow Connection {conn_id!r} lacks {', '.join(missing)}")
    known = {f.name for f in fields(ZohoConfig)} - {"client_id", "client_secret", "refresh_token"}
    unknown = sorted(set(extra) - known - {"refresh_token"})
    if unknown:
        raise ZohoConnectionError(f"Airflow Connection {conn_id!r} has unknown extra key(s) {unknown}")
    values: dict[str, Any] = {}
    for key in known & set(extra):
        value = extra[key]
        if value in (None, ""):
            continue
        try:
            values[key] = int(value) if key in _INT_KEYS else float(value) if key in _FLOAT_KEYS else value
        except (TypeError, ValueError):
            raise ZohoConnectionError(f"Airflow Connection {conn_id!r}: extra.{key} must be a number") from None
    urls = ("accounts_url", "api_url", "upload_url")
    if host and not any(values.get(u) for u in urls):
        base = host if "://" in host else f"{schema or 'http'}://{host}" + (f":{port}" if port else "")
        values.update({u: base for u in urls})
    if all(values.get(u) for u in urls) and "data_centre" not in values:
        values["data_centre"] = None
    try:
        return ZohoConfig(client_id=str(login), client_secret=str(password), refresh_token=str(extra["refresh_token"]),
                          **values)
    except ValueError as exc:  # ZohoConfig's messages name fields, never secret values
        raise ZohoConnectionError(f"Airflow Connection {conn_id!r}: {exc}") from None


def connection_json(config: ZohoConfig, conn_type: str = "zoho") -> str:
    """The JSON form of an Airflow Connection for `config`, for `AIRFLOW_CONN_<ID>`.
    It holds secrets: put it in the environment, never in a log."""
    extra: dict[str, Any] = {"refresh_token": config.refresh_token}
    defaults = ZohoConfig("x", "x", "x")
    for f in fields(ZohoConfig):
        if f.name in ("client_id", "client_secret", "refresh_token"):
            continue
        value = getattr(config, f.name)
        if value is not None and (value != getattr(defaults, f.name) or f.name in ("edition", "user_count")):
            extra[f.name] = value
    if config.accounts_url and config.api_url and config.upload_url:
        extra.pop("data_centre", None)
    elif config.data_centre:
        extra["data_centre"] = config.data_centre
    return json.dumps({"conn_type": conn_type, "login": config.client_id, "password": config.client_secret,
                       "extra": extra})
