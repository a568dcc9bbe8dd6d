"""API keys and scopes in both auth modes; rate limits per key and client."""

import asyncio

import httpx

from skyras import apikeys
from skyras.db import connect
from skyras.embedded import free_port
from skyras.testing import ServedApp, create_api_key

from .utils.agents import agent_app
from .utils.hub import bearer, register, registration, running_hub

GET_TASKS = ("GET", "/api/v2/agents/echo/tasks")
POST_TASK = ("POST", "/api/v2/agents/echo/task")
READ_REGISTRY = ("GET", "/api/v2/registry/agents")
WRITE_REGISTRY = ("PUT", "/api/v2/registry/agents/other")
READ_EVENTS = ("GET", "/api/v2/events")
CHAT = ("POST", "/api/v2/chat")


async def _call(client: httpx.AsyncClient, call: tuple[str, str], key: str | None) -> int:
    method, path = call
    body: dict[str, object] = {"title": "x"}
    if call == WRITE_REGISTRY:
        body = registration("http://127.0.0.1:1")
    elif call == CHAT:
        body = {"message": "hello"}
    response = await client.request(method, path, json=body, headers=bearer(key) if key else {})
    return response.status_code


async def test_required_mode_checks_every_scope(service_env: dict[str, str]) -> None:
    url = service_env["SKYRAS_DATABASE_URL"]
    registrar = await create_api_key(url, "registry")
    keys = {scope: await create_api_key(url, scope, name=scope) for scope in apikeys.API_KEY_SCOPES}
    expected = {
        # scope: (GET proxied, POST proxied, registry GET, registry PUT, events, chat)
        "read": (200, 403, 200, 403, 200, 403),
        "write": (403, 200, 403, 403, 403, 200),
        "admin": (200, 200, 200, 403, 200, 200),
        # The operator reads back what it registered (and nothing else).
        "registry": (403, 403, 200, 201, 403, 403),
    }
    calls = (GET_TASKS, POST_TASK, READ_REGISTRY, WRITE_REGISTRY, READ_EVENTS, CHAT)
    async with (
        ServedApp(agent_app("echo")) as agent,
        running_hub(service_env, auth_mode="required") as hub,
        hub.client() as client,
    ):
        await register(hub.url, registrar, "echo", registration(agent.url), expect=201)
        for scope, statuses in expected.items():
            got = []
            for call in calls:
                got.append(await _call(client, call, keys[scope]))
                if call == WRITE_REGISTRY and got[-1] == 201:
                    await client.delete("/api/v2/registry/agents/other", headers=bearer(registrar))
            assert tuple(got) == statuses, scope


async def test_required_mode_without_a_key_is_401_json_with_a_challenge(
    service_env: dict[str, str],
) -> None:
    async with running_hub(service_env, auth_mode="required") as hub, hub.client() as client:
        for method, path in (GET_TASKS, POST_TASK, READ_EVENTS, ("GET", "/api/v2/agents/status")):
            response = await client.request(method, path)
            assert response.status_code == 401, path
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert response.json()["error"]["code"] == "unauthorized"
        bad = await client.get("/api/v2/events", headers=bearer("sk_nope_nope"))
        assert bad.status_code == 401
        basic = await client.get("/api/v2/events", headers={"Authorization": "Basic dTpw"})
        assert basic.status_code == 401
        for open_path in ("/health", "/ready", "/metrics", "/docs", "/openapi.json"):
            assert (await client.get(open_path)).status_code == 200, open_path


async def test_revoked_key_is_401(service_env: dict[str, str]) -> None:
    url = service_env["SKYRAS_DATABASE_URL"]
    key = await create_api_key(url, "read", name="leaving")
    conn = await connect(url)
    try:
        await apikeys.revoke_key(conn, "leaving")
        await conn.commit()
    finally:
        await conn.close()
    async with running_hub(service_env, auth_mode="required") as hub, hub.client() as client:
        assert (await client.get("/api/v2/events", headers=bearer(key))).status_code == 401


