"""Forwarding: `/api/v2/agents/{agent}/{path}` goes to the agent by the routes it declared."""

import logging
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute

from skyras.errors import ApiError
from skyras_hub import proxy
from skyras_hub.api.deps import Credentials, admit_anonymous, get_principal
from skyras_hub.api.routes import agents
from skyras_hub.models import HTTP_METHODS
from skyras_hub.registry import Registry

log = logging.getLogger("skyras_hub.public")

router = APIRouter(prefix="/api/v2/agents", tags=["agents"])

# The hub's own paths that `/{agent}` would otherwise swallow for other methods.
_STATIC_METHODS = {
    route.path: sorted(route.methods or ())
    for route in agents.router.routes
    if isinstance(route, APIRoute)
}

_DESCRIPTION = """\
Forwards the request to the agent by the routes its manifest declared: the path
below `/api/v2/agents/{agent}` is matched against the route templates (a `{param}`
matches one segment), the method must be one the route lists, and the request goes
to the route's target on the agent with the query string unchanged. A route the agent
declared `public` (GET/HEAD only, such as Jamal's podcast feed and Marcus's
calendar.ics) needs no API key in any auth mode; every other request does. Bodies stream
both ways. Hop-by-hop headers are dropped, `X-Forwarded-For/Proto/Host/Prefix` and
`X-Request-ID` are set.

Examples (the seed's calls, as the manifests declare them):
`POST /api/v2/agents/marcus/task` → marcus `POST /api/tasks`;
`GET /api/v2/agents/marcus/tasks` → marcus `GET /api/tasks`;
`POST /api/v2/agents/letitia/upload` → letitia `POST /api/files`;
`POST /api/v2/agents/letitia/search` → letitia `POST /api/search`.
"""

_ERR = {
    "application/json": {"example": {"error": {"code": "...", "message": "...", "details": None}}}
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The agent's response, streamed as it comes"},
    401: {"description": "No API key, or an invalid one (never on a public route's GET/HEAD)"},
    403: {"description": "The key lacks the scope (read for GET/HEAD, write otherwise)"},
    404: {
        "description": "Unknown agent, or a path the agent did not declare",
        "content": {
            "application/json": {
                "example": {
                    "error": {
                        "code": "route_not_found",
                        "message": "Agent marcus has no route GET /nope; its routes: POST /task, ...",
                        "details": {
                            "agent": "marcus",
                            "routes": [{"path": "/task", "methods": ["POST"]}],
                        },
                    }
                }
            }
        },
    },
    405: {
        "description": "The path exists for other methods (see the Allow header)",
        "content": _ERR,
    },
    429: {"description": "Rate limited (see Retry-After)", "content": _ERR},
    502: {"description": "The agent broke the connection", "content": _ERR},
    503: {
        "description": "The agent is down, or its circuit is open (see Retry-After)",
        "content": _ERR,
    },
    504: {"description": "The agent did not answer within the read timeout", "content": _ERR},
}


async def forward_to_agent(
    agent: str, path: str, request: Request, credentials: Credentials
) -> Response:
    """Forward to the agent's declared route."""
    # The registry and the proxy are read from app.state directly, not as dependencies:
    # this is the hub's hot path and every FastAPI dependency costs time per request.
    registry: Registry = request.app.state.registry
    registered = registry.get(agent)
    # The route decides whether a key is needed, so it is resolved before authenticating.
    resolution = proxy.resolve_request(request, registered) if registered else None
    if resolution is not None and proxy.is_public(resolution, request.method):
        principal = await admit_anonymous(request)
        log.info(
            "anonymous %s %s from %s (public route %s)",
            request.method,
            request.url.path,
            principal.client,
            resolution.route.path if resolution.route else "",
        )
    else:
        await get_principal(request, credentials)
    if registered is None:
        raise ApiError(
            404,
            f"No agent named {agent!r} is registered",
            code="agent_not_found",
            details={"agent": agent, "agents": [a.name for a in registry.all()]},
        )
    return await proxy.forward(request.app.state.proxy, request, registered, resolution)


async def forward_to_agent_root(agent: str, request: Request, credentials: Credentials) -> Response:
    allowed = _STATIC_METHODS.get(request.url.path)
    if allowed:
        # A hub path such as /api/v2/agents/status, called with another method.
        raise ApiError(
            405,
            f"Method {request.method} is not allowed on {request.url.path}",
            headers={"Allow": ", ".join(allowed)},
        )
    return await forward_to_agent(agent, "", request, credentials)


# One route per method, so that each has its own operation in the OpenAPI document.
for _method in HTTP_METHODS:
    router.add_api_route(
        "/{agent}/{path:path}",
        forward_to_agent,
        methods=[_method],
        operation_id=f"forward_{_method.lower()}_to_agent",
        summary=f"Forward a {_method} request to an agent",
        description=_DESCRIPTION,
        responses=_RESPONSES,
        response_class=Response,
    )
router.add_api_route(
    "/{agent}",
    forward_to_agent_root,
    methods=list(HTTP_METHODS),
    include_in_schema=False,
    response_class=Response,
)
