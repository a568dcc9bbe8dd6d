"""Forwarding to agents: pooled HTTP clients, bodies streamed both ways, a breaker per agent.

Who fills it: `open_proxy`/`close_proxy` (startup and shutdown hooks) create
and close the app's one pooled `aiohttp.ClientSession` (`session`). Who reads
it: the proxy route (`forward`), agent status and chat (through `session`
and `breaker`).

aiohttp rather than httpx because forwarding is the hot path: measured on
this hub, httpx + httpcore cost about 0.8-1.5 ms of CPU per forwarded request
(h11 in pure Python, anyio locks and events, a failing `import sniffio` per
lock), aiohttp about 0.15 ms (bench/README.md, hub_overhead).

Nothing is buffered: the request body goes to the agent as it arrives
(`request.stream()`), the response comes back as it arrives, and the upstream
response is closed however the client's response ends (finished, failed or
the client went away), which frees the pooled connection (or closes it if
the body was not read to its end). The circuit breaker counts transport
failures only (refused, timed out, broken connections); an agent's own
4xx/5xx answer is its business and passes through.
"""

import logging
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from fastapi import FastAPI, Request
from prometheus_client import Counter, Histogram
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send
from yarl import URL

from skyras.errors import ApiError
from skyras_contract.routes import PUBLIC_METHODS
from skyras_hub import metrics
from skyras_hub.config import HubSettings
from skyras_hub.registry import RegisteredAgent, Resolution, resolve

log = logging.getLogger("skyras_hub.proxy")

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
# Not passed on to agents: the hub sets these itself, or (Authorization) they are the hub's own credential.
_REQUEST_DROP = HOP_BY_HOP | {
    "host",
    "expect",  # 100-continue was answered by the hub's server; the hub sends the body at once
    "authorization",
    "x-request-id",
    "x-forwarded-proto",
    "x-forwarded-host",
    "x-forwarded-prefix",
}
# uvicorn adds its own date and server headers; the agent's would be duplicates.
_RESPONSE_DROP = HOP_BY_HOP | {"date", "server"}

CLOSED, HALF_OPEN, OPEN = 0, 1, 2


@dataclass
class CircuitBreaker:
    """Closed -> open after `threshold` consecutive failures -> half-open after `reset_seconds`.

    Half-open lets one trial request through; its success closes the circuit,
    its failure opens it for another cool-down.
    """

    agent: str
    threshold: int
    reset_seconds: float
    state: int = CLOSED
    failures: int = 0
    opened_at: float = 0.0
    trial_running: bool = False

    def retry_after(self) -> float | None:
        """None when a request may go now; else seconds until one may."""
        if self.state == CLOSED:
            return None
        now = time.monotonic()
        if self.state == OPEN:
            remaining = self.opened_at + self.reset_seconds - now
            if remaining > 0:
                return remaining
            self._set(HALF_OPEN)
        if self.trial_running:
            return min(1.0, self.reset_seconds)
        self.trial_running = True
        return None

    def success(self) -> None:
        self.failures = 0
        self.trial_running = False
        if self.state != CLOSED:
            log.info("circuit for %s closed: the agent answers again", self.agent)
            self._set(CLOSED)

    def failure(self) -> None:
        self.failures += 1
        self.trial_running = False
        if self.state == HALF_OPEN or (self.state == CLOSED and self.failures >= self.threshold):
            log.warning(
                "circuit for %s open after %d failure(s); retrying in %.1fs",
                self.agent,
                self.failures,
                self.reset_seconds,
            )
            self.opened_at = time.monotonic()
            self._set(OPEN)

    def release(self) -> None:
        """The request ended without telling (cancelled): let another trial go."""
        self.trial_running = False

    def _set(self, state: int) -> None:
        self.state = state
        metrics.CIRCUIT_STATE.labels(self.agent).set(state)


