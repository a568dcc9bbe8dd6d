"""Forwarding by declared routes: templates, methods, query strings and headers."""

import asyncio
import time

import httpx

from skyras.testing import create_api_key

from .conftest import HubWithAgent
from .utils.agents import header_values
from .utils.hub import bearer


async def test_a_declared_route_reaches_its_target_with_parameters_filled(
    echo_hub: HubWithAgent,
) -> None:
    async with echo_hub.client() as client:
        response = await client.get("/api/v2/agents/echo/tasks/abc-123")
        nested = await client.get("/api/v2/agents/echo/tasks/7/files/f%20one")
    assert response.status_code == 200
    assert response.json()["path"] == "/api/tasks/abc-123"
    assert nested.json()["raw_path"] == "/api/x/f%20one/of/7"


async def test_the_seed_style_short_path_maps_to_the_agent_api(echo_hub: HubWithAgent) -> None:
    async with echo_hub.client() as client:
        response = await client.post(
            "/api/v2/agents/echo/task", json={"title": "Test task", "priority": "high"}
        )
    assert response.status_code == 200
    seen = response.json()
    assert (seen["method"], seen["path"]) == ("POST", "/api/tasks")
    assert seen["body"] == '{"title":"Test task","priority":"high"}'


async def test_a_parameter_does_not_span_segments(echo_hub: HubWithAgent) -> None:
    async with echo_hub.client() as client:
        response = await client.get("/api/v2/agents/echo/tasks/a/b")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "route_not_found"


async def test_literal_route_wins_over_template(echo_hub: HubWithAgent) -> None:
    async with echo_hub.client() as client:
        response = await client.get("/api/v2/agents/echo/tasks/search")
    assert response.json()["path"] == "/api/tasks/search"


async def test_the_agent_root_route_is_reachable(echo_hub: HubWithAgent) -> None:
    async with echo_hub.client() as client:
        with_slash = await client.get("/api/v2/agents/echo/")
        without = await client.get("/api/v2/agents/echo")
    assert with_slash.json()["path"] == "/api/root"
    assert without.json()["path"] == "/api/root"


async def test_wrong_method_is_405_json_with_allow_header(echo_hub: HubWithAgent) -> None:
    async with echo_hub.client() as client:
        response = await client.patch("/api/v2/agents/echo/tasks/1", json={})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, PUT, DELETE"
    assert response.json()["error"]["code"] == "method_not_allowed"


async def test_undeclared_path_is_404_json_naming_the_routes(echo_hub: HubWithAgent) -> None:
    async with echo_hub.client() as client:
        started = time.perf_counter()
        response = await client.get("/api/v2/agents/echo/secret/admin")
    assert time.perf_counter() - started < 0.5
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["details"]["agent"] == "echo"
    assert {"path": "/tasks/{id}", "methods": ["GET", "PUT", "DELETE"], "public": False} in (
        error["details"]["routes"]
    )
    assert "/tasks/{id}" in error["message"]
    assert echo_hub.log.requests == []


async def test_unknown_agent_is_404_json(echo_hub: HubWithAgent) -> None:
    async with echo_hub.client() as client:
        response = await client.get("/api/v2/agents/nobody/tasks")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "agent_not_found"
    assert response.json()["error"]["details"]["agents"] == ["echo"]


async def test_query_string_is_kept_exactly(echo_hub: HubWithAgent) -> None:
    async with echo_hub.client() as client:
        response = await client.get(
            "/api/v2/agents/echo/tasks?status=pending&tag=a&tag=b%20c&q=%26"
        )
    assert response.json()["query"] == "status=pending&tag=a&tag=b%20c&q=%26"


async def test_hop_by_hop_headers_are_not_forwarded(echo_hub: HubWithAgent) -> None:
    headers = {
        "Connection": "keep-alive, X-Private",
        "X-Private": "secret",
        "Keep-Alive": "timeout=5",
        "Proxy-Authorization": "Basic abc",
        "TE": "trailers",
        "Trailer": "X-Checksum",
        "X-Kept": "yes",
    }
    async with echo_hub.client() as client:
        response = await client.get("/api/v2/agents/echo/tasks", headers=headers)
    seen = response.json()
    for name in ("x-private", "keep-alive", "proxy-authorization", "te", "trailer"):
        assert header_values(seen, name) == [], name
    assert header_values(seen, "connection") in ([], ["keep-alive"])
    assert header_values(seen, "x-kept") == ["yes"]


async def test_host_is_rewritten_and_forwarded_headers_are_set(echo_hub: HubWithAgent) -> None:
    async with echo_hub.client() as client:
        response = await client.get("/api/v2/agents/echo/tasks")
    seen = response.json()
    assert header_values(seen, "host") == [echo_hub.agent.url.removeprefix("http://")]
    assert header_values(seen, "x-forwarded-for") == ["127.0.0.1"]
    assert header_values(seen, "x-forwarded-proto") == ["http"]
    assert header_values(seen, "x-forwarded-host") == [echo_hub.hub.url.removeprefix("http://")]
    assert header_values(seen, "x-forwarded-prefix") == ["/api/v2/agents/echo"]


