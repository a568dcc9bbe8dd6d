"""The registry API: create, replace, read, delete, validation, and agreement between hubs."""

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx

from skyras.manifests import load_manifests
from skyras.testing import ServedApp, ServiceProcess, create_api_key

from .utils.agents import agent_app
from .utils.hub import ECHO_ROUTES, bearer, register, registration, running_hub

REPO = Path(__file__).resolve().parents[3]


async def test_put_creates_then_replaces_and_returns_the_record(
    service_env: dict[str, str], registry_key: str
) -> None:
    async with running_hub(service_env) as hub:
        body = registration("http://127.0.0.1:9001/", keywords=["Task"], version="1.0.0")
        created = await register(hub.url, registry_key, "marcus", body, expect=201)
        record = created.json()
        assert record["name"] == "marcus"
        assert record["endpoint"] == "http://127.0.0.1:9001"
        assert record["chat"]["keywords"] == ["task"]
        assert record["routes"][0] == {
            "path": "/task", "methods": ["POST"], "target": "/api/tasks", "public": False
        }  # fmt: skip

        body["version"] = "1.1.0"
        replaced = await register(hub.url, registry_key, "marcus", body, expect=200)
        assert replaced.json()["version"] == "1.1.0"
        assert replaced.json()["registered_at"] == record["registered_at"]

        async with hub.client() as client:
            one = await client.get("/api/v2/registry/agents/marcus")
            listing = await client.get("/api/v2/registry/agents")
        assert one.json()["version"] == "1.1.0"
        assert listing.json()["count"] == 1
        assert [a["name"] for a in listing.json()["items"]] == ["marcus"]


async def test_delete_removes_the_agent_and_its_routes(
    service_env: dict[str, str], registry_key: str
) -> None:
    async with ServedApp(agent_app("echo")) as agent, running_hub(service_env) as hub:
        await register(hub.url, registry_key, "echo", registration(agent.url), expect=201)
        async with hub.client() as client:
            assert (await client.get("/api/v2/agents/echo/tasks")).status_code == 200
            deleted = await client.delete(
                "/api/v2/registry/agents/echo", headers=bearer(registry_key)
            )
            assert deleted.status_code == 204
            gone = await client.get("/api/v2/agents/echo/tasks")
            assert gone.status_code == 404
            assert gone.json()["error"]["code"] == "agent_not_found"
            again = await client.delete(
                "/api/v2/registry/agents/echo", headers=bearer(registry_key)
            )
            assert again.status_code == 404
            missing = await client.get("/api/v2/registry/agents/echo")
            assert missing.status_code == 404


def _with(**changes: Any) -> dict[str, Any]:
    body = registration("http://127.0.0.1:9001")
    body.update(changes)
    return body


BAD_BODIES = {
    "ftp endpoint": _with(endpoint="ftp://files.example"),
    "endpoint without host": _with(endpoint="http://"),
    "endpoint with credentials": _with(endpoint="http://u:p@example:1"),
    "unknown method": _with(routes=[{"path": "/a", "methods": ["FETCH"], "target": "/a"}]),
    "no methods": _with(routes=[{"path": "/a", "methods": [], "target": "/a"}]),
    "dot-dot path": _with(routes=[{"path": "/a/../b", "methods": ["GET"], "target": "/b"}]),
    "dot-dot target": _with(routes=[{"path": "/a", "methods": ["GET"], "target": "/../etc"}]),
    "relative path": _with(routes=[{"path": "a", "methods": ["GET"], "target": "/a"}]),
    "half parameter": _with(routes=[{"path": "/a/x{id}", "methods": ["GET"], "target": "/a"}]),
    "target parameter not in path": _with(
        routes=[{"path": "/a", "methods": ["GET"], "target": "/a/{id}"}]
    ),
    "duplicate path and method": _with(
        routes=[
            {"path": "/t/{id}", "methods": ["GET"], "target": "/a"},
            {"path": "/t/{n}", "methods": ["get", "PUT"], "target": "/b"},
        ]
    ),
    "bad event type": _with(publishes=["Task Created"]),
    "unknown field": _with(route=[]),
    "missing endpoint": {"routes": []},
}


