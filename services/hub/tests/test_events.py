"""The events API (audit trail, filters, cursor pages) and the live SSE stream."""

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import redis.asyncio as aioredis
from psycopg.types.json import Jsonb

from skyras.constants import pubsub_channel
from skyras.db import connect
from skyras.events import Event, encode

from .utils.hub import metric_value, running_hub

BASE = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


async def _insert_events(database_url: str, count: int) -> list[Event]:
    events = []
    conn = await connect(database_url)
    try:
        for i in range(count):
            kind = ("task.created", "file.uploaded", "task.updated")[i % 3]
            event = Event(
                type=kind,
                source="/agents/marcus" if kind.startswith("task") else "/agents/letitia",
                subject=f"{kind.split('.')[0]}s/{i}",
                data={"n": i},
                correlationid="corr-even" if i % 2 == 0 else "corr-odd",
                # Pairs share a timestamp, so ordering must fall back to seq.
                time=BASE + timedelta(minutes=i // 2),
            )
            await conn.execute(
                """INSERT INTO events (id, type, source, subject, channel, data,
                                       correlation_id, created_at)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s)""",
                (event.id, event.type, event.source, event.subject, event.channel,
                 Jsonb(event.data), event.correlationid, event.time),
            )  # fmt: skip
            events.append(event)
        await conn.commit()
    finally:
        await conn.close()
    return events


async def test_events_are_newest_first_and_pages_cover_everything_once(
    service_env: dict[str, str],
) -> None:
    inserted = await _insert_events(service_env["SKYRAS_DATABASE_URL"], 25)
    async with running_hub(service_env) as hub, hub.client() as client:
        seen: list[dict[str, Any]] = []
        cursor = None
        pages = 0
        while True:
            params: dict[str, Any] = {"limit": 10, **({"cursor": cursor} if cursor else {})}
            body = (await client.get("/api/v2/events", params=params)).json()
            seen.extend(body["items"])
            pages += 1
            cursor = body["next_cursor"]
            if cursor is None:
                break
    assert pages == 3
    assert [e["id"] for e in seen] == [str(e.id) for e in reversed(inserted)]
    first = seen[0]
    assert set(first) == {
        "id", "type", "source", "subject", "time", "data", "correlationid", "channel", "published_at"
    }  # fmt: skip
    assert first["data"] == {"n": 24} and first["channel"] == "tasks"


async def test_event_filters_combine(service_env: dict[str, str]) -> None:
    await _insert_events(service_env["SKYRAS_DATABASE_URL"], 12)
    async with running_hub(service_env) as hub, hub.client() as client:

        async def ids(**params: Any) -> list[int]:
            response = await client.get("/api/v2/events", params=params)
            assert response.status_code == 200, response.text
            return [e["data"]["n"] for e in response.json()["items"]]

        assert await ids(type="file.uploaded") == [10, 7, 4, 1]
        assert await ids(type=["task.created", "file.uploaded"], limit=3) == [10, 9, 7]
        assert await ids(source="/agents/letitia", correlation_id="corr-even") == [10, 4]
        assert await ids(subject="tasks/3") == [3]
        assert await ids(channel="files", since=(BASE + timedelta(minutes=3)).isoformat()) == [
            10,
            7,
        ]
        assert await ids(since="2025-06-01T12:05:00Z") == [11, 10]

        bad_cursor = await client.get("/api/v2/events", params={"cursor": "not-a-cursor"})
        assert bad_cursor.status_code == 400
        assert bad_cursor.json()["error"]["code"] == "bad_cursor"
        too_many = await client.get("/api/v2/events", params={"limit": 501})
        assert too_many.status_code == 422
        naive = await client.get("/api/v2/events", params={"since": "2025-06-01T12:00:00"})
        assert naive.status_code == 422


async def _read_event(lines: Any, wanted: str) -> dict[str, str]:
    """The next SSE message (fields by name) whose event is `wanted`."""
    message: dict[str, str] = {}
    async for line in lines:
        if line == "":
            if message.get("event") == wanted:
                return message
            message = {}
        elif not line.startswith(":"):
            field, _, value = line.partition(": ")
            message[field] = value
    raise AssertionError("stream ended")


async def test_sse_client_receives_published_events_and_the_gauge_returns_to_zero(
    service_env: dict[str, str],
) -> None:
    publisher = aioredis.Redis.from_url(service_env["SKYRAS_REDIS_URL"])
    wanted = Event(type="task.created", source="/agents/marcus", data={"title": "Mix track 3"})
    other = Event(type="file.uploaded", source="/agents/letitia", data={})
    try:
        async with (
            running_hub(service_env, sse_heartbeat_seconds=0.2) as hub,
            hub.client() as client,
        ):
            async with client.stream(
                "GET", "/api/v2/events/stream", params={"type": "task.created"}
            ) as response:
                assert response.headers["content-type"].startswith("text/event-stream")
                lines = response.aiter_lines()
                assert await anext(lines) == "retry: 3000"
                assert (
                    metric_value((await client.get("/metrics")).text, "skyras_hub_sse_clients") == 1
                )
                await publisher.publish(pubsub_channel("files"), encode(other))
                await publisher.publish(pubsub_channel("tasks"), "not an event")
                await publisher.publish(pubsub_channel("tasks"), encode(wanted))
                message = await asyncio.wait_for(_read_event(lines, "task.created"), 5)
                # Heartbeats keep coming while nothing happens.
                assert await asyncio.wait_for(_next_comment(lines), 2) == ": heartbeat"
            assert message["id"] == str(wanted.id)
            assert json.loads(message["data"])["data"] == {"title": "Mix track 3"}
            for _ in range(100):
                value = metric_value((await client.get("/metrics")).text, "skyras_hub_sse_clients")
                if value == 0:
                    break
                await asyncio.sleep(0.02)
            assert value == 0
    finally:
        await publisher.aclose()


async def _next_comment(lines: Any) -> str:
    async for line in lines:
        if line.startswith(":"):
            return str(line)
    raise AssertionError("stream ended")


async def test_sse_channel_filter_and_unknown_channel(service_env: dict[str, str]) -> None:
    publisher = aioredis.Redis.from_url(service_env["SKYRAS_REDIS_URL"])
    try:
        async with running_hub(service_env) as hub, hub.client() as client:
            bad = await client.get("/api/v2/events/stream", params={"channel": "secrets"})
            assert bad.status_code == 422
            async with client.stream(
                "GET", "/api/v2/events/stream", params={"channel": "files"}
            ) as response:
                lines = response.aiter_lines()
                await anext(lines)
                task = Event(type="task.created", source="/agents/marcus")
                upload = Event(type="file.uploaded", source="/agents/letitia")
                await publisher.publish(pubsub_channel("tasks"), encode(task))
                await publisher.publish(pubsub_channel("files"), encode(upload))
                first = await asyncio.wait_for(_first_event(lines), 5)
            assert first == "file.uploaded"
    finally:
        await publisher.aclose()


async def _first_event(lines: Any) -> str:
    async for line in lines:
        if line.startswith("event: "):
            return str(line.removeprefix("event: "))
    raise AssertionError("stream ended")
