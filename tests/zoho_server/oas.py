"""Zoho's official OpenAPI files, made loadable at test time: copied into a temporary folder with
their cross-file references rewritten to local paths and notes.json's dangling parameter patched
(only in the copy), then used through openapi-core to validate the server's responses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from tests.conftest import ROOT

OAS_DIR = ROOT.parent / "shared" / "zoho-oas" / "v8.0"
REMOTE_PREFIX = "https://raw.githubusercontent.com/Zohocorp-Pvt-Ltd/crm-oas/refs/heads/main/v8.0/"
SPEC_HOST = "https://zohoapis.com"
IF_MODIFIED_SINCE = {"name": "If-Modified-Since", "in": "header", "required": False,
                     "schema": {"type": "string", "format": "date-time"}}


def prepare(target: Path) -> Path:
    """Copy every OAS file into `target` with local references; return the folder."""
    target.mkdir(parents=True, exist_ok=True)
    for src in OAS_DIR.glob("*.json"):
        text = src.read_text(encoding="utf-8").replace(REMOTE_PREFIX, "./")
        # The files' oneOf alternatives overlap (API_Exception requires no property, so every
        # object matches it): a valid answer matches several branches; read them as anyOf.
        text = text.replace('"oneOf"', '"anyOf"')
        doc = json.loads(text)
        if src.name == "notes.json":
            doc.setdefault("components", {}).setdefault("parameters", {}).setdefault("If-Modified-Since", IF_MODIFIED_SINCE)
        if src.name == "bulk_write.json":
            # Zoho's upload page and the official SDK (Resource.file_id: str) give file_id as a
            # string; the file says int64.
            doc["components"]["schemas"]["Success_Response"]["properties"]["details"]["properties"]["file_id"] = {"type": "string"}
        text = json.dumps(_relax(doc))
        (target / src.name).write_text(text, encoding="utf-8")
    return target


def _relax(node: Any) -> Any:
    """The files were generated from sample answers: every sampled key is `required` (even where
    Zoho itself omits it or answers `{}`), and string values carry `pattern`s copied from the
    samples (e.g. an email must be nine letters @ five letters .com). Both are dropped in the copy;
    types, enums, nullability and structure are still checked."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                continue
            if key == "required" and isinstance(value, list):
                continue
            out[key] = _relax(value)
        return out
    if isinstance(node, list):
        return [_relax(v) for v in node]
    return node


class Conformance:
    """Validates a response body against the schema the OAS file declares for the operation."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.specs: dict[str, OpenAPI] = {}

    def spec(self, name: str) -> OpenAPI:
        if name not in self.specs:
            self.specs[name] = OpenAPI.from_file_path(str(self.folder / name))
        return self.specs[name]

    def declared_status(self, name: str, method: str, template: str, status: int) -> int:
        """Zoho answers 201/207 where the files declare only 200: validate against the declared
        success response then (the body shape is the same)."""
        doc = json.loads((self.folder / name).read_text(encoding="utf-8"))
        codes = [int(c) for c in doc["paths"][template][method.lower()]["responses"] if c.isdigit()]
        if status in codes:
            return status
        if status < 300:
            return min(c for c in codes if c < 300)
        return status

    def host(self, name: str, method: str, template: str) -> str:
        doc = json.loads((self.folder / name).read_text(encoding="utf-8"))
        item = doc["paths"][template]
        servers = item[method.lower()].get("servers") or item.get("servers") or doc.get("servers") or [{"url": SPEC_HOST}]
        return servers[0]["url"].rstrip("/")

    def check(self, name: str, method: str, path: str, template: str, status: int, body: Any,
              query: dict[str, str] | None = None) -> None:
        request = MockRequest(self.host(name, method, template), method.lower(), path, args=query or {})
        response = MockResponse(json.dumps(body).encode(), status_code=self.declared_status(name, method, template, status),
                                content_type="application/json")
        try:
            self.spec(name).validate_response(request, response)
        except Exception as exc:  # name the failing keys, not the whole body
            raise AssertionError(f"{method} {path} ({status}) does not match {name}:\n" + "\n".join(_leaf_errors(exc))) from None


def _leaf_errors(exc: BaseException) -> list[str]:
    errors = list(getattr(exc, "schema_errors", None) or getattr(exc.__cause__, "schema_errors", None) or [])
    out: list[str] = []

    def walk(err: Any) -> None:
        if err.context:
            for sub in err.context:
                walk(sub)
        else:
            line = f"  {'/'.join(str(p) for p in err.absolute_path)}: {err.message[:200]}"
            if line not in out:
                out.append(line)

    for err in errors:
        walk(err)
    return out or [f"  {exc.__class__.__name__}: {str(exc)[:300]}"]
