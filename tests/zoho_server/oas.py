"""Zoho's official OpenAPI files, made loadable at test time: copied into a temporary folder with
their cross-file references rewritten to local paths and notes.json's dangling parameter patched
(only in the copy), then used through openapi-core to validate the server's responses."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

from jsonschema_path import SchemaPath
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from tests.conftest import ROOT

OAS_DIR = ROOT.parent / "shared" / "zoho-oas" / "v8.0"
REMOTE_PREFIX = "https://raw.githubusercontent.com/Zohocorp-Pvt-Ltd/crm-oas/refs/heads/main/v8.0/"
SPEC_HOST = "https://zohoapis.com"
CARRIES = "x-c2z-carries"  # marks the `required` a branch check adds (kept by _relax)
# the prepared files (by their digest) whose OpenAPI document this process has already checked: each
# test module prepares its own copy, of the same text, and checking one costs about a second
_SPEC_CHECKED: set[str] = set()
IF_MODIFIED_SINCE = {"name": "If-Modified-Since", "in": "header", "required": False,
                     "schema": {"type": "string", "format": "date-time"}}


def prepare(target: Path) -> Path:
    """Copy every OAS file into `target` with local references; return the folder."""
    target.mkdir(parents=True, exist_ok=True)
    docs: dict[str, Any] = {}
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
        if src.name == "record.json":
            # Zoho's answer to `page` past the first 2,000 records (Get Records page: "You can
            # only get the first 2000 records without using page_token param"); the file's code
            # enum, taken from samples, lacks it.
            doc["components"]["schemas"]["API_Exception"]["properties"]["code"]["enum"].append("DISCRETE_PAGINATION_LIMIT_EXCEEDED")
            # The record count: record.json types `count` a string, the official SDK
            # (record.CountWrapper.set_count: int) reads a number (record_count.json declares no body).
            count = doc["paths"]["/crm/v8/{module_api_name}/actions/count"]["get"]["responses"]["200"]
            count["content"]["application/json"]["schema"]["anyOf"][0]["properties"]["count"] = {"type": "integer"}
        docs[src.name] = doc
    for name, doc in docs.items():
        _answers_need_their_keys(doc, name, docs)
        text = json.dumps(_relax(_branches_need_their_keys(doc, name, docs)))
        (target / name).write_text(text, encoding="utf-8")
    return target


def _resolve(ref: str, here: str, docs: dict[str, Any]) -> tuple[Any, str]:
    """The schema a `$ref` points at (in this file or, as `./other.json#/...`, another)."""
    file_part, _, pointer = ref.partition("#")
    name = file_part[2:] if file_part.startswith("./") else (file_part or here)
    node: Any = docs.get(name)
    for part in pointer.strip("/").split("/") if pointer.strip("/") else []:
        if not isinstance(node, dict):
            return None, name
        node = node.get(part.replace("~1", "/").replace("~0", "~"))
    return node, name


def _object_keys(node: Any, here: str, docs: dict[str, Any], depth: int = 0) -> set[str] | None:
    """The property names an object schema declares (through `$ref`s and allOf), or None."""
    if depth > 8 or not isinstance(node, dict):
        return None
    if "$ref" in node:
        target, name = _resolve(node["$ref"], here, docs)
        return _object_keys(target, name, docs, depth + 1)
    keys = set(node.get("properties") or {})
    for part in node.get("allOf") or []:
        keys |= _object_keys(part, here, docs, depth + 1) or set()
    return keys or None


def _carrying(schema: Any, keys: set[str]) -> dict[str, Any]:
    """`schema`, taken only by an object with at least one of `keys` (or none at all)."""
    carries = [{"maxProperties": 0}] + [{"required": [k], CARRIES: True} for k in sorted(keys)]
    return {"allOf": [schema, {"anyOf": carries}]}


def _answers_need_their_keys(doc: dict[str, Any], here: str, docs: dict[str, Any]) -> None:
    """The same for an answer's whole body when the file declares a single shape for it (coql.json's
    `{data, info}`): a body with none of its keys is not that answer."""
    answers = [a for item in doc.get("paths", {}).values() for op in item.values() if isinstance(op, dict)
               for a in (op.get("responses") or {}).values()]
    answers += list(doc.get("components", {}).get("responses", {}).values())  # answers shared by `$ref`
    for answer in answers:
        for media in (answer.get("content") or {}).values() if isinstance(answer, dict) else ():
            schema = media.get("schema")
            if isinstance(schema, dict) and "anyOf" not in schema:
                keys = _object_keys(schema, here, docs)
                if keys:
                    media["schema"] = _carrying(schema, keys)


def _branches_need_their_keys(node: Any, here: str, docs: dict[str, Any]) -> Any:
    """With `required` dropped (see _relax), an alternative of an anyOf matches any object, so
    `{"org": [...]}` passes as an API_Exception and nothing in it is checked. Each object
    alternative is therefore taken only by an object that carries at least one of its declared
    keys (or no key at all): the answer is checked against the alternatives it can be."""
    if isinstance(node, list):
        return [_branches_need_their_keys(v, here, docs) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _branches_need_their_keys(v, here, docs) for k, v in node.items()}
    if isinstance(node.get("anyOf"), list):
        branches = []
        for alt in out["anyOf"]:
            keys = _object_keys(alt, here, docs)
            branches.append(_carrying(alt, keys) if keys else alt)
        out["anyOf"] = branches
    return out


def _relax(node: Any, names: bool = False) -> Any:
    """The files were generated from sample answers: every sampled key is `required` (even where
    Zoho itself omits it or answers `{}`), and string values carry `pattern`s copied from the
    samples (e.g. an email must be nine letters @ five letters .com). Both are dropped in the copy,
    and every value may be null; types, enums and structure are still checked. `names`: `node`
    maps property names to schemas (a `properties` object), not a schema."""
    if isinstance(node, dict):
        if names:
            # an error's `message` enum lists the samples' sentences (record.json's lacks Zoho's
            # own "invalid oauth scope to access this URL"): the code is the contract, not the prose
            return {key: _relax({k: v for k, v in value.items() if not (key == "message" and k == "enum")}
                                if isinstance(value, dict) else value) for key, value in node.items()}
        # The files' nullability comes from the same samples: Zoho's own sample answers carry
        # null where the file says not nullable (org's license_details.paid_expiry); a value
        # may be null, a present value is still checked.
        out: dict[str, Any] = {"nullable": True} if isinstance(node.get("type"), str) else {}
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                continue
            if key == "required" and isinstance(value, list) and not node.get(CARRIES):
                continue
            out[key] = _relax(value, names=key in ("properties", "patternProperties"))
        return out
    if isinstance(node, list):
        return [_relax(v) for v in node]
    return node


class Conformance:
    """Validates a response body against the schema the OAS file declares for the operation."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.specs: dict[str, OpenAPI] = {}
        self._files: dict[str, Any] = {}
        self._digests: dict[str, str] = {}

    def spec(self, name: str) -> OpenAPI:
        if name not in self.specs:
            uri = (self.folder / name).as_uri()
            # openapi-core's default reads a referenced file again, with PyYAML's pure-Python
            # parser, each time a check resolves a reference into it: read each file once, as JSON
            doc = self._read(uri)
            digest = self._digests[uri]
            config = Config(spec_validator_cls=None) if digest in _SPEC_CHECKED else None
            self.specs[name] = OpenAPI(SchemaPath.from_dict(doc, base_uri=uri, handlers={"file": self._read}),
                                       config=config)
            _SPEC_CHECKED.add(digest)
        return self.specs[name]

    def _read(self, uri: str) -> Any:
        """A prepared file by its file:// URI, parsed once (the checks only read it); the digest of
        its bytes kept beside it."""
        if uri not in self._files:
            data = Path(url2pathname(urlparse(uri).path)).read_bytes()
            self._files[uri] = json.loads(data)
            self._digests[uri] = hashlib.sha256(data).hexdigest()
        return self._files[uri]

    def declared_status(self, name: str, method: str, template: str, status: int) -> int:
        """Zoho answers 201/207 where the files declare only 200, and 401/404 where they declare
        only 200 or 400: validate against the declared answer of the same shape."""
        doc = self._read((self.folder / name).as_uri())
        codes = [int(c) for c in doc["paths"][template][method.lower()]["responses"] if c.isdigit()]
        if status in codes:
            return status
        if status >= 400 and 400 in codes:
            return 400  # e.g. a 401 INVALID_TOKEN: the file's error answer is the 400 one
        # 201/207, and errors where the file has none of its own: the declared success answer
        # (record.json's is `{data: [...]}` or API_Exception, the same error shape)
        return min(c for c in codes if c < 300)

    def check_auth_error(self, body: Any) -> None:
        """A 401 (INVALID_TOKEN, OAUTH_SCOPE_MISMATCH) can answer any call, while most files list
        only their own error codes: checked against record.json's API_Exception, which lists both."""
        self.check("record.json", "GET", "/crm/v8/Contacts", "/crm/v8/{module_api_name}", 401, body)

    def host(self, name: str, method: str, template: str) -> str:
        doc = self._read((self.folder / name).as_uri())
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