async def test_loopback_open_needs_no_key_from_loopback_but_registry_writes_do(
    service_env: dict[str, str],
) -> None:
    read_key = await create_api_key(service_env["SKYRAS_DATABASE_URL"], "read")
    async with (
        ServedApp(agent_app("echo")) as agent,
        running_hub(service_env, auth_mode="loopback-open") as hub,
        hub.client() as client,
    ):
        no_key = await client.put("/api/v2/registry/agents/echo", json=registration(agent.url))
        assert no_key.status_code == 401
        wrong_scope = await client.put(
            "/api/v2/registry/agents/echo", json=registration(agent.url), headers=bearer(read_key)
        )
        assert wrong_scope.status_code == 403
        assert wrong_scope.json()["error"]["details"]["required_scope"] == "registry"
        registrar = await create_api_key(service_env["SKYRAS_DATABASE_URL"], "registry")
        await register(hub.url, registrar, "echo", registration(agent.url), expect=201)
        assert (await _call(client, GET_TASKS, None)) == 200
        assert (await _call(client, POST_TASK, None)) == 200
        assert (await _call(client, READ_EVENTS, None)) == 200
        # A key, when given, is checked even from loopback.
        assert (await _call(client, POST_TASK, read_key)) == 403
        assert (await _call(client, GET_TASKS, "sk_bad_key")) == 401


async def test_loopback_open_does_not_trust_forwarded_for_from_remote_clients(
    service_env: dict[str, str],
) -> None:
    async with running_hub(service_env, auth_mode="loopback-open") as hub:
        app = hub.server.config.app
        remote = httpx.ASGITransport(app=app, client=("203.0.113.5", 40000))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=remote, base_url="http://hub") as client:
            spoofed = await client.get(
                "/api/v2/events", headers={"X-Forwarded-For": "127.0.0.1", "X-Real-IP": "::1"}
            )
        assert spoofed.status_code == 401
        local = httpx.ASGITransport(app=app, client=("::1", 40000))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=local, base_url="http://hub") as client:
            assert (await client.get("/api/v2/events")).status_code == 200


async def test_rate_limit_gives_429_with_retry_after_per_key(service_env: dict[str, str]) -> None:
    url = service_env["SKYRAS_DATABASE_URL"]
    first, second = await create_api_key(url, "read"), await create_api_key(url, "read")
    async with (
        running_hub(
            service_env, auth_mode="required", rate_limit_per_minute=60, rate_limit_burst=3
        ) as hub,
        hub.client() as client,
    ):
        statuses = [
            (await client.get("/api/v2/events", headers=bearer(first))).status_code
            for _ in range(4)
        ]
        assert statuses == [200, 200, 200, 429]
        limited = await client.get("/api/v2/events", headers=bearer(first))
        assert limited.status_code == 429
        assert limited.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(limited.headers["retry-after"]) <= 2
        # Another key has its own bucket; probes are never limited.
        assert (await client.get("/api/v2/events", headers=bearer(second))).status_code == 200
        for _ in range(5):
            assert (await client.get("/health")).status_code == 200
        # Tokens come back at 1 per second.
        await asyncio.sleep(1.05)
        assert (await client.get("/api/v2/events", headers=bearer(first))).status_code == 200


async def test_rate_limit_per_scope_override_and_per_client_without_key(
    service_env: dict[str, str],
) -> None:
    admin = await create_api_key(service_env["SKYRAS_DATABASE_URL"], "admin")
    async with (
        running_hub(
            service_env,
            rate_limit_per_minute=60,
            rate_limit_burst=2,
            rate_limit_scopes={"admin": 6000},
        ) as hub,
        hub.client() as client,
    ):
        anonymous = [(await client.get("/api/v2/events")).status_code for _ in range(3)]
        assert anonymous == [200, 200, 429]
        # 6000/min refills 100 tokens a second: an admin key is not held back by the burst.
        admin_statuses = set()
        for _ in range(6):
            admin_statuses.add(
                (await client.get("/api/v2/events", headers=bearer(admin))).status_code
            )
            await asyncio.sleep(0.02)
        assert admin_statuses == {200}


async def test_rate_limiting_fails_open_when_redis_is_down(service_env: dict[str, str]) -> None:
    env = {**service_env, "SKYRAS_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
    app_settings = {"rate_limit_per_minute": 60, "rate_limit_burst": 1}
    from skyras_hub.main import build_app

    from .utils.hub import hub_settings

    async with (
        ServedApp(build_app(hub_settings(env, **app_settings))) as hub,
        hub.client() as client,
    ):
        statuses = [(await client.get("/api/v2/events")).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
