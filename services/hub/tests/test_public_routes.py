"""Public routes: a route declared `public: true` (GET/HEAD only) needs no API key.

A podcast app fetching a feed and a calendar client subscribing send no
Authorization header; everything else still needs a key, as before.
"""

import logging
from typing import Any

import httpx

from skyras.testing import ServedApp, create_api_key

from .utils.agents import AgentLog, agent_app
from .utils.hub import bearer, register, registration, running_hub

ROUTES: list[dict[str, Any]] = [
    {"path": "/feed.xml", "methods": ["GET", "HEAD"], "target": "/api/feed.xml", "public": True},
    # The same path for writes, declared apart and not public.
    {"path": "/feed.xml", "methods": ["POST"], "target": "/api/feed.xml"},
    {"path": "/media/{id}", "methods": ["GET"], "target": "/api/media/{id}", "public": True},
    {"path": "/tasks", "methods": ["GET", "POST"], "target": "/api/tasks"},
]
REMOTE = ("203.0.113.5", 40000)  # a podcast app somewhere on the internet


class _Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _remote_client(hub: ServedApp, client: tuple[str, int] = REMOTE) -> httpx.AsyncClient:
    app = hub.server.config.app
    transport = httpx.ASGITransport(app=app, client=client)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://hub")


async def test_required_mode_serves_public_reads_without_a_key_and_nothing_else(
    service_env: dict[str, str], registry_key: str
) -> None:
    url = service_env["SKYRAS_DATABASE_URL"]
    writer = await create_api_key(url, "write", name="writer")
    log = AgentLog()
    async with (
        ServedApp(agent_app("jamal", log)) as agent,
        running_hub(service_env, auth_mode="required") as hub,
        hub.client() as client,
    ):
        await register(hub.url, registry_key, "jamal", registration(agent.url, ROUTES), expect=201)
        logged = _Recorder()
        public_log = logging.getLogger("skyras_hub.public")
        level = public_log.level
        public_log.addHandler(logged)
        public_log.setLevel(logging.INFO)  # these hubs run at WARNING
        try:
            feed = await client.get("/api/v2/agents/jamal/feed.xml?page=2")
        finally:
            public_log.removeHandler(logged)
            public_log.setLevel(level)
        assert feed.status_code == 200, feed.text
        assert feed.json()["path"] == "/api/feed.xml" and feed.json()["query"] == "page=2"
        # Logged, with who asked.
        assert logged.messages == [
            "anonymous GET /api/v2/agents/jamal/feed.xml from 127.0.0.1 (public route /feed.xml)"
        ]
        head = await client.head("/api/v2/agents/jamal/feed.xml")
        assert head.status_code == 200
        media = await client.get("/api/v2/agents/jamal/media/ep1", headers={"Range": "bytes=0-9"})
        assert media.status_code == 200 and media.json()["path"] == "/api/media/ep1"
        assert ["range", "bytes=0-9"] in media.json()["headers"]
        # The Authorization header is not read on a public route (nor passed on).
        stale = await client.get("/api/v2/agents/jamal/feed.xml", headers=bearer("sk_old_key"))
        assert stale.status_code == 200
        assert "authorization" not in {k for k, _ in stale.json()["headers"]}

        # A write to the same path needs a key, and works with one.
        post = await client.post("/api/v2/agents/jamal/feed.xml", json={})
        assert post.status_code == 401 and post.json()["error"]["code"] == "unauthorized"
        posted = await client.post("/api/v2/agents/jamal/feed.xml", json={}, headers=bearer(writer))
        assert posted.status_code == 200 and posted.json()["method"] == "POST"
        # A path public for GET only: other methods are asked for a key, not told 405.
        assert (await client.delete("/api/v2/agents/jamal/media/ep1")).status_code == 401
        assert (await client.options("/api/v2/agents/jamal/feed.xml")).status_code == 401
        # Routes not marked public, unknown paths and unknown agents: 401 as before.
        for path in ("/api/v2/agents/jamal/tasks", "/api/v2/agents/jamal/nope", "/api/v2/agents/x"):
            response = await client.get(path)
            assert response.status_code == 401, path
            assert response.headers["www-authenticate"].startswith("Bearer")
    assert [r["method"] for r in log.requests] == ["GET", "HEAD", "GET", "GET", "POST"]


async def test_public_routes_need_no_key_from_remote_clients_in_loopback_open_mode(
    service_env: dict[str, str], registry_key: str
) -> None:
    async with (
        ServedApp(agent_app("jamal")) as agent,
        running_hub(service_env, auth_mode="loopback-open") as hub,
        _remote_client(hub) as remote,
    ):
        await register(hub.url, registry_key, "jamal", registration(agent.url, ROUTES), expect=201)
        assert (await remote.get("/api/v2/agents/jamal/feed.xml")).status_code == 200
        assert (await remote.get("/api/v2/agents/jamal/tasks")).status_code == 401


async def test_anonymous_reads_are_rate_limited_per_client_address(
    service_env: dict[str, str], registry_key: str
) -> None:
    async with (
        ServedApp(agent_app("jamal")) as agent,
        running_hub(
            service_env, auth_mode="required", rate_limit_per_minute=60, rate_limit_burst=2
        ) as hub,
        _remote_client(hub) as first,
        _remote_client(hub, ("198.51.100.7", 40000)) as second,
    ):
        await register(hub.url, registry_key, "jamal", registration(agent.url, ROUTES), expect=201)
        statuses = [
            (await first.get("/api/v2/agents/jamal/feed.xml")).status_code for _ in range(3)
        ]
        assert statuses == [200, 200, 429]
        limited = await first.get("/api/v2/agents/jamal/feed.xml")
        assert limited.json()["error"]["code"] == "rate_limited" and limited.headers["retry-after"]
        assert (await second.get("/api/v2/agents/jamal/feed.xml")).status_code == 200


async def test_registry_shows_the_flag_and_refuses_a_public_write_route(
    service_env: dict[str, str], registry_key: str
) -> None:
    read_key = await create_api_key(service_env["SKYRAS_DATABASE_URL"], "read")
    async with running_hub(service_env, auth_mode="required") as hub, hub.client() as client:
        created = await register(
            hub.url, registry_key, "jamal", registration("http://127.0.0.1:9", ROUTES), expect=201
        )
        assert [r["public"] for r in created.json()["routes"]] == [True, False, True, False]
        listed = await client.get("/api/v2/registry/agents", headers=bearer(read_key))
        (record,) = listed.json()["items"]
        assert record["routes"][0] == ROUTES[0]
        status = await client.get("/api/v2/agents/status", headers=bearer(read_key))
        (agent,) = status.json()["agents"]
        assert {"path": "/feed.xml", "methods": ["GET", "HEAD"], "public": True} in agent["routes"]

        for methods in (["GET", "POST"], ["OPTIONS"], ["delete"]):
            route = {"path": "/upload", "methods": methods, "target": "/api/x", "public": True}
            refused = await register(
                hub.url, registry_key, "other", registration("http://127.0.0.1:9", [route])
            )
            assert refused.status_code == 422, methods
            error = refused.json()["error"]
            assert error["code"] == "validation_error"
            assert (
                "route /upload is public (no API key), so it may only be read" in (error["message"])
            ), error["message"]
        after = await client.get("/api/v2/registry/agents", headers=bearer(read_key))
        assert after.json()["count"] == 1  # nothing written for the refused bodies
