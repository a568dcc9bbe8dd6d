"""Fixtures for hub tests: a hub with an echo agent registered, and API keys."""

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from skyras.testing import ServedApp, create_api_key, serve

from .utils.agents import AgentLog, agent_app
from .utils.hub import register, registration, running_hub


@dataclass
class HubWithAgent:
    hub: ServedApp
    agent: ServedApp
    log: AgentLog
    registry_key: str

    def client(self, **kwargs: object) -> httpx.AsyncClient:
        return self.hub.client(**kwargs)  # type: ignore[arg-type]


@pytest.fixture
async def registry_key(database_url: str) -> str:
    return await create_api_key(database_url, "registry", name="registrar")


@pytest.fixture
async def echo_hub(service_env: dict[str, str], registry_key: str) -> AsyncIterator[HubWithAgent]:
    """A loopback-open hub with agent `echo` registered (routes: tests.utils.hub.ECHO_ROUTES)."""
    log = AgentLog()
    async with serve(agent_app("echo", log)) as agent, running_hub(service_env) as hub:
        await register(hub.url, registry_key, "echo", registration(agent.url), expect=201)
        yield HubWithAgent(hub, agent, log, registry_key)
