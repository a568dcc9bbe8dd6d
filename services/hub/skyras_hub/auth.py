"""Who is calling and what they may do: API keys (`Authorization: Bearer sk_...`) and scopes.

Who fills it: `open_auth` at startup (the verified-key cache). Who reads it:
the dependencies in `api.deps`, which authenticate every /api/v2 request and
check the scope it needs.

Scopes: GET/HEAD/OPTIONS need `read`, other methods `write`; `admin` implies
both; registry writes need `registry` itself, in every mode. A route an
agent declared `public` (GET/HEAD only) needs no key in any mode: its caller
is `anonymous`, rate-limited per client address. In
`loopback-open` mode a request whose ASGI client address is loopback needs no
key (it gets read and write, never registry). That address is the socket
peer: uvicorn only rewrites it from X-Forwarded-For when the peer itself is in
FORWARDED_ALLOW_IPS (loopback by default), so a remote client cannot claim to
be local — do not set FORWARDED_ALLOW_IPS=* together with loopback-open.
"""

import hashlib
import ipaddress
import logging
import os
import time
from dataclasses import dataclass, field

from fastapi import FastAPI, Request

from skyras import apikeys
from skyras.db import Pool
from skyras.errors import ApiError
from skyras_hub import metrics
from skyras_hub.config import HubSettings

log = logging.getLogger("skyras_hub.auth")

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="skyras"'}


@dataclass(frozen=True)
class Principal:
    """The caller of one request."""

    name: str
    scopes: frozenset[str]
    client: str
    key_id: str | None = None

    def allows(self, scope: str) -> bool:
        if scope in self.scopes:
            return True
        return scope in ("read", "write") and "admin" in self.scopes

    @property
    def rate_limit_key(self) -> str:
        return f"key:{self.key_id}" if self.key_id else f"ip:{self.client}"


def anonymous(request: Request) -> Principal:
    """The caller of a public route: no key, no scopes, rate-limited by its address."""
    return Principal(
        name="anonymous", scopes=frozenset(), client=request.client.host if request.client else ""
    )


def is_loopback(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def required_scope(method: str) -> str:
    return "read" if method in READ_METHODS else "write"


@dataclass
class Authenticator:
    settings: HubSettings
    pool: Pool
    # sha256(key) -> (principal, expires at); misses are not cached.
    cache: dict[str, tuple[Principal, float]] = field(default_factory=dict)

    async def authenticate(self, request: Request, token: str | None) -> Principal:
        client = request.client.host if request.client else ""
        if token:
            return await self._verify(token, client)
        if self.settings.auth_mode == "loopback-open" and is_loopback(client):
            return Principal(name="loopback", scopes=frozenset({"read", "write"}), client=client)
        metrics.AUTH_FAILURES.labels("missing").inc()
        raise ApiError(
            401,
            "An API key is required: send Authorization: Bearer <key> (create one with `skyras keys create`)",
            code="unauthorized",
            headers=_CHALLENGE,
        )

    async def _verify(self, token: str, client: str) -> Principal:
        digest = hashlib.sha256(token.encode()).hexdigest()
        cached = self.cache.get(digest)
        now = time.monotonic()
        if cached and cached[1] > now:
            principal = cached[0]
            return Principal(principal.name, principal.scopes, client, principal.key_id)
        try:
            async with self.pool.connection() as conn:
                key = await apikeys.verify_key(conn, token)
        except Exception as exc:
            log.warning("API key check failed: %s", exc)
            raise ApiError(
                503, "The hub cannot check API keys right now (database unavailable)"
            ) from None
        if key is None:
            self.cache.pop(digest, None)
            metrics.AUTH_FAILURES.labels("invalid").inc()
            raise ApiError(
                401, "The API key is invalid or revoked", code="unauthorized", headers=_CHALLENGE
            )
        principal = Principal(key.name, frozenset(key.scopes), client, str(key.id))
        if self.settings.auth_cache_seconds > 0:
            if len(self.cache) > 10_000:
                self.cache.clear()
            self.cache[digest] = (principal, now + self.settings.auth_cache_seconds)
        return principal


def authorize(principal: Principal, scope: str) -> None:
    if principal.allows(scope):
        return
    if principal.key_id is None:
        # Loopback without a key: the answer is "bring a key", not "your key is too weak".
        metrics.AUTH_FAILURES.labels("missing").inc()
        raise ApiError(
            401,
            f"This needs an API key with the {scope!r} scope, even from loopback",
            code="unauthorized",
            details={"required_scope": scope},
            headers=_CHALLENGE,
        )
    metrics.AUTH_FAILURES.labels("scope").inc()
    raise ApiError(
        403,
        f"This needs the {scope!r} scope; the key {principal.name!r} has "
        f"{', '.join(sorted(principal.scopes)) or 'none'}",
        code="forbidden",
        details={"required_scope": scope, "scopes": sorted(principal.scopes)},
    )


async def open_auth(app: FastAPI) -> None:
    settings: HubSettings = app.state.settings
    app.state.auth = Authenticator(settings, app.state.pool)
    if settings.auth_mode == "loopback-open":
        log.info("auth mode loopback-open: requests from 127.0.0.1/::1 need no API key")
        if "*" in os.environ.get("FORWARDED_ALLOW_IPS", ""):
            log.warning(
                "FORWARDED_ALLOW_IPS=* with loopback-open lets any client claim to be local"
            )
