"""The file.uploaded handler, called directly inside a transaction on a real database."""

import uuid
from typing import Any

import psycopg
from psycopg.rows import DictRow, dict_row

from skyras.events import Event
from skyras_marcus import store
from skyras_marcus.handlers import HANDLERS, handle_file_uploaded
from skyras_marcus.models import TaskCreate


async def _task(conn: psycopg.AsyncConnection[DictRow], **fields: Any) -> dict[str, Any]:
    return await store.create_task(conn=conn, task_in=TaskCreate(**fields))


def _uploaded(file_id: uuid.UUID, filename: str, tags: list[str]) -> Event:
    return Event(
        type="file.uploaded",
        source="/agents/letitia",
        subject=f"files/{file_id}",
        data={
            "file": {"id": str(file_id), "filename": filename, "tags": tags, "file_type": "audio"}
        },
    )


async def test_file_uploaded_links_tasks_by_tag_or_name(database_url: str) -> None:
    assert HANDLERS["file.uploaded"] is handle_file_uploaded
    async with await psycopg.AsyncConnection.connect(database_url, row_factory=dict_row) as conn:
        async with conn.transaction():
            by_tag = await _task(conn, title="Final vocals comp", tags=["vocals"])
            by_title = await _task(conn, title="Fix the Lead-Vocal.wav clicks")
            by_stem = await _task(conn, title="Review", description="listen to lead-vocal twice")
            unrelated = await _task(conn, title="Mix track 3", tags=["drums"])
            near_miss = await _task(conn, title="Check lead-vocals folder")
            file_id = uuid.uuid4()
            await conn.execute(
                "INSERT INTO files (id, filename, file_type, tags) VALUES (%s, 'lead-vocal.wav', 'audio', %s)",
                (file_id, ["vocals", "final"]),
            )
        before = await (await conn.execute("SELECT count(*) AS n FROM events")).fetchone()

        event = _uploaded(file_id, "lead-vocal.wav", ["Vocals", "final"])
        async with conn.transaction():
            await handle_file_uploaded(event, conn)

        cur = await conn.execute(
            "SELECT task_id, reason FROM task_files WHERE file_id = %s", (file_id,)
        )
        links = {row["task_id"]: row["reason"] for row in await cur.fetchall()}
        assert links == {
            by_tag["id"]: "tag: vocals",
            by_title["id"]: "named in title",
            by_stem["id"]: "named in description",
        }
        assert unrelated["id"] not in links and near_miss["id"] not in links
        for task in (by_tag, by_title, by_stem):
            assert (await store.get_task(conn=conn, task_id=task["id"]))["version"] == 2
        assert (await store.get_task(conn=conn, task_id=unrelated["id"]))["version"] == 1
        cur = await conn.execute("SELECT data FROM events WHERE type = 'task.updated' ORDER BY seq")
        updates = [row["data"] for row in await cur.fetchall()]
        assert {u["task"]["id"] for u in updates} == {str(t) for t in links}
        assert all(u["linked_file"] == str(file_id) and u["task"]["version"] == 2 for u in updates)
        assert before is not None

        # Redelivered: nothing new is linked or published.
        async with conn.transaction():
            await handle_file_uploaded(event, conn)
        after = await (await conn.execute("SELECT count(*) AS n FROM events")).fetchone()
        assert after is not None and after["n"] == before["n"] + 3


async def test_file_uploaded_for_a_missing_file_or_bad_record_does_nothing(
    database_url: str,
) -> None:
    async with await psycopg.AsyncConnection.connect(database_url, row_factory=dict_row) as conn:
        async with conn.transaction():
            await _task(conn, title="Mix", tags=["vocals"])
            await handle_file_uploaded(_uploaded(uuid.uuid4(), "mix.wav", ["vocals"]), conn)
            bad = Event(
                type="file.uploaded", source="/agents/letitia", data={"file": {"id": "nope"}}
            )
            await handle_file_uploaded(bad, conn)
        cur = await conn.execute("SELECT count(*) AS n FROM task_files")
        assert (await cur.fetchone()) == {"n": 0}
