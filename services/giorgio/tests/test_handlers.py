"""Events become jobs: a task assigned to Giorgio, a release from Jamal; abandoned jobs are taken over."""

import asyncio
import time
import uuid
from typing import Any

import httpx
import psycopg

from skyras import outbox
from skyras.db import connect
from skyras.testing import ServedApp
from skyras_giorgio import store

from .conftest import GiorgioFactory
from .utils import count


async def _emit(
    database_url: str, event_type: str, data: dict[str, Any], task: dict[str, Any] | None = None
) -> None:
    conn = await connect(database_url)
    try:
        async with conn.transaction():
            if task is not None:
                await conn.execute(
                    "INSERT INTO tasks (id, title, description, assignee) VALUES (%s, %s, %s, %s)",
                    (task["id"], task["title"], task["description"], task["assignee"]),
                )
            await outbox.add_event(conn, type=event_type, source="/agents/test", data=data)
    finally:
        await conn.close()


async def _wait_for(
    database_url: str, sql: str, *params: Any, timeout: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with psycopg.connect(database_url, row_factory=psycopg.rows.dict_row) as conn:
            row = conn.execute(sql, params).fetchone()
        if row:
            return row
        await asyncio.sleep(0.1)
    raise AssertionError(f"nothing for {sql} {params} within {timeout}s")


async def test_a_task_assigned_to_giorgio_gets_its_cover_linked_in_the_library(
    giorgio: ServedApp, letitia: ServedApp, database_url: str
) -> None:
    task = {
        "id": str(uuid.uuid4()),
        "title": 'Cover for "Night Drive" by Aurora Lane',
        "description": "neon please, seed 9",
        "assignee": "giorgio",
    }
    await _emit(database_url, "task.created", {"task": task}, task=task)
    row = await _wait_for(
        database_url,
        "SELECT * FROM generations WHERE task_id = %s AND status = 'succeeded'",
        task["id"],
    )
    async with letitia.client() as library:
        linked = (await library.get(f"/api/files/{row['outputs'][0]['file_id']}/tasks")).json()

    assert (
        row["kind"] == "artwork"
        and row["params"]["palette"] == "neon"
        and row["params"]["seed"] == 9
    )
    assert row["params"]["release"] == {
        **row["params"]["release"],
        "title": "Night Drive",
        "artist": "Aurora Lane",
    }
    assert [t["id"] for t in linked["items"]] == [task["id"]]
    assert count(database_url, "SELECT count(*) FROM events WHERE type = 'creative.requested'") == 1


async def test_tasks_for_someone_else_and_releases_without_a_title_queue_nothing(
    giorgio: ServedApp, database_url: str
) -> None:
    other = {
        "id": str(uuid.uuid4()),
        "title": "Cover for Night Drive",
        "description": "",
        "assignee": "marcus",
    }
    await _emit(database_url, "task.created", {"task": other}, task=other)
    await _emit(database_url, "release.created", {"release": {"id": "r1", "title": ""}})
    for event_type in ("task.created", "release.created"):
        await _wait_for(
            database_url,
            "SELECT 1 FROM processed_events p JOIN events e ON e.id = p.event_id WHERE p.consumer = 'giorgio' AND e.type = %s",
            event_type,
        )
    assert count(database_url, "SELECT count(*) FROM generations") == 0


async def test_a_release_created_gets_a_release_kit_linked_by_release_id(
    giorgio: ServedApp, database_url: str
) -> None:
    release = {
        "id": "skyras/rel-42",
        "title": "Blue Hour",
        "artist": "Mila Stone",
        "genre": "ambient",
        "release_date": "2026-05-01",
    }
    await _emit(database_url, "release.created", {"release": release})
    row = await _wait_for(
        database_url,
        "SELECT * FROM generations WHERE release_id = 'skyras/rel-42' AND status = 'succeeded'",
    )
    async with httpx.AsyncClient(base_url=giorgio.url) as client:
        listed = (
            await client.get("/api/generations", params={"release_id": "skyras/rel-42"})
        ).json()

    assert row["kind"] == "release_kit"
    assert "May 1, 2026" in row["copy"]["description"] and "ambient" in row["copy"]["description"]
    assert {o["name"] for o in row["outputs"]} == {
        "cover",
        "podcast",
        "social_square",
        "social_story",
        "copy",
    }
    assert [g["id"] for g in listed["items"]] == [str(row["id"])]


async def test_a_job_whose_process_died_is_taken_over_when_its_lease_runs_out(
    giorgio_app: GiorgioFactory, database_url: str
) -> None:
    conn = await connect(database_url)
    try:
        async with conn.transaction():
            params = {
                "kind": "artwork",
                "release": {"title": "Night Drive", "artist": ""},
                "palette": "mono",
                "seed": 1,
                "variants": ["social_square"],
                "extra_sizes": [],
                "platforms": [],
                "use_model": True,
            }
            abandoned = await store.create_generation(
                conn=conn,
                kind="artwork",
                params=params,
                task_id=None,
                release_id=None,
                running=True,
                lease_seconds=0.5,
            )
    finally:
        await conn.close()
    async with giorgio_app():
        row = await _wait_for(
            database_url,
            "SELECT * FROM generations WHERE id = %s AND status = 'succeeded'",
            abandoned["id"],
        )
    assert row["attempts"] == 2 and len(row["outputs"]) == 1
