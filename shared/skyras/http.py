"""The ASGI middleware every service runs: request ids, access logs, metrics.

A plain ASGI middleware rather than Starlette's BaseHTTPMiddleware, so that
streamed bodies (uploads, downloads, server-sent events) pass untouched.
"""

import logging
import re
import time
import uuid

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from skyras import metrics
from skyras.logs import correlation_id_var, request_id_var

log = logging.getLogger("skyras.http")

REQUEST_ID_HEADER = "x-request-id"
CORRELATION_ID_HEADER = "x-correlation-id"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
_QUIET_PATHS = frozenset({"/health", "/ready", "/metrics"})


def header_value(scope: Scope, name: bytes) -> bytes | None:
    """The first value of header `name` (lower-case, as ASGI gives names), or None."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


def _header(scope: Scope, name: bytes) -> str | None:
    value = header_value(scope, name)
    text = value.decode("latin-1") if value is not None else ""
    return text if _SAFE_ID.match(text) else None


class RequestContextMiddleware:
    """Keeps or creates X-Request-ID, sets the log context, logs and counts the request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _header(scope, b"x-request-id") or uuid.uuid4().hex
        correlation_id = _header(scope, b"x-correlation-id") or request_id
        rid_token = request_id_var.set(request_id)
        cid_token = correlation_id_var.set(correlation_id)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
                _observe(scope, status, time.perf_counter() - started)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
            path = scope.get("path", "")
            if path not in _QUIET_PATHS or status >= 400:
                log.info(
                    "%s %s %s %.2fms",
                    scope.get("method"),
                    path,
                    status,
                    elapsed_ms,
                    extra={"status": status, "duration_ms": elapsed_ms, "path": path},
                )
            request_id_var.reset(rid_token)
            correlation_id_var.reset(cid_token)


# The labelled children, looked up once per (method, route, status): `.labels()` validates
# and locks on every call. Bounded like the metrics' own label sets.
_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}


def _observe(scope: Scope, status: int, seconds: float) -> None:
    route = scope.get("route")
    template = getattr(route, "path", None) or "unmatched"
    method = scope.get("method", "")
    key = (method, template, status)
    children = _children.get(key)
    if children is None:
        children = (
            metrics.HTTP_REQUESTS.labels(method, template, str(status)),
            metrics.HTTP_LATENCY.labels(method, template),
        )
        _children[key] = children
    children[0].inc()
    children[1].observe(seconds)
