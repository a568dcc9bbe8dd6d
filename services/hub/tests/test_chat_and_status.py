"""Chat routing by mention, field and keywords; agent status across healthy, sick and dead agents."""

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from skyras.embedded import free_port
from skyras.testing import ServedApp

from .utils.agents import agent_app
from .utils.hub import register, registration, running_hub


@dataclass
class Studio:
    hub: ServedApp


@pytest.fixture
async def studio(service_env: dict[str, str], registry_key: str) -> AsyncIterator[Studio]:
    async with (
        ServedApp(agent_app("marcus")) as marcus,
        ServedApp(agent_app("letitia")) as letitia,
        running_hub(service_env) as hub,
    ):
        agents = {
            "marcus": (marcus.url, ["task", "tasks", "due", "mix"], "Tasks and scheduling"),
            "letitia": (
                letitia.url,
                ["file", "files", "find", "vocals", "mix"],
                "The asset library",
            ),
            "ari": (f"http://127.0.0.1:{free_port()}", ["audio", "master"], "Audio finishing"),
        }
        for name, (url, keywords, description) in agents.items():
            body = registration(url, keywords=keywords, description=description)
            await register(hub.url, registry_key, name, body, expect=201)
        yield Studio(hub)


async def test_chat_by_mention_strips_the_mention(studio: Studio) -> None:
    async with studio.hub.client() as client:
        response = await client.post("/api/v2/chat", json={"message": "@letitia  make a task"})
    assert response.json() == {
        "agent": "letitia",
        "reply": "letitia heard: make a task",
        "data": {"agent": "letitia"},
    }


async def test_chat_agent_field_wins_over_keywords(studio: Studio) -> None:
    async with studio.hub.client() as client:
        response = await client.post(
            "/api/v2/chat", json={"message": "find vocals files", "agent": "marcus"}
        )
    assert response.json()["agent"] == "marcus"


async def test_chat_by_keywords_picks_the_best_match(studio: Studio) -> None:
    async with studio.hub.client() as client:
        tasks = await client.post("/api/v2/chat", json={"message": "Which tasks are due Friday?"})
        files = await client.post("/api/v2/chat", json={"message": "find vocals files"})
        tie = await client.post("/api/v2/chat", json={"message": "the mix"})
    assert tasks.json()["agent"] == "marcus"
    assert tasks.json()["reply"] == "marcus heard: Which tasks are due Friday?"
    assert files.json()["agent"] == "letitia"
    assert tie.json()["agent"] == "letitia"  # one word each: first by name


async def test_chat_without_a_match_lists_the_agents(studio: Studio) -> None:
    async with studio.hub.client() as client:
        response = await client.post("/api/v2/chat", json={"message": "hello there"})
    assert response.status_code == 200
    body = response.json()
    assert body["agent"] is None
    assert "@marcus: Tasks and scheduling" in body["reply"]
    assert "@letitia: The asset library" in body["reply"]
    assert [a["name"] for a in body["data"]["agents"]] == ["ari", "letitia", "marcus"]


async def test_chat_to_an_unknown_agent_is_404(studio: Studio) -> None:
    async with studio.hub.client() as client:
        response = await client.post("/api/v2/chat", json={"message": "@giorgio paint me"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "agent_not_found"


async def test_chat_to_a_down_agent_is_503_saying_so(studio: Studio) -> None:
    async with studio.hub.client() as client:
        started = time.perf_counter()
        response = await client.post("/api/v2/chat", json={"message": "master this audio"})
    assert time.perf_counter() - started < 1.0
    assert response.status_code == 503
    assert "ari" in response.json()["error"]["message"]


async def test_chat_rejects_an_empty_message(studio: Studio) -> None:
    async with studio.hub.client() as client:
        response = await client.post("/api/v2/chat", json={"message": ""})
    assert response.status_code == 422


def _sick_agent() -> FastAPI:
    app = FastAPI()

    @app.get("/health")
    async def health() -> JSONResponse:
        return JSONResponse({"status": "not ready"}, status_code=503)

    return app


def _hanging_agent() -> FastAPI:
    import asyncio

    app = FastAPI()

    @app.get("/health")
    async def health() -> dict[str, str]:
        await asyncio.sleep(3)
        return {"status": "ok"}

    return app


async def test_agent_status_reports_each_agent_concurrently(
    service_env: dict[str, str], registry_key: str
) -> None:
    async with (
        ServedApp(agent_app("marcus")) as marcus,
        ServedApp(_sick_agent()) as sick,
        ServedApp(_hanging_agent()) as hanging,
        running_hub(service_env, status_timeout_seconds=0.5) as hub,
        hub.client() as client,
    ):
        empty = (await client.get("/api/v2/agents/status")).json()
        assert empty == {"status": "ok", "agents": []}
        for name, url in (
            ("marcus", marcus.url),
            ("sick", sick.url),
            ("hanging", hanging.url),
            ("dead", f"http://127.0.0.1:{free_port()}"),
        ):
            body = registration(url, description=f"{name} agent", version="0.1.0")
            await register(hub.url, registry_key, name, body, expect=201)
        started = time.perf_counter()
        status = (await client.get("/api/v2/agents/status")).json()
        elapsed = time.perf_counter() - started
    assert elapsed < 1.0  # one timeout, not one per agent
    assert status["status"] == "degraded"
    by_name = {a["name"]: a for a in status["agents"]}
    assert [a["name"] for a in status["agents"]] == ["dead", "hanging", "marcus", "sick"]
    assert by_name["marcus"]["status"] == "healthy"
    assert "error" not in by_name["marcus"]
    assert by_name["marcus"]["endpoint"] == marcus.url
    assert by_name["marcus"]["version"] == "0.1.0"
    assert by_name["marcus"]["description"] == "marcus agent"
    assert by_name["marcus"]["latency_ms"] >= 0
    assert {"path": "/task", "methods": ["POST"], "public": False} in by_name["marcus"]["routes"]
    assert by_name["sick"]["status"] == "unhealthy"
    assert by_name["hanging"]["status"] == "down"
    assert by_name["dead"]["status"] == "down"
    assert by_name["dead"]["error"]
