"""Giorgio's SQL: the `generations` table (migration 0060), owned by Giorgio alone.

Plain keyword-only functions taking the caller's connection, so that a
change and its event (`skyras.outbox`) commit together.
"""

from typing import Any
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from skyras.events import new_event_id
from skyras.sqlfilter import Where
from skyras_giorgio.models import GenerationPublic

Conn = AsyncConnection[Any]

COLUMNS = (
    "id, kind, status, task_id, release_id, params, sources, fallbacks, outputs, copy, error, "
    "attempts, created_at, finished_at"
)


def generation_json(row: dict[str, Any]) -> dict[str, Any]:
    """The generation as every response and event carries it."""
    return GenerationPublic.model_validate(row).model_dump(mode="json", by_alias=True)


async def create_generation(
    *,
    conn: Conn,
    kind: str,
    params: dict[str, Any],
    task_id: UUID | None,
    release_id: str | None,
    running: bool,
    lease_seconds: float,
) -> dict[str, Any]:
    """A new job: `running` (leased to the caller, who runs it now) or `queued` (for the worker)."""
    cur = await conn.execute(
        f"""INSERT INTO generations (id, kind, status, task_id, release_id, params, attempts, lease_until)
            VALUES (%s, %s, %s, %s, %s, %s, %s,
                    CASE WHEN %s THEN now() + make_interval(secs => %s) END)
            RETURNING {COLUMNS}""",
        (
            new_event_id(),
            kind,
            "running" if running else "queued",
            task_id,
            release_id,
            Jsonb(params),
            1 if running else 0,
            running,
            lease_seconds,
        ),
    )
    row = await cur.fetchone()
    assert row is not None
    return row


async def claim_next(
    *, conn: Conn, lease_seconds: float, max_attempts: int
) -> dict[str, Any] | None:
    """Take the oldest queued job, or a running one whose lease ran out (its worker died)."""
    cur = await conn.execute(
        f"""UPDATE generations SET status = 'running', attempts = attempts + 1,
                   lease_until = now() + make_interval(secs => %s), updated_at = now()
            WHERE id = (
                SELECT id FROM generations
                WHERE (status = 'queued' OR (status = 'running' AND lease_until < now()))
                  AND attempts < %s
                ORDER BY created_at FOR UPDATE SKIP LOCKED LIMIT 1)
            RETURNING {COLUMNS}""",
        (lease_seconds, max_attempts),
    )
    return await cur.fetchone()


async def exhausted_jobs(*, conn: Conn, max_attempts: int) -> list[dict[str, Any]]:
    """Running jobs past their lease that used every attempt: they are failed, not retried."""
    cur = await conn.execute(
        f"""UPDATE generations SET status = 'failed', finished_at = now(), updated_at = now(),
                   error = coalesce(error, 'interrupted ' || attempts || ' times; not retried')
            WHERE status = 'running' AND lease_until < now() AND attempts >= %s
            RETURNING {COLUMNS}""",
        (max_attempts,),
    )
    return await cur.fetchall()


async def finish(
    *,
    conn: Conn,
    generation_id: UUID,
    status: str,
    sources: dict[str, str],
    fallbacks: list[str],
    outputs: list[dict[str, Any]],
    copy: dict[str, Any],
    error: str | None,
) -> dict[str, Any] | None:
    cur = await conn.execute(
        f"""UPDATE generations SET status = %s, sources = %s, fallbacks = %s, outputs = %s,
                   copy = %s, error = %s, finished_at = now(), updated_at = now(), lease_until = NULL
            WHERE id = %s AND status = 'running'
            RETURNING {COLUMNS}""",
        (
            status,
            Jsonb(sources),
            Jsonb(fallbacks),
            Jsonb(outputs),
            Jsonb(copy),
            error,
            generation_id,
        ),
    )
    return await cur.fetchone()


async def get_generation(*, conn: Conn, generation_id: UUID) -> dict[str, Any] | None:
    cur = await conn.execute(f"SELECT {COLUMNS} FROM generations WHERE id = %s", (generation_id,))
    return await cur.fetchone()


async def list_generations(
    *,
    conn: Conn,
    limit: int,
    before: UUID | None,
    task_id: UUID | None,
    release_id: str | None,
    status: str | None,
    kind: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first (ids are UUIDv7); the cursor is the last id of the page."""
    where = Where()
    for column, value in (
        ("task_id", task_id),
        ("release_id", release_id),
        ("status", status),
        ("kind", kind),
    ):
        where.equal(column, value)
    where.given(before, "id < %s")
    cur = await conn.execute(
        f"SELECT {COLUMNS} FROM generations{where.sql()} ORDER BY id DESC LIMIT %s",
        (*where.params, limit + 1),
    )
    rows = await cur.fetchall()
    next_cursor = str(rows[limit - 1]["id"]) if len(rows) > limit else None
    return rows[:limit], next_cursor


async def delete_generation(*, conn: Conn, generation_id: UUID) -> dict[str, Any] | None:
    cur = await conn.execute(
        f"DELETE FROM generations WHERE id = %s RETURNING {COLUMNS}", (generation_id,)
    )
    return await cur.fetchone()


async def lock_generation(*, conn: Conn, generation_id: UUID) -> dict[str, Any] | None:
    cur = await conn.execute(
        f"SELECT {COLUMNS} FROM generations WHERE id = %s FOR UPDATE", (generation_id,)
    )
    return await cur.fetchone()
