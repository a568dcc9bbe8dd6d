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


async def test_file_uploaded_reports_the_tasks_it_belongs_with_by_tag_or_name(
    database_url: str,
) -> None:
    assert HANDLERS["file.uploaded"] is handle_file_uploaded
    async with await psycopg.AsyncConnection.connect(database_url, row_factory=dict_row) as conn:
        async with conn.transaction():
            by_tag = await _task(conn, title="Final vocals comp", tags=["vocals"])
            by_title = await _task(conn, title="Fix the Lead-Vocal.wav clicks")
            by_stem = await _task(conn, title="Review", description="listen to lead-vocal twice")
            unrelated = await _task(conn, title="Mix track 3", tags=["drums"])
            near_miss = await _task(conn, title="Check lead-vocals folder")
        file_id = uuid.uuid4()

        event = _uploaded(file_id, "lead-vocal.wav", ["Vocals", "final"])
        async with conn.transaction():
            await handle_file_uploaded(event, conn)

        cur = await conn.execute("SELECT data FROM events WHERE type = 'task.updated' ORDER BY seq")
        updates = [row["data"] for row in await cur.fetchall()]
        reasons = {u["task"]["id"]: u["reason"] for u in updates}
        assert reasons == {
            str(by_tag["id"]): "tagged vocals",
            str(by_title["id"]): "named in the task: lead-vocal.wav",
            str(by_stem["id"]): "named in the task: lead-vocal",
        }
        assert all(u["linked_file"] == str(file_id) and u["task"]["version"] == 2 for u in updates)
        for task in (unrelated, near_miss):
            assert (await store.get_task(conn=conn, task_id=task["id"]))["version"] == 1
        # The links themselves are Letitia's to write (from these events).
        cur = await conn.execute("SELECT count(*) AS n FROM task_files")
        assert (await cur.fetchone()) == {"n": 0}


async def test_file_uploaded_with_a_bad_record_does_nothing(database_url: str) -> None:
    async with await psycopg.AsyncConnection.connect(database_url, row_factory=dict_row) as conn:
        async with conn.transaction():
            await _task(conn, title="Mix", tags=["vocals"])
            bad = Event(
                type="file.uploaded", source="/agents/letitia", data={"file": {"id": "nope"}}
            )
            await handle_file_uploaded(bad, conn)
        cur = await conn.execute("SELECT count(*) AS n FROM events WHERE type = 'task.updated'")
        assert (await cur.fetchone()) == {"n": 0}
