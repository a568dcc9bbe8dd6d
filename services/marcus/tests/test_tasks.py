"""Tasks over HTTP against real Postgres: validation, events, concurrency, filters, pages."""

import uuid
from typing import Any

import httpx
import psycopg
from psycopg.rows import DictRow

from .conftest import count


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


async def test_create_returns_the_task_and_records_its_event(
    client: httpx.AsyncClient, db: psycopg.AsyncConnection[DictRow]
) -> None:
    response = await client.post(
        "/api/tasks",
        json={
            "title": "  Test microservices architecture  ",
            "description": "Verify Marcus can create tasks",
            "priority": "high",
            "status": "pending",
            "tags": ["Album", "album", " mix "],
            "due_date": "2026-12-01T17:00:00+01:00",
        },
    )
    assert response.status_code == 201, response.text
    task = response.json()
    assert task["title"] == "Test microservices architecture"
    assert task["priority"] == "high" and task["status"] == "pending"
    assert task["tags"] == ["album", "mix"]
    assert task["due_date"] == "2026-12-01T16:00:00Z"
    assert task["version"] == 1
    assert response.headers["etag"] == '"1"'
    assert response.headers["location"] == f"/api/tasks/{task['id']}"

    read = await client.get(f"/api/tasks/{task['id']}")
    assert read.json() == task and read.headers["etag"] == '"1"'

    cur = await db.execute("SELECT type, source, subject, data FROM events")
    events = await cur.fetchall()
    assert [e["type"] for e in events] == ["task.created"]
    assert events[0]["source"] == "/agents/marcus"
    assert events[0]["subject"] == f"tasks/{task['id']}"
    assert events[0]["data"] == {"task": task}

    # The seed's minimal call gets the defaults; the seed's query works as written.
    seed = await client.post("/api/tasks", json={"title": "Test task", "priority": "high"})
    assert seed.status_code == 201
    assert seed.json()["status"] == "pending" and seed.json()["description"] == ""
    cur = await db.execute("SELECT * FROM tasks ORDER BY created_at DESC LIMIT 10;")
    rows = await cur.fetchall()
    assert rows[0]["title"] == "Test task"


async def test_invalid_tasks_are_422_and_write_nothing(
    client: httpx.AsyncClient, db: psycopg.AsyncConnection[DictRow]
) -> None:
    bad = [
        {"title": ""},
        {"title": "    "},
        {"priority": "high"},
        {"title": None},
        {"title": "x" * 10_000},
        {"title": "x" * 201},
        {"title": "ok", "priority": "critical"},
        {"title": "ok", "status": "done"},
        {"title": "ok", "due_date": "2026-12-01T10:00:00"},
        {"title": "ok", "due_date": "next friday"},
        {"title": "ok", "tags": ["fine", "not/fine"]},
        {"title": "ok", "tags": [f"t{i}" for i in range(21)]},
        {"title": "ok", "tags": "a" * 51},
    ]
    for payload in bad:
        error = assert_error(await client.post("/api/tasks", json=payload), 422, "validation_error")
        assert error["details"], payload
    assert_error(
        await client.post(
            "/api/tasks", content=b"{not json", headers={"content-type": "application/json"}
        ),
        422,
        "validation_error",
    )
    assert await count(db, "tasks") == 0
    assert await count(db, "events") == 0

    # The same rules hold on update, and a refused update changes nothing.
    task = (await client.post("/api/tasks", json={"title": "Keep me"})).json()
    for payload in (
        {"title": ""},
        {"priority": "critical"},
        {"title": "x" * 10_000},
        {"title": None},
    ):
        assert_error(
            await client.patch(f"/api/tasks/{task['id']}", json=payload), 422, "validation_error"
        )
    assert_error(
        await client.put(f"/api/tasks/{task['id']}", json={"title": ""}), 422, "validation_error"
    )
    assert (await client.get(f"/api/tasks/{task['id']}")).json() == task
    assert await count(db, "events") == 1


