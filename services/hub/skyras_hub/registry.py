"""The route registry: each hub process's cache of the `agents` table, and route resolution.

Who fills it: the registry API (`PUT`/`DELETE`, which write Postgres, update
this process's cache at once and announce `registry.changed` on
`skyras:system`), the pub/sub listener in `live` (which asks for a reload
when any hub announces a change) and `run_registry_refresher`, which reloads
on request and every `registry_refresh_seconds` as a safety net (a change
announced while this hub's Redis connection was down is picked up then).
Who reads it: the proxy, agent status and chat, through `get`/`all`/`resolve`.
"""

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from redis.asyncio import Redis

from skyras.constants import REGISTRY_CHANGED, SYSTEM_CHANNEL, pubsub_channel
from skyras.db import Pool
from skyras.events import Event, encode
from skyras_hub import metrics, store, templates
from skyras_hub.models import AgentPublic

log = logging.getLogger("skyras_hub.registry")


@dataclass(frozen=True)
class CompiledRoute:
    path: str
    methods: tuple[str, ...]
    target: str
    public: bool  # served without an API key (GET/HEAD only; see proxy route)
    path_segments: tuple[templates.Segment, ...]
    target_segments: tuple[templates.Segment, ...]


@dataclass(frozen=True)
class RegisteredAgent:
    record: AgentPublic
    routes: tuple[CompiledRoute, ...]  # most specific first

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def endpoint(self) -> str:
        return self.record.endpoint

    def route_summaries(self) -> list[dict[str, Any]]:
        """The routes as declared (in declaration order), for people."""
        return [
            {"path": r.path, "methods": list(r.methods), "public": r.public}
            for r in self.record.routes
        ]


@dataclass(frozen=True)
class Resolution:
    """What a request path and method resolve to on one agent."""

    route: CompiledRoute | None = None
    target: str | None = None  # the agent-side path, parameters filled in
    allowed: tuple[str, ...] = ()  # when the path exists but not for this method


def compile_agent(record: AgentPublic) -> RegisteredAgent:
    routes = [
        CompiledRoute(
            path=r.path,
            methods=tuple(r.methods),
            target=r.target,
            public=r.public,
            path_segments=templates.parse_template(r.path),
            target_segments=templates.parse_template(r.target),
        )
        for r in record.routes
    ]
    # Stable sort: literal segments before parameters, declaration order otherwise.
    routes.sort(key=lambda r: templates.specificity(r.path_segments), reverse=True)
    return RegisteredAgent(record=record, routes=tuple(routes))


def resolve(agent: RegisteredAgent, raw_path: str, method: str) -> Resolution:
    """Find the declared route for a raw (percent-encoded) path below the agent's prefix."""
    parts = templates.split_raw_path(raw_path)
    if parts is None:
        return Resolution()
    allowed: list[str] = []
    for route in agent.routes:
        params = templates.match(route.path_segments, parts)
        if params is None:
            continue
        # HEAD is implied by GET, as HTTP expects (and the agent's framework answers it).
        if method in route.methods or (method == "HEAD" and "GET" in route.methods):
            return Resolution(route=route, target=templates.fill(route.target_segments, params))
        allowed.extend(m for m in route.methods if m not in allowed)
    return Resolution(allowed=tuple(allowed))


@dataclass
class Registry:
    agents: dict[str, RegisteredAgent] = field(default_factory=dict)
    reload_requested: asyncio.Event = field(default_factory=asyncio.Event)
    loaded: bool = False

    def get(self, name: str) -> RegisteredAgent | None:
        return self.agents.get(name)

    def all(self) -> list[RegisteredAgent]:
        return [self.agents[name] for name in sorted(self.agents)]

    def put(self, row: dict[str, Any]) -> RegisteredAgent:
        agent = compile_agent(AgentPublic.model_validate(row))
        self.agents = {**self.agents, agent.name: agent}
        metrics.REGISTERED_AGENTS.set(len(self.agents))
        return agent

    def remove(self, name: str) -> None:
        self.agents = {k: v for k, v in self.agents.items() if k != name}
        metrics.REGISTERED_AGENTS.set(len(self.agents))

    def request_reload(self) -> None:
        self.reload_requested.set()

    async def reload(self, pool: Pool) -> None:
        async with pool.connection() as conn:
            rows = await store.list_agents(conn=conn)
        agents: dict[str, RegisteredAgent] = {}
        for row in rows:
            try:
                agent = compile_agent(AgentPublic.model_validate(row))
            except ValueError:
                # A row written by hand or by an older hub: skip it rather than lose them all.
                log.warning("registry row for %r is invalid; ignoring it", row.get("name"))
                continue
            agents[agent.name] = agent
        # Swapped whole: readers never see a half-built table.
        self.agents = agents
        self.loaded = True
        metrics.REGISTERED_AGENTS.set(len(agents))


async def load_registry(app: FastAPI) -> None:
    """Startup hook: first load, without failing startup if Postgres is not up yet."""
    registry: Registry = app.state.registry
    try:
        await asyncio.wait_for(registry.reload(app.state.pool), timeout=5)
    except Exception as exc:
        log.warning("registry not loaded at startup (%s); retrying in the background", exc)
        registry.request_reload()


async def run_registry_refresher(app: FastAPI) -> None:
    """Worker: reload when a change is announced, and every `registry_refresh_seconds`."""
    registry: Registry = app.state.registry
    interval = app.state.settings.registry_refresh_seconds
    retry = 0.5
    while True:
        timeout = retry if not registry.loaded else interval
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(registry.reload_requested.wait(), timeout)
        registry.reload_requested.clear()
        try:
            await registry.reload(app.state.pool)
            retry = 0.5
        except Exception as exc:
            log.warning("registry reload failed (%s); keeping the cached routes", exc)
            registry.loaded = False
            retry = min(retry * 2, 5.0)


def change_event(name: str, action: str, version: str = "") -> Event:
    return Event(
        type=REGISTRY_CHANGED,
        source="/hub",
        subject=f"agents/{name}",
        data={"name": name, "action": action, "version": version},
    )


async def announce(redis: Redis, event: Event) -> None:
    """Tell every hub (and SSE clients) that the registry changed; best effort."""
    try:
        await redis.publish(pubsub_channel(SYSTEM_CHANNEL), encode(event))
    except Exception as exc:
        # Other hubs still converge through their periodic reload.
        log.warning("could not announce %s on Redis (%s)", event.type, exc)
