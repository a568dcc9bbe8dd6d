"""The local runner (skyras.manifests), the agents' consumer (skyras.consumer) and
the operator read the Agent contract the same way: one registration for a
pinned image, one lag for a group with undelivered and unacknowledged events."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from redis.asyncio import Redis

from skyras.consumer import EventConsumer
from skyras.db import open_pool
from skyras.events import Event
from skyras.manifests import AgentManifest
from skyras.redis_client import open_redis
from skyras_operator import builders
from skyras_operator.lag import consumer_lag

ROOT = Path(__file__).resolve().parents[1]
AGENTS = sorted(p.stem for p in (ROOT / "manifests" / "agents").glob("*.yaml"))


@pytest.mark.parametrize("name", AGENTS)
def test_runner_and_operator_register_a_pinned_image_alike(name: str) -> None:
    document = yaml.safe_load((ROOT / "manifests" / "agents" / f"{name}.yaml").read_text())
    document["spec"]["image"] = f"registry.local:5000/skyras/{name}:0.2.0@sha256:{'a' * 64}"
    endpoint = f"http://{name}.skyras.svc:8000"

    by_runner = AgentManifest.model_validate(document).registration_body(endpoint)
    by_operator = builders.build_registration(
        builders.parse_spec(document["spec"]), endpoint=endpoint
    )

    assert by_runner["version"] == "0.2.0"  # the tag; the digest is no version
    assert by_runner == by_operator


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = open_redis(redis_url)
    yield client
    await client.aclose()


async def _ignore(event: Event, conn: Any) -> None:
    raise AssertionError("nothing is handled here")


async def test_the_agent_reports_the_lag_the_operator_scales_on(
    redis: Redis, database_url: str
) -> None:
    subscribes = ["task.created", "file.uploaded"]
    for n in range(5):
        await redis.xadd("skyras:stream:tasks", {"n": n})
    for n in range(2):
        await redis.xadd("skyras:stream:files", {"n": n})
    for stream in ("skyras:stream:tasks", "skyras:stream:files"):
        await redis.xgroup_create(stream, "letitia", id="0")
    # Two task events reach a consumer that dies before acknowledging them: still work.
    await redis.xreadgroup("letitia", "crashed", {"skyras:stream:tasks": ">"}, count=2)

    pool = await open_pool(database_url, max_size=1)
    try:
        agent = EventConsumer(
            pool, redis, group="letitia", handlers=dict.fromkeys(subscribes, _ignore)
        )
        reported = await agent.refresh_lag()
    finally:
        await pool.close()

    assert reported == {"skyras:stream:files": 2, "skyras:stream:tasks": 3 + 2}
    assert await consumer_lag(redis, "letitia", subscribes) == sum(reported.values()) == 7
