"""Starting hubs, making keys and registering agents for hub tests."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from skyras.testing import ServedApp
from skyras_hub.config import HubSettings
from skyras_hub.main import build_app


def hub_settings(env: dict[str, str], **overrides: Any) -> HubSettings:
    values: dict[str, Any] = {
        "database_url": env["SKYRAS_DATABASE_URL"],
        "redis_url": env["SKYRAS_REDIS_URL"],
        "data_dir": Path(env["SKYRAS_DATA_DIR"]),
        "auth_mode": "loopback-open",
        "log_level": "WARNING",
        "db_pool_max": 4,
    }
    values.update(overrides)
    return HubSettings(**values)


@contextlib.asynccontextmanager
async def running_hub(env: dict[str, str], **overrides: Any) -> AsyncIterator[ServedApp]:
    """A hub on a real socket in this event loop, its pub/sub listener subscribed."""
    app = build_app(hub_settings(env, **overrides))
    async with ServedApp(app) as served:
        await asyncio.wait_for(app.state.fanout.connected.wait(), 10)
        yield served


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def registration(
    endpoint: str,
    routes: list[dict[str, Any]] | None = None,
    *,
    keywords: list[str] | None = None,
    description: str = "",
    version: str = "1.0.0",
) -> dict[str, Any]:
    return {
        "endpoint": endpoint,
        "routes": routes if routes is not None else ECHO_ROUTES,
        "publishes": [],
        "subscribes": [],
        "chat": {"keywords": keywords or [], "description": description},
        "version": version,
        "description": description,
    }


ECHO_ROUTES: list[dict[str, Any]] = [
    {"path": "/task", "methods": ["POST"], "target": "/api/tasks"},
    {"path": "/tasks", "methods": ["GET", "POST"], "target": "/api/tasks"},
    {"path": "/tasks/search", "methods": ["GET"], "target": "/api/tasks/search"},
    {"path": "/tasks/{id}", "methods": ["GET", "PUT", "DELETE"], "target": "/api/tasks/{id}"},
    {"path": "/tasks/{id}/files/{file}", "methods": ["GET"], "target": "/api/x/{file}/of/{id}"},
    {"path": "/slow", "methods": ["GET"], "target": "/api/slow"},
    {"path": "/stream", "methods": ["GET"], "target": "/api/stream"},
    {"path": "/sink", "methods": ["POST"], "target": "/api/sink"},
    {"path": "/", "methods": ["GET"], "target": "/api/root"},
]


async def register(
    hub_url: str, key: str, name: str, body: dict[str, Any], *, expect: int | None = None
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=hub_url, timeout=10) as client:
        response = await client.put(
            f"/api/v2/registry/agents/{name}", json=body, headers=bearer(key)
        )
    if expect is not None:
        assert response.status_code == expect, response.text
    return response


def metric_value(text: str, name: str, labels: dict[str, str] | None = None) -> float | None:
    """A sample's value from Prometheus text exposition."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        head, _, value = line.rpartition(" ")
        metric, _, label_text = head.partition("{")
        if metric != name:
            continue
        if labels:
            pairs = dict(
                part.split("=", 1) for part in label_text.rstrip("}").split(",") if "=" in part
            )
            if any(pairs.get(k) != f'"{v}"' for k, v in labels.items()):
                continue
        return float(value)
    return None