async def test_bare_due_date_means_end_of_that_day_in_utc(client: httpx.AsyncClient) -> None:
    task = (
        await client.post("/api/tasks", json={"title": "Master", "due_date": "2026-12-01"})
    ).json()
    assert task["due_date"] == "2026-12-01T23:59:59Z"
    cleared = await client.patch(f"/api/tasks/{task['id']}", json={"due_date": None})
    assert cleared.json()["due_date"] is None


async def test_stale_versions_are_409_and_change_nothing(
    client: httpx.AsyncClient, db: psycopg.AsyncConnection[DictRow]
) -> None:
    task = (await client.post("/api/tasks", json={"title": "Mix track 3"})).json()
    url = f"/api/tasks/{task['id']}"

    put = await client.put(
        url, json={"title": "Mix track 3", "priority": "urgent"}, headers={"If-Match": '"1"'}
    )
    assert put.status_code == 200 and put.headers["etag"] == '"2"'
    assert put.json()["priority"] == "urgent" and put.json()["version"] == 2

    stale = await client.patch(url, json={"status": "completed"}, headers={"If-Match": '"1"'})
    error = assert_error(stale, 409, "conflict")
    assert error["details"] == {"current_version": 2}
    assert_error(
        await client.patch(url, json={"status": "completed", "version": 1}), 409, "conflict"
    )
    assert_error(await client.put(url, json={"title": "x", "version": 1}), 409, "conflict")
    assert_error(await client.delete(url, headers={"If-Match": 'W/"1"'}), 409, "conflict")
    assert (await client.get(url)).json()["status"] == "pending"

    fresh = await client.patch(url, json={"status": "in_progress"}, headers={"If-Match": '"2"'})
    assert fresh.status_code == 200 and fresh.json()["version"] == 3
    # Without If-Match or a version the write applies (last write wins).
    blind = await client.patch(url, json={"assignee": "sam"})
    assert blind.json()["version"] == 4 and blind.json()["status"] == "in_progress"

    deleted = await client.delete(url, headers={"If-Match": '"4"'})
    assert deleted.status_code == 200 and deleted.json()["deleted"] is True
    assert_error(await client.get(url), 404, "not_found")
    cur = await db.execute("SELECT type FROM events ORDER BY seq")
    assert [r["type"] for r in await cur.fetchall()] == [
        "task.created", "task.updated", "task.updated", "task.updated", "task.deleted",
    ]  # fmt: skip


async def test_unknown_or_malformed_ids_are_404(client: httpx.AsyncClient) -> None:
    for task_id in (str(uuid.uuid4()), "not-a-uuid"):
        url = f"/api/tasks/{task_id}"
        assert_error(await client.get(url), 404, "not_found")
        assert_error(await client.put(url, json={"title": "x"}), 404, "not_found")
        assert_error(await client.patch(url, json={"title": "x"}), 404, "not_found")
        assert_error(await client.delete(url), 404, "not_found")
        assert_error(await client.get(f"{url}/files"), 404, "not_found")


