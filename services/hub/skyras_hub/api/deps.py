"""The hub's injection points, as `Annotated` aliases the routes take.

`AuthDep` authenticates the caller, checks the scope the request's method
needs and takes a rate-limit token; `RegistryWriterDep` does the same but
needs the `registry` scope; `RegistryReaderDep` takes `read` or `registry`.
All show up as the Bearer scheme in /docs. The forwarding route calls
`get_principal` itself, or `admit_anonymous` for a public route (it must
resolve the route before it knows which).

Every dependency is `async def`, even the trivial ones: FastAPI runs a plain
`def` dependency in its thread pool, a thread hop per request for nothing.
"""

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from skyras.deps import PoolDep, RedisDep
from skyras_hub.auth import Authenticator, Principal, anonymous, authorize, required_scope
from skyras_hub.config import HubSettings
from skyras_hub.live import Fanout
from skyras_hub.proxy import Proxy
from skyras_hub.ratelimit import RateLimiter
from skyras_hub.registry import Registry

__all__ = [
    "AuthDep",
    "Credentials",
    "FanoutDep",
    "PoolDep",
    "ProxyDep",
    "RedisDep",
    "RegistryDep",
    "RegistryReaderDep",
    "RegistryWriterDep",
    "SettingsDep",
]

bearer = HTTPBearer(
    auto_error=False,
    description="An API key from `skyras keys create`; not needed from loopback in loopback-open mode",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]


async def _principal(request: Request, credentials: Credentials, *scopes: str) -> Principal:
    """The caller, if it has one of `scopes` (the first is named when it has none)."""
    auth: Authenticator = request.app.state.auth
    principal = await auth.authenticate(request, credentials.credentials if credentials else None)
    if not any(principal.allows(scope) for scope in scopes):
        authorize(principal, scopes[0])
    limiter: RateLimiter = request.app.state.rate_limiter
    await limiter.check(principal)
    return principal


async def get_principal(request: Request, credentials: Credentials) -> Principal:
    return await _principal(request, credentials, required_scope(request.method))


async def admit_anonymous(request: Request) -> Principal:
    """A public route's caller: no key looked at, a rate-limit token per client address."""
    principal = anonymous(request)
    limiter: RateLimiter = request.app.state.rate_limiter
    await limiter.check(principal)
    return principal


async def get_registry_writer(request: Request, credentials: Credentials) -> Principal:
    return await _principal(request, credentials, "registry")


async def get_registry_reader(request: Request, credentials: Credentials) -> Principal:
    """Reading the registry: any `read` key, and the operator's `registry` key, which
    checks what it registered (it holds no other scope)."""
    return await _principal(request, credentials, "read", "registry")


async def get_settings(request: Request) -> HubSettings:
    return request.app.state.settings


async def get_registry(request: Request) -> Registry:
    return request.app.state.registry


async def get_proxy(request: Request) -> Proxy:
    return request.app.state.proxy


async def get_fanout(request: Request) -> Fanout:
    return request.app.state.fanout


AuthDep = Annotated[Principal, Depends(get_principal)]
RegistryWriterDep = Annotated[Principal, Depends(get_registry_writer)]
RegistryReaderDep = Annotated[Principal, Depends(get_registry_reader)]
SettingsDep = Annotated[HubSettings, Depends(get_settings)]
RegistryDep = Annotated[Registry, Depends(get_registry)]
ProxyDep = Annotated[Proxy, Depends(get_proxy)]
FanoutDep = Annotated[Fanout, Depends(get_fanout)]