@dataclass
class Proxy:
    settings: HubSettings
    session: aiohttp.ClientSession  # forwarding, agent status, chat
    breakers: dict[str, CircuitBreaker] = field(default_factory=dict)
    in_flight: int = 0  # forwarded requests holding a connection (tells pool waits apart)

    def breaker(self, agent: str) -> CircuitBreaker:
        breaker = self.breakers.get(agent)
        if breaker is None:
            breaker = CircuitBreaker(
                agent, self.settings.breaker_failure_threshold, self.settings.breaker_reset_seconds
            )
            self.breakers[agent] = breaker
            metrics.CIRCUIT_STATE.labels(agent).set(CLOSED)
        return breaker

    def check_breaker(self, agent: str) -> CircuitBreaker:
        """The agent's breaker, or a 503 with Retry-After when it is open."""
        breaker = self.breaker(agent)
        wait = breaker.retry_after()
        if wait is not None:
            metrics.PROXY_ERRORS.labels(agent, "circuit_open").inc()
            raise ApiError(
                503,
                f"Agent {agent} is failing; the hub stopped sending it requests for a moment",
                code="agent_unavailable",
                details={"agent": agent, "circuit": "open"},
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        return breaker


# Agents' response headers may be long (cookies); h11 (httpx) accepted them, so allow as much.
_MAX_HEADER_BYTES = 64 * 1024


def build_session(settings: HubSettings) -> aiohttp.ClientSession:
    """The hub's client to agents: pooled, with the proxy timeouts, nothing added.

    No cookie jar (an agent's Set-Cookie is for the caller, never for the hub's
    next request), no decompression (bytes pass as they are), and none of the
    headers aiohttp would add by itself: the agent sees the caller's headers.
    """
    connector = aiohttp.TCPConnector(
        limit=settings.proxy_max_connections,
        limit_per_host=0,
        # Below uvicorn's 5 s keep-alive, so we never reuse a connection the agent
        # is closing (that surfaces as "Server disconnected without a response").
        keepalive_timeout=4,
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(
            total=None,
            # Waiting for a pooled connection plus opening one.
            connect=settings.proxy_connect_timeout,
            sock_connect=settings.proxy_connect_timeout,
            # Between bytes of the agent's answer (headers and body).
            sock_read=settings.proxy_read_timeout,
        ),
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
        skip_auto_headers=("Accept", "Accept-Encoding", "User-Agent", "Content-Type"),
        trust_env=False,  # agents are reached directly, never through an HTTP_PROXY
        max_line_size=_MAX_HEADER_BYTES,
        max_field_size=_MAX_HEADER_BYTES,
    )


async def open_proxy(app: FastAPI) -> None:
    settings: HubSettings = app.state.settings
    app.state.proxy = Proxy(settings, build_session(settings))


async def close_proxy(app: FastAPI) -> None:
    await app.state.proxy.session.close()


# What forwarding treats as the agent's transport failing (counted by the breaker).
FORWARD_ERRORS = (aiohttp.ClientError, TimeoutError, OSError)


def _failure_kind(exc: BaseException, pool_full: bool = False) -> str:
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        # aiohttp's connect timeout covers waiting for a pooled connection too.
        return "pool" if pool_full else "connect"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return "connect"
    if isinstance(exc, TimeoutError):  # aiohttp's SocketTimeoutError (sock_read) included
        return "timeout"
    return "protocol"


def transport_error(agent: str, exc: BaseException, pool_full: bool = False) -> ApiError:
    """The JSON error a transport failure becomes, with its metric counted."""
    kind = _failure_kind(exc, pool_full)
    if kind == "connect":
        status, message = 503, f"Agent {agent} is not reachable (it may be down)"
    elif kind == "pool":
        status, message = 503, f"The hub has too many requests open to agent {agent}"
    elif kind == "timeout":
        status, message = 504, f"Agent {agent} did not answer in time"
    else:
        status, message = 502, f"Agent {agent} broke the connection"
    metrics.PROXY_ERRORS.labels(agent, kind).inc()
    code = {503: "agent_unavailable", 504: "agent_timeout", 502: "bad_gateway"}[status]
    return ApiError(status, message, code=code, details={"agent": agent, "error": kind})


def _connection_named(headers: Iterable[tuple[bytes, bytes]]) -> set[str]:
    named: set[str] = set()
    for key, value in headers:
        if key.lower() == b"connection":
            named.update(t.strip().lower() for t in value.decode("latin-1").split(",") if t.strip())
    return named


def forward_headers(request: Request, prefix: str) -> list[tuple[str, str]]:
    raw: list[tuple[bytes, bytes]] = request.scope["headers"]
    drop = _REQUEST_DROP | _connection_named(raw)
    headers: list[tuple[str, str]] = []
    forwarded_for: list[str] = []
    for key_b, value_b in raw:
        key = key_b.decode("latin-1").lower()
        value = value_b.decode("latin-1")
        if key == "x-forwarded-for":
            forwarded_for.append(value)
        elif key not in drop:
            headers.append((key, value))
    client = request.scope.get("client")
    # uvicorn may already have taken the client address from a trusted proxy's
    # X-Forwarded-For (FORWARDED_ALLOW_IPS); then it is the chain's last entry already.
    if client and (not forwarded_for or forwarded_for[-1].rsplit(",", 1)[-1].strip() != client[0]):
        forwarded_for.append(client[0])
    if forwarded_for:
        headers.append(("x-forwarded-for", ", ".join(forwarded_for)))
    headers.append(("x-forwarded-proto", request.url.scheme))
    host = request.headers.get("host")
    if host:
        headers.append(("x-forwarded-host", host))
    headers.append(("x-forwarded-prefix", prefix))
    headers.append(("x-request-id", request.state.request_id))
    return headers


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    if length is not None:
        return length.strip() != "0"
    return "transfer-encoding" in request.headers


class UpstreamResponse(StreamingResponse):
    """Streams an agent's response and always closes it, even when the client goes away."""

    def __init__(self, proxy: Proxy, upstream: aiohttp.ClientResponse, **kwargs: Any) -> None:
        super().__init__(upstream.content.iter_any(), **kwargs)
        self.proxy = proxy
        self.upstream = upstream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            if self.upstream.content.is_eof():
                # The whole body has arrived with the headers (the usual small JSON answer):
                # nothing left to wait for, so no task listening for the client going away.
                await self.stream_response(send)
            else:
                await super().__call__(scope, receive, send)
        finally:
            _close_upstream(self.proxy, self.upstream)


# Labelled children looked up once (`.labels()` validates and locks on every call); agents
# and route templates are registered ones, so this stays as bounded as the metrics themselves.
_children: dict[tuple[str, str, str, int], tuple[Histogram, Counter]] = {}


def _observe(agent: str, route: str, method: str, status: int, seconds: float) -> None:
    key = (agent, route, method, status)
    children = _children.get(key)
    if children is None:
        children = (
            metrics.PROXY_LATENCY.labels(agent, route),
            metrics.PROXY_REQUESTS.labels(agent, route, method, str(status)),
        )
        _children[key] = children
    children[0].observe(seconds)
    children[1].inc()


def _close_upstream(proxy: Proxy, upstream: aiohttp.ClientResponse) -> None:
    """Give the connection back to the pool when the body was read to its end; else close it."""
    proxy.in_flight -= 1
    if upstream.content.at_eof():
        upstream.release()
    else:
        upstream.close()


def _agent_path(request: Request, name: str) -> tuple[str, str]:
    """The agent's prefix and the raw path below it."""
    prefix = f"/api/v2/agents/{name}"
    raw_path = _raw_path(request)
    return prefix, raw_path[len(prefix) :] if raw_path.startswith(prefix) else ""


def resolve_request(request: Request, agent: RegisteredAgent) -> Resolution:
    """The declared route this request reaches on `agent` (the proxy route asks before
    authenticating, since a public route needs no key)."""
    return resolve(agent, _agent_path(request, agent.name)[1] or "/", request.method)


def is_public(resolution: Resolution, method: str) -> bool:
    """Whether the request may go without an API key: a public route, and only read."""
    return resolution.route is not None and resolution.route.public and method in PUBLIC_METHODS


async def forward(
    proxy: Proxy, request: Request, agent: RegisteredAgent, resolution: Resolution | None = None
) -> UpstreamResponse:
    """Send `request` to `agent` by its declared routes; errors are ApiError (404/405/502/503/504).

    `resolution` is `resolve_request`'s answer when the caller already has it."""
    name = agent.name
    prefix, rest = _agent_path(request, name)
    if resolution is None:
        resolution = resolve(agent, rest or "/", request.method)
    if resolution.route is None:
        if resolution.allowed:
            raise ApiError(
                405,
                f"{request.method} is not allowed on {prefix}{rest}; "
                f"allowed: {', '.join(resolution.allowed)}",
                details={"agent": name, "allowed": list(resolution.allowed)},
                headers={"Allow": ", ".join(resolution.allowed)},
            )
        declared = (
            ", ".join(f"{'|'.join(r['methods'])} {r['path']}" for r in agent.route_summaries())
            or "none"
        )
        raise ApiError(
            404,
            f"Agent {name} has no route {request.method} {rest or '/'}; its routes: {declared}",
            code="route_not_found",
            details={"agent": name, "routes": agent.route_summaries()},
        )
    assert resolution.target is not None
    route = resolution.route
    url = agent.endpoint + resolution.target
    query = request.scope.get("query_string", b"")
    if query:
        url += "?" + query.decode("latin-1")
    headers = forward_headers(request, prefix)
    breaker = proxy.check_breaker(name)
    started = time.perf_counter()
    pool_full = proxy.in_flight >= proxy.settings.proxy_max_connections
    proxy.in_flight += 1
    try:
        upstream = await proxy.session.request(
            request.method,
            URL(url, encoded=True),  # the path and query go exactly as the caller sent them
            headers=headers,
            data=request.stream() if _has_body(request) else None,
            allow_redirects=False,
        )
    except FORWARD_ERRORS as exc:
        proxy.in_flight -= 1
        breaker.failure()
        log.warning("forwarding %s %s to %s failed: %r", request.method, rest, name, exc)
        raise transport_error(name, exc, pool_full) from None
    except BaseException:
        proxy.in_flight -= 1
        breaker.release()
        raise
    breaker.success()
    _observe(name, route.path, request.method, upstream.status, time.perf_counter() - started)
    raw_headers = upstream.raw_headers
    drop = _RESPONSE_DROP | _connection_named(raw_headers)
    response = UpstreamResponse(proxy, upstream, status_code=upstream.status)
    # Set raw so repeated headers (Set-Cookie) survive and nothing is added (no media type).
    response.raw_headers = [
        (key, value)
        for key, value in ((k.lower(), v) for k, v in raw_headers)
        if key.decode("latin-1") not in drop
    ]
    return response


def _raw_path(request: Request) -> str:
    raw = request.scope.get("raw_path")
    if raw:
        return raw.decode("latin-1").split("?", 1)[0]
    from urllib.parse import quote

    return quote(request.scope["path"])