async def test_list_filters_sorts_and_pages(client: httpx.AsyncClient) -> None:
    specs = [
        {"title": "Mix track 1", "priority": "low", "tags": ["mix"], "due_date": "2026-12-03"},
        {
            "title": "Mix track 2",
            "priority": "urgent",
            "tags": ["mix", "album"],
            "due_date": "2026-12-01",
        },
        {"title": "Master album", "priority": "high", "tags": ["album"], "status": "completed"},
        {
            "title": "Book studio",
            "priority": "medium",
            "description": "call the MIX room",
            "due_date": "2026-12-02",
        },
        {"title": "Cover art", "priority": "high", "assignee": "Ana"},
        {"title": "Press kit", "priority": "low", "status": "cancelled", "due_date": "2026-11-30"},
        {"title": "Lyrics_v2 check", "priority": "medium"},
    ]
    created = [(await client.post("/api/tasks", json=s)).json() for s in specs]
    ids = [t["id"] for t in created]

    async def titles(**params: Any) -> list[str]:
        response = await client.get("/api/tasks", params=params)
        assert response.status_code == 200, response.text
        return [t["title"] for t in response.json()["items"]]

    # Default: newest first; pages of 3 follow the cursor to the end without repeats.
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/api/tasks", params=params)).json()
        seen.extend(t["id"] for t in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids[::-1]

    assert await titles(status="completed") == ["Master album"]
    assert await titles(status="pending,in_progress", priority="low") == ["Mix track 1"]
    assert await titles(tag="Album", sort="created_at") == ["Mix track 2", "Master album"]
    assert await titles(q="mix", sort="created_at") == ["Mix track 1", "Mix track 2", "Book studio"]
    assert await titles(q="_v2") == ["Lyrics_v2 check"]
    assert await titles(assignee="ana") == ["Cover art"]
    assert await titles(due_after="2026-12-01T00:00:00Z", due_before="2026-12-03T00:00:00Z", sort="due_date") == [
        "Mix track 2", "Book studio",
    ]  # fmt: skip
    by_due = await titles(sort="due_date")
    assert by_due[:4] == ["Press kit", "Mix track 2", "Book studio", "Mix track 1"]
    by_due_desc = await titles(sort="-due_date")
    assert by_due_desc[:4] == ["Mix track 1", "Book studio", "Mix track 2", "Press kit"]
    assert (await titles(sort="priority"))[:3] == ["Mix track 2", "Cover art", "Master album"]

    # Keyset pages work for every sort, including over NULL due dates.
    for sort in ("due_date", "-due_date", "priority", "-priority", "created_at"):
        everything = await titles(sort=sort, limit=200)
        paged: list[str] = []
        cursor = None
        while True:
            params = {"sort": sort, "limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await client.get("/api/tasks", params=params)).json()
            paged.extend(t["title"] for t in page["items"])
            if not (cursor := page["next_cursor"]):
                break
        assert paged == everything, sort

    for params in (
        {"status": "done"},
        {"priority": "critical"},
        {"limit": 0},
        {"limit": 201},
        {"sort": "title"},
        {"cursor": "garbage"},
        {"due_before": "2026-12-01T00:00:00"},
        {"tag": "no/slash"},
    ):
        assert_error(await client.get("/api/tasks", params=params), 422, "validation_error")
    other_sort_cursor = (await client.get("/api/tasks", params={"limit": 1})).json()["next_cursor"]
    assert_error(
        await client.get("/api/tasks", params={"cursor": other_sort_cursor, "sort": "due_date"}),
        422,
        "validation_error",
    )


async def test_task_files_lists_linked_files(
    client: httpx.AsyncClient, db: psycopg.AsyncConnection[DictRow]
) -> None:
    task = (await client.post("/api/tasks", json={"title": "Vocals"})).json()
    assert (await client.get(f"/api/tasks/{task['id']}/files")).json() == {"items": []}
    file_id = uuid.uuid4()
    await db.execute(
        "INSERT INTO files (id, filename, file_type, file_size, tags) VALUES (%s, %s, 'audio', 2048, %s)",
        (file_id, "vocals.wav", ["vocals"]),
    )
    await db.execute(
        "INSERT INTO task_files (task_id, file_id, reason) VALUES (%s, %s, 'tag: vocals')",
        (task["id"], file_id),
    )
    items = (await client.get(f"/api/tasks/{task['id']}/files")).json()["items"]
    assert len(items) == 1
    assert items[0]["id"] == str(file_id) and items[0]["filename"] == "vocals.wav"
    assert items[0]["file_type"] == "audio" and items[0]["file_size"] == 2048
    assert items[0]["tags"] == ["vocals"] and items[0]["reason"] == "tag: vocals"
