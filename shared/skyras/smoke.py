"""Smoke checks of a running SkyRas through its hub: `skyras smoke`.

    skyras smoke --hub http://skyras-hub:8000 [--key KEY] [CHECK ...]

CHECK is any of health, task, search, status (default: all, in that order).
Each check retries until the timeout so that a fresh install has time to
settle (agents registering, migrations). The helm test pods run it; so do
tests/chart, against a real hub and agents.
"""

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx


class CheckFailed(Exception):
    pass


def _json(response: httpx.Response, expected: int = 200) -> dict[str, Any]:
    if response.status_code != expected:
        raise CheckFailed(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code}: {response.text[:300]}"
        )
    body: dict[str, Any] = response.json()
    return body


def check_health(client: httpx.Client) -> str:
    body = _json(client.get("/health"))
    ready = _json(client.get("/ready"))
    return f"hub {body.get('status', 'ok')}, ready: {ready.get('status')}"


def _delete(client: httpx.Client, path: str) -> None:
    """Remove what a check created: `helm test` leaves nothing in the studio's data."""
    response = client.delete(path)
    if response.status_code not in (200, 204, 404):
        raise CheckFailed(f"DELETE {path} answered {response.status_code}: {response.text[:300]}")


def check_task(client: httpx.Client) -> str:
    title = f"helm test {uuid.uuid4().hex[:8]}"
    created = _json(
        client.post(
            "/api/v2/agents/marcus/task",
            json={"title": title, "description": "created by the smoke check", "priority": "low"},
        ),
        201,
    )
    task_id = created.get("id")
    try:
        listed = _json(client.get("/api/v2/agents/marcus/tasks"))
        if not any(t.get("id") == task_id for t in listed.get("items", [])):
            raise CheckFailed(f"task {task_id} was created but is not in the task list")
    finally:
        _delete(client, f"/api/v2/agents/marcus/tasks/{task_id}")
    return f"task {task_id} created, listed and deleted"


def check_search(client: httpx.Client) -> str:
    word = f"smoke{uuid.uuid4().hex[:8]}"
    uploaded = _json(
        client.post(
            "/api/v2/agents/letitia/upload",
            json={"filename": f"{word}.wav", "file_type": "audio", "file_size": 1, "tags": [word]},
        ),
        201,
    )
    try:
        found = _json(
            client.post("/api/v2/agents/letitia/search", json={"query": word, "limit": 5})
        )
        results = found.get("items", [])
        if not results:
            raise CheckFailed(f"search for {word!r} found nothing after uploading {word}.wav")
    finally:
        _delete(client, f"/api/v2/agents/letitia/files/{uploaded.get('id')}")
    return f"search found {len(results)} file(s) for {word!r}; the file is deleted again"


def check_status(client: httpx.Client) -> str:
    body = _json(client.get("/api/v2/agents/status"))
    agents = {a["name"]: a["status"] for a in body.get("agents", [])}
    if not agents:
        raise CheckFailed("no agent is registered with the hub")
    unhealthy = {name: s for name, s in agents.items() if s != "healthy"}
    if unhealthy:
        raise CheckFailed(f"agents not healthy: {unhealthy}")
    return f"agents {body.get('status')}: " + ", ".join(
        f"{n}={s}" for n, s in sorted(agents.items())
    )


CHECKS: dict[str, Callable[[httpx.Client], str]] = {
    "health": check_health,
    "task": check_task,
    "search": check_search,
    "status": check_status,
}


def run_checks(hub: str, key: str, checks: list[str], timeout: float) -> int:
    """Run the checks in order, printing one line each; returns the number that failed."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    failures = 0
    with httpx.Client(base_url=hub.rstrip("/"), headers=headers, timeout=10) as client:
        for name in checks:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    print(f"ok   {name}: {CHECKS[name](client)}", flush=True)
                    break
                except (CheckFailed, httpx.HTTPError, ValueError, KeyError) as exc:
                    if time.monotonic() >= deadline:
                        print(f"FAIL {name}: {exc}", flush=True)
                        failures += 1
                        break
                    time.sleep(2)
    return failures
