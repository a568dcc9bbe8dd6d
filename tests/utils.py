"""Helpers for the cross-service tests: waiting for a condition, the stack as real processes."""

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psycopg

from skyras.manifests import load_manifest
from skyras.register import register_manifests
from skyras.testing import ServiceProcess, create_api_key_sync
from tests.conftest import ROOT


def register_agent(hub_url: str, database_url: str, name: str, agent_url: str) -> None:
    """Register the agent at `agent_url` with the hub from its manifest, as `skyras up` does."""
    token = create_api_key_sync(database_url, "registry", name=f"test-{name}")
    manifest = load_manifest(ROOT / "manifests" / "agents" / f"{name}.yaml")
    register_manifests(hub_url, token, [manifest], endpoint=lambda _: agent_url, report=print)


def eventually(check: Callable[[], Any], timeout: float = 15, what: str = "condition") -> Any:
    """Poll `check` until it returns something truthy; errors count as not yet."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except (
            AssertionError,
            LookupError,
            ValueError,
            httpx.HTTPError,
            subprocess.CalledProcessError,
        ) as exc:
            last = exc
        time.sleep(0.1)
    raise AssertionError(f"{what} not reached in {timeout}s; last: {last!r}")


class Stack:
    """The hub, Marcus and Letitia as real processes, with both agents registered."""

    def __init__(self, database_url: str, redis_url: str, logs: Path) -> None:
        env = {
            "SKYRAS_DATABASE_URL": database_url,
            "SKYRAS_REDIS_URL": redis_url,
            "SKYRAS_DATA_DIR": str(logs / "data"),
            "SKYRAS_AUTH_MODE": "loopback-open",
            "SKYRAS_CONSUMER_BLOCK_MS": "100",
            "SKYRAS_RATE_LIMIT_PER_MINUTE": "1000000",
        }
        self.database_url = database_url
        self.logs = logs
        self.hub = ServiceProcess("skyras_hub.main:app", env, log=logs / "hub.log")
        self.marcus = ServiceProcess("skyras_marcus.main:app", env, log=logs / "marcus.log")
        self.letitia = ServiceProcess("skyras_letitia.main:app", env, log=logs / "letitia.log")

    def __enter__(self) -> "Stack":
        for proc in (self.hub, self.marcus, self.letitia):
            proc.start()
        for name, proc in (("marcus", self.marcus), ("letitia", self.letitia)):
            self.register(name, proc)
        return self

    def register(self, name: str, proc: ServiceProcess) -> None:
        """Register an agent process with the hub from its manifest."""
        register_agent(self.hub.url, self.database_url, name, proc.url)

    def __exit__(self, *_: Any) -> None:
        for proc in (self.letitia, self.marcus, self.hub):
            proc.stop()

    def wait_handled(self, group: str, event_type: str, subject: str) -> None:
        """Until `group` has handled the event (both agents link tasks and files: order the race)."""

        def handled() -> bool:
            with psycopg.connect(self.database_url) as conn:
                row = conn.execute(
                    """SELECT 1 FROM processed_events p JOIN events e ON e.id = p.event_id
                       WHERE p.consumer = %s AND e.type = %s AND e.subject = %s""",
                    (group, event_type, subject),
                ).fetchone()
            return row is not None

        eventually(handled, what=f"{group} handling {event_type} of {subject}")

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=f"{self.hub.url}/api/v2", timeout=30)

    def events(self, **params: Any) -> list[dict[str, Any]]:
        with self.client() as client:
            response = client.get("/events", params={"limit": 500, **params})
        assert response.status_code == 200, response.text
        return response.json()["items"]  # type: ignore[no-any-return]
