"""`POST /api/generate` and `/api/generations`: make, list, fetch and delete generations."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from skyras import outbox
from skyras.errors import ApiError
from skyras_giorgio import generations, store
from skyras_giorgio.api.deps import PoolDep, RuntimeDep
from skyras_giorgio.letitia import LetitiaError
from skyras_giorgio.models import GenerateRequest, GenerationPublic, GenerationsPublic, Kind, Status

router = APIRouter(prefix="/api", tags=["generations"])


@router.post(
    "/generate", status_code=201, response_model=GenerationPublic, response_model_by_alias=True
)
async def generate(request: GenerateRequest, runtime: RuntimeDep) -> dict[str, Any]:
    """Make artwork and/or copy now; stored in Letitia, linked to `task_id` when given."""
    row = await generations.submit(runtime, request)
    body = store.generation_json(row)
    if row["status"] != "succeeded":
        raise ApiError(
            502,
            f"The generation failed: {row['error']}",
            code="generation_failed",
            details={"generation": body},
        )
    return body


@router.get("/generations", response_model=GenerationsPublic, response_model_by_alias=True)
async def list_generations(
    pool: PoolDep,
    task_id: Annotated[str | None, Query(description="only those made for this task")] = None,
    release_id: Annotated[str | None, Query(max_length=100)] = None,
    status: Status | None = None,
    kind: Kind | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Newest first; pass `next_cursor` back as `cursor` for the next page."""
    task = _uuid_param("task_id", task_id)
    before = _uuid_param("cursor", cursor)
    async with pool.connection() as conn:
        rows, next_cursor = await store.list_generations(
            conn=conn,
            limit=limit,
            before=before,
            task_id=task,
            release_id=release_id,
            status=status,
            kind=kind,
        )
    return {"items": [store.generation_json(r) for r in rows], "next_cursor": next_cursor}


def _uuid_param(name: str, value: str | None) -> Any:
    if value is None:
        return None
    try:
        return generations.UUID(value)
    except ValueError as exc:
        raise ApiError(
            422,
            f"Invalid request: {name}: not a valid id",
            details=[{"loc": ["query", name], "msg": "not a UUID", "type": "uuid_parsing"}],
        ) from exc


@router.get(
    "/generations/{generation_id}", response_model=GenerationPublic, response_model_by_alias=True
)
async def get_generation(generation_id: str, pool: PoolDep) -> dict[str, Any]:
    """One generation with its outputs (Letitia file ids), copy and parameters."""
    async with pool.connection() as conn:
        row = await store.get_generation(
            conn=conn, generation_id=generations.parse_id(generation_id)
        )
    if row is None:
        raise ApiError(404, f"No generation with id {generation_id}", details={"id": generation_id})
    return store.generation_json(row)


@router.delete("/generations/{generation_id}", status_code=204, response_class=Response)
async def delete_generation(generation_id: str, runtime: RuntimeDep) -> Response:
    """Delete the generation and its files in Letitia (all, or nothing if Letitia is away)."""
    gid = generations.parse_id(generation_id)
    async with runtime.pool.connection() as conn, conn.transaction():
        row = await store.lock_generation(conn=conn, generation_id=gid)
        if row is None:
            raise ApiError(
                404, f"No generation with id {generation_id}", details={"id": generation_id}
            )
        try:
            for output in row["outputs"]:
                await runtime.letitia.delete(output["file_id"])
        except LetitiaError as exc:
            raise ApiError(
                502, f"The generation was kept: {exc}", code="letitia_unavailable"
            ) from exc
        await store.delete_generation(conn=conn, generation_id=gid)
        await outbox.add_event(
            conn,
            type="creative.deleted",
            source=generations.SOURCE,
            subject=f"generations/{gid}",
            data={"generation": store.generation_json(row)},
        )
    return Response(status_code=204)
