"""Airflow hook for Zoho CRM: owns the Connection and a cached `clinic2zoho.zoho.ZohoClient`.

Connection fields (conn_type ``zoho``):

- login: OAuth client id; password: client secret;
- extra: ``refresh_token`` (required); ``data_centre`` (US, EU, IN, AU, JP, CN, CA, SA) or
  ``accounts_url`` / ``api_url`` / ``upload_url``; ``edition`` (Free, Standard/Starter,
  Professional, Enterprise, Ultimate); ``user_count``; ``per_minute_credits``;
  ``max_concurrency``; client tuning keys (``timeout``, ``max_attempts``, ...).
- host (+ schema, port) may stand for all three URLs when they are not given.

The UI's connection form for this type (labels, the extra fields refresh token, data centre,
edition and licensed users) is declared in `clinic2zoho_airflow.provider_info`, where Airflow
3.2+ reads it without importing this hook.

The default Connection ``zoho_default`` points at the local Zoho server: the demo starts the
server and exports, for example::

    AIRFLOW_CONN_ZOHO_DEFAULT='{"conn_type": "zoho", "login": "<client id>",
        "password": "<client secret>", "extra": {"refresh_token": "<refresh token>",
        "accounts_url": "http://127.0.0.1:8700", "api_url": "http://127.0.0.1:8700",
        "upload_url": "http://127.0.0.1:8700", "edition": "Enterprise", "user_count": 10}}'

(`clinic2zoho.zoho.connection.connection_json(config)` writes that JSON.) Pointing the same
Connection at real Zoho needs only ``data_centre`` and real credentials.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowException

from clinic2zoho.zoho import ZohoAuthError, ZohoClient, ZohoConfig
from clinic2zoho.zoho.connection import ZohoConnectionError, config_from_connection


class ZohoHook(BaseHook):
    conn_name_attr = "zoho_conn_id"
    default_conn_name = "zoho_default"
    conn_type = "zoho"
    hook_name = "Zoho CRM"

    def __init__(self, zoho_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.zoho_conn_id = zoho_conn_id

    @cached_property
    def config(self) -> ZohoConfig:
        conn = self.get_connection(self.zoho_conn_id)
        try:
            return config_from_connection(
                self.zoho_conn_id, login=conn.login, password=conn.password, extra=conn.extra_dejson,
                host=conn.host, schema=conn.schema, port=conn.port,
            )
        except ZohoConnectionError as exc:
            raise AirflowException(str(exc)) from None

    @cached_property
    def conn(self) -> ZohoClient:
        return ZohoClient(self.config)

    def get_conn(self) -> ZohoClient:
        """The cached client, its credentials checked (one token call, no API credits)."""
        client = self.conn
        try:
            client.check_credentials()
        except ZohoAuthError as exc:
            raise AirflowException(f"Zoho refused the credentials of Airflow Connection {self.zoho_conn_id!r}: "
                                   f"{exc.message}") from None
        return client

    def pool_slots(self) -> int:
        """Concurrent calls the org's edition allows: the size for an Airflow pool of Zoho tasks."""
        return self.config.concurrency

    def test_connection(self) -> tuple[bool, str]:
        try:
            org = self.get_conn().org()
        except Exception as exc:  # the UI shows the message; it never holds a secret
            return False, str(exc)
        return True, f"connected to Zoho org {org.get('zgid') or org.get('id')}"
