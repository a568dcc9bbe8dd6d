"""hub.HubClient against a small local registry stand-in speaking the hub's wire contract."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from skyras_operator import hub

TOKEN = "sk-registry-test"


class Registry:
    """In-memory registry: records every call; answers like the hub's API."""

    def __init__(self) -> None:
        self.agents: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str, str | None, Any]] = []
        self.fail_with: int | None = None


def _handler(registry: Registry) -> type[BaseHTTPRequestHandler]:
    prefix = "/api/v2/registry/agents"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep pytest output clean
            pass

        def _reply(self, status: int, payload: Any = None) -> None:
            body = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            if payload is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            payload = json.loads(self.rfile.read(length)) if length else None
            registry.calls.append(
                (self.command, self.path, self.headers.get("Authorization"), payload)
            )
            if registry.fail_with:
                self._reply(
                    registry.fail_with,
                    {"error": {"code": "unavailable", "message": "down", "details": None}},
                )
                return
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._reply(
                    401, {"error": {"code": "unauthorized", "message": "bad key", "details": None}}
                )
                return
            if self.path == prefix and self.command == "GET":
                self._reply(200, {"agents": list(registry.agents.values())})
                return
            name = self.path.removeprefix(prefix + "/")
            if self.command == "PUT":
                if not payload or not str(payload.get("endpoint", "")).startswith("http"):
                    details = [{"loc": ["endpoint"], "msg": "must be an http(s) URL"}]
                    self._reply(
                        422,
                        {
                            "error": {
                                "code": "validation_error",
                                "message": "invalid registration",
                                "details": details,
                            }
                        },
                    )
                    return
                created = name not in registry.agents
                registry.agents[name] = {
                    "name": name,
                    **payload,
                    "registered_at": "2025-01-01T00:00:00Z",
                }
                self._reply(201 if created else 200, registry.agents[name])
            elif self.command == "GET":
                if name in registry.agents:
                    self._reply(200, registry.agents[name])
                else:
                    self._reply(
                        404, {"error": {"code": "not_found", "message": name, "details": None}}
                    )
            elif self.command == "DELETE":
                if registry.agents.pop(name, None) is None:
                    self._reply(
                        404, {"error": {"code": "not_found", "message": name, "details": None}}
                    )
                else:
                    self._reply(204)

        do_GET = do_PUT = do_DELETE = _handle

    return Handler


@pytest.fixture
def registry() -> Iterator[tuple[Registry, str]]:
    state = Registry()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


REGISTRATION = {
    "endpoint": "http://127.0.0.1:8001",
    "routes": [{"path": "/task", "methods": ["POST"], "target": "/api/tasks"}],
    "publishes": ["task.created"],
    "subscribes": ["file.uploaded"],
    "chat": {"keywords": ["task"], "description": "Tasks"},
    "version": "0.1.0",
    "description": "Tasks",
}


async def test_register_puts_the_record_with_the_registry_token(registry: Any) -> None:
    state, url = registry
    client = hub.HubClient(url + "/", TOKEN)
    try:
        stored = await client.register_agent("marcus", REGISTRATION)
        again = await client.register_agent("marcus", REGISTRATION)
    finally:
        await client.aclose()
    assert stored["endpoint"] == "http://127.0.0.1:8001"
    assert again == stored
    method, path, auth, body = state.calls[0]
    assert (method, path, auth) == ("PUT", "/api/v2/registry/agents/marcus", f"Bearer {TOKEN}")
    assert body == REGISTRATION


async def test_get_list_and_deregister(registry: Any) -> None:
    state, url = registry
    client = hub.HubClient(url, TOKEN)
    try:
        assert await client.get_agent("marcus") is None
        await client.register_agent("marcus", REGISTRATION)
        record = await client.get_agent("marcus")
        assert record is not None and record["routes"] == REGISTRATION["routes"]
        assert [a["name"] for a in await client.list_agents()] == ["marcus"]
        assert await client.deregister_agent("marcus") is True
        # Unknown is done, not an error.
        assert await client.deregister_agent("marcus") is False
        assert await client.list_agents() == []
    finally:
        await client.aclose()
    assert [c[0] for c in state.calls] == ["GET", "PUT", "GET", "GET", "DELETE", "DELETE", "GET"]


async def test_invalid_registration_is_rejected_with_the_hubs_details(registry: Any) -> None:
    _, url = registry
    client = hub.HubClient(url, TOKEN)
    try:
        with pytest.raises(hub.HubRejected) as caught:
            await client.register_agent("marcus", {**REGISTRATION, "endpoint": "nowhere"})
    finally:
        await client.aclose()
    assert caught.value.status_code == 422
    assert "invalid registration" in str(caught.value)
    assert caught.value.details == [{"loc": ["endpoint"], "msg": "must be an http(s) URL"}]


@pytest.mark.parametrize("status", [500, 502, 503, 429])
async def test_server_errors_are_worth_retrying(registry: Any, status: int) -> None:
    state, url = registry
    state.fail_with = status
    client = hub.HubClient(url, TOKEN)
    try:
        with pytest.raises(hub.HubUnavailable, match=str(status)):
            await client.register_agent("marcus", REGISTRATION)
    finally:
        await client.aclose()


async def test_a_wrong_token_is_retried_not_fatal(registry: Any) -> None:
    _, url = registry
    client = hub.HubClient(url, "wrong")
    try:
        with pytest.raises(hub.HubUnavailable, match="401"):
            await client.register_agent("marcus", REGISTRATION)
    finally:
        await client.aclose()


async def test_an_unreachable_hub_is_unavailable() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = hub.HubClient(f"http://127.0.0.1:{port}", TOKEN, timeout=1.0)
    try:
        with pytest.raises(hub.HubUnavailable, match="unreachable"):
            await client.get_agent("marcus")
    finally:
        await client.aclose()