async def test_bad_registration_is_422_json(service_env: dict[str, str], registry_key: str) -> None:
    async with running_hub(service_env) as hub:
        for case, body in BAD_BODIES.items():
            response = await register(hub.url, registry_key, "agent", body)
            assert response.status_code == 422, (case, response.text)
            error = response.json()["error"]
            assert error["code"] == "validation_error", case
            assert error["message"], case
        async with hub.client() as client:
            assert (await client.get("/api/v2/registry/agents")).json()["count"] == 0


async def test_bad_or_reserved_agent_name_is_422_json(
    service_env: dict[str, str], registry_key: str
) -> None:
    async with running_hub(service_env) as hub:
        for name in ["Marcus", "-x", "a_b", "x" * 64, "status", "registry", "chat"]:
            response = await register(hub.url, registry_key, name, registration("http://x:1"))
            assert response.status_code == 422, name
            assert name in response.json()["error"]["message"]


async def test_every_sample_manifest_registers(
    service_env: dict[str, str], registry_key: str
) -> None:
    manifests = load_manifests(REPO / "manifests" / "agents")
    assert {"marcus", "letitia"} <= {m.name for m in manifests}
    async with running_hub(service_env) as hub:
        for manifest in manifests:
            body = manifest.registration_body(f"http://127.0.0.1:{manifest.spec.port}")
            await register(hub.url, registry_key, manifest.name, body, expect=201)


async def test_registry_writes_announce_a_registry_changed_event(
    service_env: dict[str, str], registry_key: str
) -> None:
    async with running_hub(service_env) as hub:
        await register(hub.url, registry_key, "echo", registration("http://x:1"), expect=201)
        async with hub.client() as client:
            events = (await client.get("/api/v2/events?type=registry.changed")).json()["items"]
    assert [(e["subject"], e["data"]["action"]) for e in events] == [("agents/echo", "registered")]


async def test_two_hub_processes_agree_within_a_second(
    service_env: dict[str, str], tmp_path: Path
) -> None:
    key = await create_api_key(service_env["SKYRAS_DATABASE_URL"], "registry", "read")
    env = {**service_env, "SKYRAS_AUTH_MODE": "required", "SKYRAS_LOG_LEVEL": "WARNING",
           # Only pub/sub may make them agree this fast.
           "SKYRAS_REGISTRY_REFRESH_SECONDS": "600"}  # fmt: skip
    first = ServiceProcess("skyras_hub.main:app", env, log=tmp_path / "hub1.log")
    second = ServiceProcess("skyras_hub.main:app", env, log=tmp_path / "hub2.log")
    await asyncio.gather(asyncio.to_thread(first.start), asyncio.to_thread(second.start))
    try:
        async with (
            ServedApp(agent_app("echo")) as agent,
            httpx.AsyncClient(base_url=second.url, headers=bearer(key), timeout=5) as client,
        ):
            assert (await client.get("/api/v2/agents/echo/tasks")).status_code == 404
            await register(first.url, key, "echo", registration(agent.url), expect=201)
            started = time.perf_counter()
            while (response := await client.get("/api/v2/agents/echo/tasks")).status_code != 200:
                assert time.perf_counter() - started < 1.0, response.text
                await asyncio.sleep(0.02)

            routes = [r for r in ECHO_ROUTES if r["path"] != "/tasks"]
            await register(first.url, key, "echo", registration(agent.url, routes), expect=200)
            started = time.perf_counter()
            while (await client.get("/api/v2/agents/echo/tasks")).status_code != 404:
                assert time.perf_counter() - started < 1.0
                await asyncio.sleep(0.02)
    finally:
        await asyncio.gather(asyncio.to_thread(first.stop), asyncio.to_thread(second.stop))
