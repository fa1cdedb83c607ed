"""Every HTTP client of a process shares one TLS context, httpx's default (clinic2zoho.tls): httpx
would build a new one, CA bundle parsed again, for each Client."""

from __future__ import annotations

import ssl

from clinic2zoho.tls import tls_context
from clinic2zoho.zoho import ZohoClient, ZohoConfig


def test_the_shared_context_verifies_as_httpxs_default():
    ctx = tls_context()
    assert ctx is tls_context()
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert ctx.cert_store_stats()["x509_ca"] > 0  # a CA bundle was loaded


def test_clients_build_one_context_between_them(monkeypatch):
    made = []
    real = ssl.create_default_context
    monkeypatch.setattr(ssl, "create_default_context", lambda *a, **k: made.append(1) or real(*a, **k))
    tls_context.cache_clear()
    config = ZohoConfig("id", "secret", "refresh", data_centre=None, accounts_url="https://accounts.example",
                        api_url="https://api.example", upload_url="https://upload.example")
    for _ in range(3):
        ZohoClient(config).close()
    assert len(made) == 1
