"""Letitia links tasks and files: on `task.created` (shared tags, or named), and on Marcus's matches."""

import uuid

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from skyras.events import Event
from skyras_letitia import store
from skyras_letitia.handlers import HANDLERS, handle_task_created


async def add_file(conn: AsyncConnection, filename: str, tags: list[str]) -> str:
    row = await store.create_file(
        conn=conn, filename=filename, file_type="audio", file_size=0, tags=tags
    )
    return str(row["id"])


async def test_task_created_links_files_by_tag_and_by_name_once(database_url: str) -> None:
    task_id = str(uuid.uuid4())
    task = {
        "id": task_id,
        "title": "Master track 3 using Mixdown_v2.wav",
        "description": "Check the BASSLINE stem too, and the drums.",
        "tags": ["Final", "ep"],
    }
    event = Event(type="task.created", source="/agents/marcus", data={"task": task})
    async with await AsyncConnection.connect(database_url, row_factory=dict_row) as conn:
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO tasks (id, title, description, tags) VALUES (%s, %s, %s, %s)",
                (task_id, task["title"], task["description"], ["final", "ep"]),
            )
            tagged = await add_file(conn, "vox.wav", ["final"])
            named = await add_file(conn, "mixdown_v2.wav", [])
            by_stem = await add_file(conn, "bassline.flac", [])
            await add_file(conn, "drum.wav", [])  # "drum" is inside "drums": not named
            await add_file(conn, "ab.wav", [])  # stems under 3 characters never match
            await add_file(conn, "unrelated.wav", ["draft"])

        async with conn.transaction():
            await HANDLERS["task.created"](event, conn)
        async with conn.transaction():
            await handle_task_created(event, conn)  # a redelivery changes nothing

        links = await (
            await conn.execute("SELECT file_id::text, reason FROM task_files ORDER BY reason")
        ).fetchall()
        published = await (
            await conn.execute(
                "SELECT type, source, subject, data, correlation_id FROM events ORDER BY seq"
            )
        ).fetchall()

    assert {row["file_id"]: row["reason"] for row in links} == {
        by_stem: "named in the task: bassline",
        named: "named in the task: mixdown_v2.wav",
        tagged: "tagged final",
    }
    assert len(published) == 3
    assert {e["type"] for e in published} == {"file.associated"}
    assert {e["source"] for e in published} == {"/agents/letitia"}
    by_file = {e["data"]["file_id"]: e for e in published}
    assert by_file[named]["subject"] == f"files/{named}"
    assert by_file[named]["data"] == {
        "file_id": named,
        "task_id": task_id,
        "reason": "named in the task: mixdown_v2.wav",
        "filename": "mixdown_v2.wav",
    }


async def test_a_task_that_no_longer_exists_links_nothing(database_url: str) -> None:
    event = Event(
        type="task.created",
        source="/agents/marcus",
        data={"task": {"id": str(uuid.uuid4()), "title": "x", "tags": ["final"]}},
    )
    async with await AsyncConnection.connect(database_url, row_factory=dict_row) as conn:
        async with conn.transaction():
            await add_file(conn, "vox.wav", ["final"])
        async with conn.transaction():
            await handle_task_created(event, conn)
        count = await (await conn.execute("SELECT count(*) AS n FROM task_files")).fetchone()
    assert count is not None and count["n"] == 0


async def test_a_match_marcus_reports_for_an_upload_is_linked_once_with_its_reason(
    database_url: str,
) -> None:
    task_id = str(uuid.uuid4())
    async with await AsyncConnection.connect(database_url, row_factory=dict_row) as conn:
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO tasks (id, title) VALUES (%s, 'Master mixdown_v3.wav')", (task_id,)
            )
            file_id = await add_file(conn, "mixdown_v3.wav", [])
        reported = Event(
            type="task.updated",
            source="/agents/marcus",
            data={
                "task": {"id": task_id, "title": "Master mixdown_v3.wav"},
                "linked_file": file_id,
                "reason": "named in the task: mixdown_v3.wav",
            },
        )
        plain_update = Event(
            type="task.updated", source="/agents/marcus", data={"task": {"id": task_id}}
        )
        for event in (reported, reported, plain_update):
            async with conn.transaction():
                await HANDLERS["task.updated"](event, conn)
        links = await (
            await conn.execute("SELECT task_id::text, reason FROM task_files")
        ).fetchall()
        published = await (
            await conn.execute("SELECT type, data FROM events ORDER BY seq")
        ).fetchall()
    assert links == [{"task_id": task_id, "reason": "named in the task: mixdown_v3.wav"}]
    assert [(e["type"], e["data"]["file_id"]) for e in published] == [("file.associated", file_id)]


async def test_a_reported_match_for_a_deleted_task_links_nothing(database_url: str) -> None:
    async with await AsyncConnection.connect(database_url, row_factory=dict_row) as conn:
        async with conn.transaction():
            file_id = await add_file(conn, "vox.wav", [])
        gone = Event(
            type="task.updated",
            source="/agents/marcus",
            data={"task": {"id": str(uuid.uuid4())}, "linked_file": file_id, "reason": "x"},
        )
        async with conn.transaction():
            await HANDLERS["task.updated"](gone, conn)
        count = await (await conn.execute("SELECT count(*) AS n FROM task_files")).fetchone()
    assert count is not None and count["n"] == 0
