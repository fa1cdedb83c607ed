"""The ASGI middleware in front of every /crm/ call: the org's concurrency limit, injected dropped
connections and late 5xx answers (after the write was done), and the call log GET /__admin/calls
reads."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .http import ApiError

if TYPE_CHECKING:
    from .app import ZohoServer

MAX_CALLS_KEPT = 5_000
CALLS_SHOWN = 1_000


class CallLog:
    """The last API calls (what ZohoServer.guard noted in the request scope) and a count per operation."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.counts: dict[str, int] = {}

    def record(self, scope: dict[str, Any], status: int, duration: float) -> None:
        info = scope.get("c2z")
        if not info:
            return
        op = info["op"]
        self.counts[op] = self.counts.get(op, 0) + 1
        self.calls.append({"op": op, "method": scope["method"], "path": scope["path"], "module": info.get("module"),
                           "records": info.get("records", 0), "credits": info.get("credits", 0), "status": status,
                           "ms": round(duration * 1000, 2)})
        if len(self.calls) > MAX_CALLS_KEPT:
            del self.calls[:1_000]  # the oldest thousand

    def clear(self) -> None:
        self.calls.clear()
        self.counts.clear()

    def summary(self) -> dict[str, Any]:
        return {"total": sum(self.counts.values()), "by_op": self.counts, "calls": self.calls[-CALLS_SHOWN:]}


class FaultsAndConcurrency:
    """ASGI middleware: concurrency per org, injected drops and late 5xx, the call log."""

    def __init__(self, app: Any, server: ZohoServer) -> None:
        self.app, self.server = app, server

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/crm/"):
            await self.app(scope, receive, send)
            return
        server = self.server
        limits = server.limits
        if limits.in_flight >= limits.concurrency():
            await ApiError(429, "TOO_MANY_REQUESTS", "concurrency limit exceeded").response()(scope, receive, send)
            return
        limits.in_flight += 1
        started = time.perf_counter()
        status_box = {"status": 0}
        is_write = scope["method"] in ("POST", "PUT", "DELETE", "PATCH")
        late_5xx = is_write and limits.roll("error_5xx_after_write_rate")
        drop = limits.roll("drop_rate")
        held: list[dict[str, Any]] = []

        async def wrapped_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status_box["status"] = message["status"]
            if late_5xx and status_box["status"] < 400:
                held.append(message)
                return
            if drop and message["type"] == "http.response.body":
                body = message.get("body", b"")
                await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
                raise ConnectionAbortedError("injected dropped connection")
            await send(message)

        try:
            await self.app(scope, receive, wrapped_send)
            if late_5xx and held:
                status_box["status"] = 500
                await ApiError(500, "INTERNAL_ERROR", "Internal server error occurred.").response()(scope, receive, send)
        finally:
            limits.in_flight -= 1
            server.call_log.record(scope, status_box["status"], time.perf_counter() - started)
