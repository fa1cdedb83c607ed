"""One TLS context per process for every HTTP client the project opens.

httpx builds a new `ssl.SSLContext` for each Client it makes, loading and parsing the CA bundle
again: 36 ms per Client on 2 cores (0.1 ms with a shared context), paid by every `ZohoClient`, every `httpx.get` of a
readiness poll and every admin call to a local server. The context is httpx's own default
(`httpx.create_ssl_context()`: certifi's bundle, or SSL_CERT_FILE / SSL_CERT_DIR as httpx reads
them, hostname checked), built once; a shared context is safe across clients and threads."""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def tls_context() -> ssl.SSLContext:
    """httpx's default verification context, made on first use (the environment read then)."""
    return httpx.create_ssl_context()
