"""The seed's event flow made real: hub, Marcus and Letitia as processes on real Postgres and Redis."""

import asyncio
import json
import time
from typing import Any

import httpx
import psycopg
import redis as redis_sync

from tests.utils import Stack, eventually


def test_a_task_created_through_the_hub_is_published_with_its_correlation_id(
    stack: Stack, redis_url: str
) -> None:
    subscriber = redis_sync.Redis.from_url(redis_url, decode_responses=True).pubsub()
    subscriber.subscribe("skyras:tasks")  # as the seed's redis-cli SUBSCRIBE does
    with stack.client() as client:
        created = client.post(
            "/agents/marcus/task",
            json={"title": "Test task", "priority": "high"},
            headers={"X-Request-ID": "req-flow-1"},
        )
    assert created.status_code == 201, created.text
    task_id = created.json()["id"]

    def published() -> dict[str, Any] | None:
        message = subscriber.get_message(ignore_subscribe_messages=True, timeout=0.5)
        return json.loads(message["data"]) if message else None

    live = eventually(published, what="task.created on skyras:tasks")
    assert live["type"] == "task.created" and live["subject"] == f"tasks/{task_id}"
    assert live["correlationid"] == "req-flow-1"
    listed = stack.events(type="task.created")
    assert [(e["subject"], e["correlationid"]) for e in listed] == [
        (f"tasks/{task_id}", "req-flow-1")
    ]
    subscriber.close()


def test_a_task_tagged_like_an_uploaded_file_is_linked_and_file_associated_is_published(
    stack: Stack,
) -> None:
    with stack.client() as client:
        uploaded = client.post(
            "/agents/letitia/upload",
            json={
                "filename": "night_drive_stems.zip",
                "file_type": "audio",
                "file_size": 1024,
                "tags": ["night-drive"],
            },
        ).json()
        task = client.post(
            "/agents/marcus/task",
            json={"title": "Mix the single", "tags": ["night-drive"]},
            headers={"X-Request-ID": "req-flow-2"},
        ).json()

        associated = eventually(
            lambda: stack.events(type="file.associated"), what="file.associated"
        )
        assert associated[0]["data"]["task_id"] == task["id"]
        assert associated[0]["data"]["file_id"] == uploaded["id"]
        assert associated[0]["correlationid"] == "req-flow-2"  # the request that caused it
        task_files = client.get(f"/agents/marcus/tasks/{task['id']}/files").json()["items"]
        file_tasks = client.get(f"/agents/letitia/files/{uploaded['id']}/tasks").json()["items"]
    assert [f["id"] for f in task_files] == [uploaded["id"]]
    assert [t["id"] for t in file_tasks] == [task["id"]]
    # Letitia's log shows the handling under the same correlation id.
    eventually(lambda: "req-flow-2" in (stack.logs / "letitia.log").read_text(), what="log line")


def test_an_uploaded_file_named_in_a_task_is_matched_by_marcus_and_linked_by_letitia(
    stack: Stack,
) -> None:
    with stack.client() as client:
        task = client.post(
            "/agents/marcus/task", json={"title": "Master mixdown_v3.wav for the label"}
        ).json()
        stack.wait_handled("letitia", "task.created", f"tasks/{task['id']}")
        uploaded = client.post(
            "/agents/letitia/upload",
            json={"filename": "mixdown_v3.wav", "file_type": "audio", "file_size": 2048},
        ).json()

        updated = eventually(
            lambda: [e for e in stack.events(type="task.updated") if e["data"].get("linked_file")],
            what="task.updated with linked_file",
        )
        # Letitia owns the links: it writes this one from Marcus's match and says so.
        associated = eventually(
            lambda: stack.events(type="file.associated"), what="file.associated"
        )
        files = client.get(f"/agents/marcus/tasks/{task['id']}/files").json()["items"]
    assert updated[0]["data"]["linked_file"] == uploaded["id"]
    assert [(e["data"]["task_id"], e["data"]["file_id"]) for e in associated] == [
        (task["id"], uploaded["id"])
    ]
    assert associated[0]["data"]["reason"] == "named in the task: mixdown_v3.wav"
    assert [f["id"] for f in files] == [uploaded["id"]]


def test_undecodable_entries_are_dead_lettered_and_listed_by_the_hub(
    stack: Stack, redis_url: str
) -> None:
    client = redis_sync.Redis.from_url(redis_url, decode_responses=True)
    client.xadd("skyras:stream:tasks", {"event": "{not json"})
    with stack.client() as hub:
        letters = eventually(
            lambda: hub.get("/events/deadletter").json()["items"], what="dead letter"
        )
        assert letters[0]["group"] in ("letitia", "marcus") and "undecodable" in letters[0]["error"]
        replay = hub.post(f"/events/deadletter/{letters[0]['id']}/replay")
        assert replay.status_code == 409 and replay.json()["error"]["code"] == "conflict"
        assert hub.post("/events/deadletter/1-1/replay").status_code == 404
    client.close()


def test_a_thousand_concurrent_tasks_are_each_handled_exactly_once(stack: Stack) -> None:
    async def create_all() -> list[int]:
        # A new connection per request: a kept-alive one that the hub closes as idle just
        # as the client reuses it is a ReadError for a POST (seen under CI load), and this
        # test is about exactly-once handling, not keep-alive.
        limits = httpx.Limits(max_connections=50, max_keepalive_connections=0)
        async with httpx.AsyncClient(
            base_url=f"{stack.hub.url}/api/v2", timeout=60, limits=limits
        ) as client:

            async def create(i: int) -> int:
                response = await client.post(
                    "/agents/marcus/task", json={"title": f"Bounce stem {i}"}
                )
                return response.status_code

            return await asyncio.gather(*(create(i) for i in range(1000)))

    statuses = asyncio.run(create_all())
    assert statuses.count(201) == 1000

    def handled_by_letitia() -> int:
        with psycopg.connect(stack.database_url) as conn:
            row = conn.execute(
                """SELECT count(*) FROM processed_events p JOIN events e ON e.id = p.event_id
                   WHERE p.consumer = 'letitia' AND e.type = 'task.created'"""
            ).fetchone()
        return int(row[0]) if row else 0

    eventually(lambda: handled_by_letitia() >= 1000, 120, "1,000 task.created handled")
    time.sleep(1)  # anything handled twice would show up now
    assert handled_by_letitia() == 1000
    with psycopg.connect(stack.database_url) as conn:
        row = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE published_at IS NOT NULL) FROM events WHERE type = 'task.created'"
        ).fetchone()
    assert row == (1000, 1000)
