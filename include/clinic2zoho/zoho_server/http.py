"""How the local server answers: Zoho's JSON error body (ApiError) and JSON responses. Every route
module imports these from here, never from app.py, so no module imports the app that imports it."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response


class ApiError(Exception):
    """A refused call, answered `{"code", "details", "message", "status": "error"}` (record.json's
    API_Exception), optionally wrapped in a list under `wrap` (`{"data": [...]}`) as write routes do."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None,
                 wrap: str | None = None) -> None:
        super().__init__(code)
        self.status, self.code, self.message, self.details, self.wrap = status, code, message, details or {}, wrap

    def response(self) -> Response:
        body: Any = {"code": self.code, "details": self.details, "message": self.message, "status": "error"}
        if self.wrap:
            body = {self.wrap: [body]}
        return jresp(body, self.status)


def jresp(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    if status == 204:
        return Response(status_code=204, headers=headers)
    return Response(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode(), status_code=status,
                    headers=headers, media_type="application/json;charset=UTF-8")
