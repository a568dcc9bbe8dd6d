"""Forwarding to agents: one pooled HTTP client, bodies streamed both ways, a breaker per agent.

Who fills it: `open_proxy`/`close_proxy` (startup and shutdown hooks) create
and close the one `httpx.AsyncClient` of the app. Who reads it: the proxy
route (`forward`), agent status and chat (through `client` and `breaker`).

Nothing is buffered: the request body goes to the agent as it arrives
(`request.stream()`), the response comes back as it arrives (`aiter_raw`), and
the upstream response is closed however the client's response ends
(finished, failed or the client went away), which frees the pooled
connection. The circuit breaker counts transport failures only (refused,
timed out, broken connections); an agent's own 4xx/5xx answer is its
business and passes through.
"""

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
from fastapi import FastAPI, Request
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from skyras.errors import ApiError
from skyras_hub import metrics
from skyras_hub.config import HubSettings
from skyras_hub.registry import RegisteredAgent, resolve

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
    client: httpx.AsyncClient
    breakers: dict[str, CircuitBreaker] = field(default_factory=dict)

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


def build_client(settings: HubSettings) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=httpx.Timeout(
            connect=settings.proxy_connect_timeout,
            read=settings.proxy_read_timeout,
            write=settings.proxy_read_timeout,
            pool=settings.proxy_connect_timeout,
        ),
        limits=httpx.Limits(
            max_connections=settings.proxy_max_connections,
            max_keepalive_connections=settings.proxy_max_keepalive,
            # Below uvicorn's 5 s keep-alive, so we never reuse a connection the agent
            # is closing (that surfaces as "Server disconnected without a response").
            keepalive_expiry=4,
        ),
        follow_redirects=False,
        trust_env=False,  # agents are reached directly, never through an HTTP_PROXY
    )


async def open_proxy(app: FastAPI) -> None:
    app.state.proxy = Proxy(app.state.settings, build_client(app.state.settings))


async def close_proxy(app: FastAPI) -> None:
    await app.state.proxy.client.aclose()


def transport_error(agent: str, exc: httpx.TransportError) -> ApiError:
    """The JSON error a transport failure becomes, with its metric counted."""
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
        kind, status, message = "connect", 503, f"Agent {agent} is not reachable (it may be down)"
    elif isinstance(exc, httpx.PoolTimeout):
        kind, status, message = "pool", 503, f"The hub has too many requests open to agent {agent}"
    elif isinstance(exc, httpx.TimeoutException):
        kind, status, message = "timeout", 504, f"Agent {agent} did not answer in time"
    else:
        kind, status, message = "protocol", 502, f"Agent {agent} broke the connection"
    metrics.PROXY_ERRORS.labels(agent, kind).inc()
    code = {503: "agent_unavailable", 504: "agent_timeout", 502: "bad_gateway"}[status]
    return ApiError(status, message, code=code, details={"agent": agent, "error": kind})


def _connection_named(headers: list[tuple[bytes, bytes]]) -> set[str]:
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

    def __init__(self, upstream: httpx.Response, **kwargs: Any) -> None:
        super().__init__(upstream.aiter_raw(), **kwargs)
        self.upstream = upstream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # Shielded: on a client disconnect this scope is being cancelled.
            with anyio.CancelScope(shield=True):
                await self.upstream.aclose()


async def forward(proxy: Proxy, request: Request, agent: RegisteredAgent) -> UpstreamResponse:
    """Send `request` to `agent` by its declared routes; errors are ApiError (404/405/502/503/504)."""
    name = agent.name
    prefix = f"/api/v2/agents/{name}"
    raw_path = _raw_path(request)
    rest = raw_path[len(prefix) :] if raw_path.startswith(prefix) else ""
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
    upstream_request = proxy.client.build_request(
        request.method,
        url,
        headers=forward_headers(request, prefix),
        content=request.stream() if _has_body(request) else None,
    )
    breaker = proxy.check_breaker(name)
    started = time.perf_counter()
    try:
        upstream = await proxy.client.send(upstream_request, stream=True)
    except httpx.TransportError as exc:
        breaker.failure()
        log.warning("forwarding %s %s to %s failed: %r", request.method, rest, name, exc)
        raise transport_error(name, exc) from None
    except BaseException:
        breaker.release()
        raise
    breaker.success()
    metrics.PROXY_LATENCY.labels(name, route.path).observe(time.perf_counter() - started)
    metrics.PROXY_REQUESTS.labels(name, route.path, request.method, str(upstream.status_code)).inc()
    drop = _RESPONSE_DROP | _connection_named(upstream.headers.raw)
    headers = [
        (k.decode("latin-1"), v.decode("latin-1"))
        for k, v in upstream.headers.raw
        if k.decode("latin-1").lower() not in drop
    ]
    response = UpstreamResponse(upstream, status_code=upstream.status_code)
    # Set raw so repeated headers (Set-Cookie) survive and nothing is added (no media type).
    response.raw_headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    return response


def _raw_path(request: Request) -> str:
    raw = request.scope.get("raw_path")
    if raw:
        return raw.decode("latin-1").split("?", 1)[0]
    from urllib.parse import quote

    return quote(request.scope["path"])
