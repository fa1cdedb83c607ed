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
        if src.name == "notes.json":
            doc = json.loads(text)
            doc.setdefault("components", {}).setdefault("parameters", {}).setdefault("If-Modified-Since", IF_MODIFIED_SINCE)
            text = json.dumps(doc)
        (target / src.name).write_text(text, encoding="utf-8")
    return target


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

    def check(self, name: str, method: str, path: str, template: str, status: int, body: Any,
              query: dict[str, str] | None = None) -> None:
        request = MockRequest(SPEC_HOST, method.lower(), path, args=query or {})
        response = MockResponse(json.dumps(body).encode(), status_code=self.declared_status(name, method, template, status),
                                content_type="application/json")
        self.spec(name).validate_response(request, response)
