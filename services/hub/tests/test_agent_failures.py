"""An agent that is down, slow or failing gets a fast JSON answer, never a hang."""

import asyncio
import time

import httpx

from skyras.embedded import free_port
from skyras.testing import ServedApp

from .utils.agents import agent_app
from .utils.hub import metric_value, register, registration, running_hub


async def test_agent_killed_mid_run_is_503_fast_and_works_again_when_back(
    service_env: dict[str, str], registry_key: str
) -> None:
    port = free_port()
    async with running_hub(service_env) as hub, hub.client() as client:
        async with ServedApp(agent_app("echo"), port=port) as agent:
            await register(hub.url, registry_key, "echo", registration(agent.url), expect=201)
            assert (await client.get("/api/v2/agents/echo/tasks")).status_code == 200

        started = time.perf_counter()
        down = await client.get("/api/v2/agents/echo/tasks")
        assert time.perf_counter() - started < 1.0
        assert down.status_code == 503
        assert down.json()["error"]["code"] == "agent_unavailable"
        assert "echo" in down.json()["error"]["message"]

        async with ServedApp(agent_app("echo"), port=port):
            back = await client.get("/api/v2/agents/echo/tasks")
        assert back.status_code == 200


async def test_slow_agent_is_504(service_env: dict[str, str], registry_key: str) -> None:
    async with (
        ServedApp(agent_app("echo")) as agent,
        running_hub(service_env, proxy_read_timeout=0.3) as hub,
        hub.client() as client,
    ):
        await register(hub.url, registry_key, "echo", registration(agent.url), expect=201)
        started = time.perf_counter()
        response = await client.get("/api/v2/agents/echo/slow?seconds=1.5")
        assert time.perf_counter() - started < 1.0
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "agent_timeout"


async def test_circuit_opens_after_failures_and_recovers(
    service_env: dict[str, str], registry_key: str
) -> None:
    port = free_port()
    settings = {"breaker_failure_threshold": 2, "breaker_reset_seconds": 0.5}
    async with running_hub(service_env, **settings) as hub, hub.client() as client:
        await register(
            hub.url, registry_key, "flaky", registration(f"http://127.0.0.1:{port}"), expect=201
        )
        for _ in range(2):
            failed = await client.get("/api/v2/agents/flaky/tasks")
            assert failed.status_code == 503
            assert failed.json()["error"]["details"]["error"] == "connect"

        opened = await client.get("/api/v2/agents/flaky/tasks")
        assert opened.status_code == 503
        assert opened.json()["error"]["details"]["circuit"] == "open"
        assert opened.headers["retry-after"] == "1"
        text = (await client.get("/metrics")).text
        assert metric_value(text, "skyras_hub_circuit_state", {"agent": "flaky"}) == 2

        async with ServedApp(agent_app("flaky"), port=port):
            # Still open during the cool-down, even though the agent is back.
            assert (await client.get("/api/v2/agents/flaky/tasks")).status_code == 503
            await asyncio.sleep(0.6)
            recovered = await client.get("/api/v2/agents/flaky/tasks")
            assert recovered.status_code == 200
            text = (await client.get("/metrics")).text
        assert metric_value(text, "skyras_hub_circuit_state", {"agent": "flaky"}) == 0


async def test_half_open_trial_failure_opens_the_circuit_again(
    service_env: dict[str, str], registry_key: str
) -> None:
    port = free_port()
    settings = {"breaker_failure_threshold": 1, "breaker_reset_seconds": 0.3}
    async with running_hub(service_env, **settings) as hub, hub.client() as client:
        await register(
            hub.url, registry_key, "gone", registration(f"http://127.0.0.1:{port}"), expect=201
        )
        assert (await client.get("/api/v2/agents/gone/tasks")).json()["error"]["details"] == {
            "agent": "gone",
            "error": "connect",
        }
        await asyncio.sleep(0.35)
        trial = await client.get("/api/v2/agents/gone/tasks")
        assert trial.json()["error"]["details"]["error"] == "connect"
        again = await client.get("/api/v2/agents/gone/tasks")
        assert again.json()["error"]["details"]["circuit"] == "open"


async def test_unreachable_agent_never_hangs_the_hub(
    service_env: dict[str, str], registry_key: str
) -> None:
    # 192.0.2.0/24 is reserved for documentation: connecting there times out.
    async with running_hub(service_env, proxy_connect_timeout=0.3) as hub, hub.client() as client:
        await register(
            hub.url, registry_key, "void", registration("http://192.0.2.1:9"), expect=201
        )
        started = time.perf_counter()
        try:
            response = await client.get("/api/v2/agents/void/tasks")
        except httpx.HTTPError as exc:  # pragma: no cover - reported as a failure below
            raise AssertionError(f"the hub did not answer: {exc!r}") from exc
        assert time.perf_counter() - started < 1.5
    assert response.status_code == 503
