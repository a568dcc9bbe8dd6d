"""Ari's SQL: every query on `mastering_jobs`, as keyword-only functions.

Callers pass the connection, so a change and its event (`skyras.outbox`)
commit together. A worker owns a running job while its lease holds: every
write a worker makes is guarded by `worker = me AND status = 'running'`, so a
worker that lost its job to a reclaim (it was presumed dead) changes nothing.
"""

from typing import Any
from uuid import UUID

import uuid6
from psycopg import AsyncConnection
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from skyras_ari.models import JobPublic

Conn = AsyncConnection[DictRow]

JOB_COLUMNS = """id, source_file_id, source_filename, targets, status, progress, requested_by,
    trigger_event_id, attempts, worker, lease_until, cancel_requested, analysis, results, error,
    correlation_id, created_at, started_at, finished_at, updated_at"""


def job_json(row: dict[str, Any]) -> dict[str, Any]:
    """The public, JSON-ready form of a job row: what the API returns."""
    return JobPublic.model_validate(row).model_dump(mode="json")


async def create_job(
    *,
    conn: Conn,
    source_file_id: UUID,
    source_filename: str,
    targets: list[dict[str, Any]],
    requested_by: str,
    trigger_event_id: UUID | None = None,
    correlation_id: str | None = None,
) -> dict[str, Any] | None:
    """A queued job; None when the triggering event already made one."""
    cur = await conn.execute(
        f"""INSERT INTO mastering_jobs (id, source_file_id, source_filename, targets,
                requested_by, trigger_event_id, correlation_id)
            VALUES (%s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT (trigger_event_id) DO NOTHING
            RETURNING {JOB_COLUMNS}""",
        (uuid6.uuid7(), source_file_id, source_filename, Jsonb(targets), requested_by,
         trigger_event_id, correlation_id),
    )  # fmt: skip
    row = await cur.fetchone()
    return dict(row) if row else None


async def get_job(*, conn: Conn, job_id: UUID, for_update: bool = False) -> dict[str, Any] | None:
    lock = " FOR UPDATE" if for_update else ""
    cur = await conn.execute(
        f"SELECT {JOB_COLUMNS} FROM mastering_jobs WHERE id = %s{lock}", (job_id,)
    )
    row = await cur.fetchone()
    return dict(row) if row else None


async def list_jobs(
    *, conn: Conn, limit: int, status: str | None = None, source_file_id: UUID | None = None
) -> list[dict[str, Any]]:
    where: list[str] = ["TRUE"]
    params: list[Any] = []
    if status:
        where.append("status = %s")
        params.append(status)
    if source_file_id:
        where.append("source_file_id = %s")
        params.append(source_file_id)
    cur = await conn.execute(
        f"""SELECT {JOB_COLUMNS} FROM mastering_jobs WHERE {" AND ".join(where)}
            ORDER BY created_at DESC, id DESC LIMIT %s""",
        (*params, limit),
    )
    return [dict(r) for r in await cur.fetchall()]


async def claim_job(*, conn: Conn, worker: str, lease_seconds: float) -> dict[str, Any] | None:
    """Take the oldest queued job, or a running one whose worker's lease lapsed."""
    cur = await conn.execute(
        f"""UPDATE mastering_jobs SET status = 'running', worker = %(worker)s,
                lease_until = now() + make_interval(secs => %(lease)s),
                attempts = attempts + 1, started_at = COALESCE(started_at, now()),
                updated_at = now()
            WHERE id = (
                SELECT id FROM mastering_jobs
                WHERE status = 'queued' OR (status = 'running' AND lease_until < now())
                ORDER BY created_at FOR UPDATE SKIP LOCKED LIMIT 1)
            RETURNING {JOB_COLUMNS}""",
        {"worker": worker, "lease": lease_seconds},
    )
    row = await cur.fetchone()
    return dict(row) if row else None


async def renew_lease(
    *, conn: Conn, job_id: UUID, worker: str, lease_seconds: float, progress: float
) -> bool | None:
    """Extend the lease and record progress; returns cancel_requested, None if the job is lost."""
    cur = await conn.execute(
        """UPDATE mastering_jobs SET lease_until = now() + make_interval(secs => %s),
               progress = GREATEST(progress, %s), updated_at = now()
           WHERE id = %s AND worker = %s AND status = 'running'
           RETURNING cancel_requested""",
        (lease_seconds, progress, job_id, worker),
    )
    row = await cur.fetchone()
    return bool(row["cancel_requested"]) if row else None


async def save_step(
    *,
    conn: Conn,
    job_id: UUID,
    worker: str,
    analysis: dict[str, Any] | None = None,
    result: tuple[str, dict[str, Any]] | None = None,
) -> bool:
    """Record the source's analysis or one target's result while the job runs."""
    cur = await conn.execute(
        """UPDATE mastering_jobs SET
               analysis = COALESCE(%s, analysis),
               results = CASE WHEN %s::text IS NULL THEN results
                              ELSE COALESCE(results, '{}'::jsonb) || jsonb_build_object(%s::text, %s::jsonb) END,
               updated_at = now()
           WHERE id = %s AND worker = %s AND status = 'running' RETURNING id""",
        (
            Jsonb(analysis) if analysis is not None else None,
            result[0] if result else None,
            result[0] if result else None,
            Jsonb(result[1]) if result else None,
            job_id,
            worker,
        ),
    )
    return await cur.fetchone() is not None


async def finish_job(
    *,
    conn: Conn,
    job_id: UUID,
    worker: str | None,
    status: str,
    error: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """Completed, failed or cancelled, once; None when this worker no longer owns the job.

    `worker=None` finishes a job nobody runs (a queued job cancelled, or failed
    before it started)."""
    owner = "worker = %(worker)s AND status = 'running'" if worker else "status = 'queued'"
    cur = await conn.execute(
        f"""UPDATE mastering_jobs SET status = %(status)s, error = %(error)s,
                progress = CASE WHEN %(status)s = 'completed' THEN 1 ELSE progress END,
                finished_at = now(), updated_at = now(), lease_until = NULL
            WHERE id = %(id)s AND {owner}
            RETURNING {JOB_COLUMNS}""",
        {
            "status": status,
            "error": Jsonb(error) if error else None,
            "id": job_id,
            "worker": worker,
        },
    )
    row = await cur.fetchone()
    return dict(row) if row else None


async def request_cancel(*, conn: Conn, job_id: UUID) -> dict[str, Any] | None:
    cur = await conn.execute(
        f"""UPDATE mastering_jobs SET cancel_requested = true, updated_at = now()
            WHERE id = %s AND status = 'running' RETURNING {JOB_COLUMNS}""",
        (job_id,),
    )
    row = await cur.fetchone()
    return dict(row) if row else None


async def release_job(*, conn: Conn, job_id: UUID, worker: str, delay_seconds: float) -> None:
    """Give a job back after a passing failure: reclaimable once `delay_seconds` pass,
    as if its lease ran out (the attempt still counts)."""
    await conn.execute(
        """UPDATE mastering_jobs SET worker = NULL, updated_at = now(),
               lease_until = now() + make_interval(secs => %s)
           WHERE id = %s AND worker = %s AND status = 'running'""",
        (delay_seconds, job_id, worker),
    )
