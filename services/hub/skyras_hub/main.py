"""Builds the hub app; `uvicorn skyras_hub.main:app` serves it.

Startup order matters: the registry, proxy client, auth, rate limiter and
fan-out exist before the first request; the workers (registry refresher,
pub/sub listener) run for the app's lifetime.
"""

from fastapi import FastAPI

from skyras.app import create_app
from skyras_hub import __version__
from skyras_hub.api.routes import agents, chat, events, proxy, registry
from skyras_hub.auth import open_auth
from skyras_hub.config import HubSettings, get_settings
from skyras_hub.live import open_fanout, run_pubsub_listener
from skyras_hub.proxy import close_proxy, open_proxy
from skyras_hub.ratelimit import open_rate_limiter
from skyras_hub.registry import Registry, load_registry, run_registry_refresher

DESCRIPTION = """\
The one door to SkyRas's agents.

* **agents**: requests under `/api/v2/agents/{agent}/...` are forwarded by the routes each
  agent declared in its manifest; `/api/v2/agents/status` checks them all.
* **registry**: agents (the local runner, the operator) register their routes here.
* **events**: the audit trail and a live server-sent-event stream.
* **chat**: a message goes to the agent it addresses or whose keywords match.

Auth: `Authorization: Bearer <key>` (create keys with `skyras keys create`). GET/HEAD need
the `read` scope, other methods `write` (`admin` implies both), registry writes `registry`.
In `loopback-open` mode (the local runner's default) requests from 127.0.0.1/::1 need no key,
except registry writes. Errors are always `{"error": {"code", "message", "details"}}`.
"""

TAGS = [
    {"name": "agents", "description": "Forwarding to agents and their health"},
    {"name": "registry", "description": "Agent registrations (routes, events, chat keywords)"},
    {"name": "events", "description": "The audit trail and live events"},
    {"name": "chat", "description": "Chat routed to the right agent"},
    {"name": "probes", "description": "Liveness, readiness and metrics (no key needed)"},
]


async def open_registry(app: FastAPI) -> None:
    app.state.registry = Registry()
    await load_registry(app)


def build_app(settings: HubSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    return create_app(
        settings,
        title="SkyRas Hub",
        version=__version__,
        description=DESCRIPTION,
        # Static paths first: /api/v2/agents/status must win over the forwarding catch-all.
        routers=[
            registry.router,
            agents.router,
            events.router,
            chat.router,
            proxy.router,
        ],
        workers=[run_registry_refresher, run_pubsub_listener],
        on_startup=[open_registry, open_proxy, open_auth, open_rate_limiter, open_fanout],
        on_shutdown=[close_proxy],
        openapi_tags=TAGS,
    )


app = build_app()
