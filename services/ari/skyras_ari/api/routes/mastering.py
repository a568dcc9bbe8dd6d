"""`/api/master` and `/api/jobs`: ask for masters, follow and cancel the jobs."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response

from skyras_ari import jobs, store
from skyras_ari.api.deps import LetitiaDep, PoolDep, SettingsDep
from skyras_ari.models import JobPublic, JobsPublic, JobStatus, MasterCreate

router = APIRouter(tags=["mastering"])


@router.post("/api/master", status_code=202, response_model=JobPublic)
async def create_master_job(
    request: MasterCreate, pool: PoolDep, letitia: LetitiaDep, settings: SettingsDep
) -> dict[str, Any]:
    """Queue a job making one master per target of a Letitia file (202: it runs in the pool)."""
    row = await jobs.start_job(
        pool=pool, letitia=letitia, settings=settings, request=request, requested_by="api"
    )
    return store.job_json(row)


@router.get("/api/jobs", response_model=JobsPublic)
async def list_jobs(
    pool: PoolDep,
    status: JobStatus | None = None,
    source_file_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> dict[str, Any]:
    """Jobs, newest first."""
    async with pool.connection() as conn:
        rows = await store.list_jobs(
            conn=conn, limit=limit, status=status, source_file_id=source_file_id
        )
    return {"items": [store.job_json(r) for r in rows]}


@router.get("/api/jobs/{job_id}", response_model=JobPublic)
async def get_job(job_id: UUID, pool: PoolDep) -> dict[str, Any]:
    """One job: status, progress, the source's analysis and each master's figures."""
    return store.job_json(await jobs.get_job(pool=pool, job_id=job_id))


@router.delete("/api/jobs/{job_id}", response_model=JobPublic)
async def cancel_job(job_id: UUID, pool: PoolDep, response: Response) -> dict[str, Any]:
    """Cancel: 200 when done at once (queued), 202 while the worker stops ffmpeg."""
    row = await jobs.cancel_job(pool=pool, job_id=job_id)
    response.status_code = 200 if row["status"] == "cancelled" else 202
    return store.job_json(row)