async def test_forwarded_for_chain_keeps_the_original_client(
    echo_hub: HubWithAgent, database_url: str
) -> None:
    key = await create_api_key(database_url, "read")
    async with echo_hub.client() as client:
        response = await client.get(
            "/api/v2/agents/echo/tasks",
            headers={"X-Forwarded-For": "198.51.100.7, 203.0.113.9", **bearer(key)},
        )
    assert header_values(response.json(), "x-forwarded-for") == ["198.51.100.7, 203.0.113.9"]


async def test_request_id_is_kept_when_given(echo_hub: HubWithAgent) -> None:
    async with echo_hub.client() as client:
        response = await client.get("/api/v2/agents/echo/tasks", headers={"X-Request-ID": "req-42"})
    assert header_values(response.json(), "x-request-id") == ["req-42"]
    assert response.headers["x-request-id"] == "req-42"


async def test_request_id_is_created_when_missing(echo_hub: HubWithAgent) -> None:
    async with echo_hub.client() as client:
        response = await client.get("/api/v2/agents/echo/tasks")
    sent = header_values(response.json(), "x-request-id")
    assert len(sent) == 1 and len(sent[0]) >= 16
    assert response.headers["x-request-id"] == sent[0]


async def test_the_hub_api_key_is_not_passed_to_agents(echo_hub: HubWithAgent) -> None:
    async with echo_hub.client() as client:
        response = await client.put(
            "/api/v2/agents/echo/tasks/1",
            json={"title": "x"},
            headers={"Authorization": f"Bearer {echo_hub.registry_key}"},
        )
    # A registry-only key may not write through the proxy; without the key, loopback may.
    assert response.status_code == 403
    async with echo_hub.client() as client:
        response = await client.put("/api/v2/agents/echo/tasks/1", json={"title": "x"})
    assert header_values(response.json(), "authorization") == []


async def test_agent_response_headers_and_status_pass_through(echo_hub: HubWithAgent) -> None:
    async with echo_hub.client() as client:
        response = await client.delete("/api/v2/agents/echo/tasks/1")
    assert response.headers["x-agent"] == "echo"
    assert response.headers.get_list("set-cookie") == ["a=1"]
    assert len(response.headers.get_list("server")) == 1
    assert len(response.headers.get_list("date")) == 1


async def test_chunked_request_body_is_streamed_to_the_agent(echo_hub: HubWithAgent) -> None:
    async def body():  # type: ignore[no-untyped-def]
        for i in range(50):
            yield f"part {i};".encode()

    async with echo_hub.client() as client:
        response = await client.post("/api/v2/agents/echo/sink", content=body())
    assert response.json()["size"] == len("".join(f"part {i};" for i in range(50)))


async def test_response_streams_before_the_agent_finishes(echo_hub: HubWithAgent) -> None:
    async with echo_hub.client() as client:
        started = time.perf_counter()
        async with client.stream(
            "GET", "/api/v2/agents/echo/stream?chunks=20&delay=0.1"
        ) as response:
            first = await response.aiter_raw().__anext__()
            elapsed = time.perf_counter() - started
    assert first.startswith(b"chunk 0")
    assert elapsed < 1.0  # the whole body takes 2 s


async def test_client_disconnect_frees_the_upstream_response(echo_hub: HubWithAgent) -> None:
    async with (
        echo_hub.client() as client,
        client.stream("GET", "/api/v2/agents/echo/stream?chunks=100000&delay=0.01") as response,
    ):
        await response.aiter_raw().__anext__()
    await asyncio.wait_for(echo_hub.log.stream_closed.wait(), 3)
    sent = echo_hub.log.chunks_sent
    await asyncio.sleep(0.2)
    assert echo_hub.log.chunks_sent == sent
    assert sent < 100000


async def test_head_request_is_forwarded_without_a_body(echo_hub: HubWithAgent) -> None:
    async with echo_hub.client() as client:
        response = await client.head("/api/v2/agents/echo/tasks")
    assert response.status_code == 200
    assert response.content == b""
    assert echo_hub.log.requests[-1]["method"] == "HEAD"


async def test_static_hub_paths_win_over_forwarding(echo_hub: HubWithAgent) -> None:
    async with echo_hub.client() as client:
        status = await client.get("/api/v2/agents/status")
        wrong = await client.post("/api/v2/agents/status")
    assert status.status_code == 200 and "agents" in status.json()
    assert wrong.status_code == 405, wrong.text


async def test_percent_encoded_dot_segments_never_reach_an_agent(echo_hub: HubWithAgent) -> None:
    async with httpx.AsyncClient(base_url=echo_hub.hub.url) as client:
        response = await client.get("/api/v2/agents/echo/tasks/%2e%2e")
    assert response.status_code == 404
    assert echo_hub.log.requests == []
