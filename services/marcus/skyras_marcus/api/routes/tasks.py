"""Tasks: create, list (filters, sort, cursor pages), read, replace, patch, delete.

Optimistic concurrency: every task response carries `ETag: "<version>"`. A
PUT, PATCH or DELETE with `If-Match` (or a `version` in the body) that is not
the current version is refused with 409 `conflict` and changes nothing;
without either, the write applies to whatever is current (last write wins).
"""

import re
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Header, Query, Response, status
from pydantic import TypeAdapter, ValidationError

from skyras.errors import ApiError
from skyras_marcus import store
from skyras_marcus.api.deps import PoolDep
from skyras_marcus.models import (
    PRIORITIES,
    STATUSES,
    DueDate,
    SortKey,
    TaskCreate,
    TaskFilesPublic,
    TaskPublic,
    TasksPublic,
    TaskUpdate,
    normalize_tags,
)

router = APIRouter(prefix="/api/tasks", tags=["tasks"])

_ETAG_VERSION = re.compile(r'^(?:W/)?"?(\d+)"?$')
_DUE_ADAPTER: TypeAdapter[datetime] = TypeAdapter(DueDate)


def parse_task_id(task_id: str) -> UUID:
    try:
        return UUID(task_id)
    except ValueError:
        raise ApiError(404, f"No task with id {task_id!r}") from None


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(if_match: str | None, body_version: int | None) -> int | None:
    """The version the client expects, from If-Match and/or the body; None = any."""
    versions: set[int] = set()
    if if_match and if_match.strip() != "*":
        for part in if_match.split(","):
            match = _ETAG_VERSION.match(part.strip())
            if not match:
                raise ApiError(400, f"If-Match must be an ETag such as '\"3\"', got {if_match!r}")
            versions.add(int(match[1]))
    if body_version is not None:
        versions.add(body_version)
    if len(versions) > 1:
        raise ApiError(409, "If-Match and the body's version disagree", code="conflict")
    return versions.pop() if versions else None


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for raw in values or [] for v in raw.split(",") if v.strip()]


def _check_choice(name: str, values: list[str], allowed: tuple[str, ...]) -> list[str]:
    for value in values:
        if value not in allowed:
            raise ApiError(
                422,
                f"Invalid request: {name}: must be one of {', '.join(allowed)}",
                details=[{"loc": ["query", name], "msg": f"unknown value {value!r}"}],
            )
    return values


def _due_param(name: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return _DUE_ADAPTER.validate_python(value)
    except ValidationError:
        raise ApiError(
            422,
            f"Invalid request: {name}: a timezone-aware ISO 8601 date-time or a date",
            details=[{"loc": ["query", name], "msg": "invalid date"}],
        ) from None


def _task_response(response: Response, row: dict[str, Any]) -> TaskPublic:
    response.headers["ETag"] = etag(row["version"])
    return TaskPublic.model_validate(row)


def _conflict(exc: store.VersionConflict) -> ApiError:
    return ApiError(
        409,
        f"The task changed since you read it (it is at version {exc.current}); "
        "read it again and retry",
        code="conflict",
        details={"current_version": exc.current},
        headers={"ETag": etag(exc.current)},
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TaskPublic)
async def create_task(task_in: TaskCreate, pool: PoolDep, response: Response) -> TaskPublic:
    """Create a task (publishes task.created)."""
    async with pool.connection() as conn:
        row = await store.create_task(conn=conn, task_in=task_in)
    response.headers["Location"] = f"/api/tasks/{row['id']}"
    return _task_response(response, row)


@router.get("", response_model=TasksPublic)
async def list_tasks(
    pool: PoolDep,
    status_: Annotated[list[str] | None, Query(alias="status")] = None,
    priority: Annotated[list[str] | None, Query()] = None,
    tag: Annotated[list[str] | None, Query()] = None,
    assignee: Annotated[str | None, Query(max_length=100)] = None,
    due_before: Annotated[str | None, Query()] = None,
    due_after: Annotated[str | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    sort: SortKey = "-created_at",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> TasksPublic:
    """List tasks, newest first by default; follow `next_cursor` for the next page."""
    try:
        tags = normalize_tags(_split(tag))
    except ValueError as exc:
        raise ApiError(422, f"Invalid request: tag: {exc}") from None
    async with pool.connection() as conn:
        try:
            rows, next_cursor = await store.list_tasks(
                conn=conn,
                status=_check_choice("status", _split(status_), STATUSES),
                priority=_check_choice("priority", _split(priority), PRIORITIES),
                tag=tags,
                assignee=assignee,
                due_before=_due_param("due_before", due_before),
                due_after=_due_param("due_after", due_after),
                q=q.strip() if q else None,
                sort=sort,
                limit=limit,
                cursor=cursor,
            )
        except store.InvalidCursor as exc:
            raise ApiError(422, f"Invalid request: cursor: {exc}") from None
    return TasksPublic(items=[TaskPublic.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/{task_id}", response_model=TaskPublic)
async def get_task(task_id: str, pool: PoolDep, response: Response) -> TaskPublic:
    """Read one task."""
    async with pool.connection() as conn:
        try:
            row = await store.get_task(conn=conn, task_id=parse_task_id(task_id))
        except store.TaskNotFound:
            raise ApiError(404, f"No task with id {task_id!r}") from None
    return _task_response(response, row)


async def _update(
    pool: PoolDep,
    task_id: str,
    changes: dict[str, Any],
    version: int | None,
    if_match: str | None,
    response: Response,
) -> TaskPublic:
    uid = parse_task_id(task_id)
    expected = expected_version(if_match, version)
    async with pool.connection() as conn:
        try:
            row = await store.update_task(
                conn=conn, task_id=uid, changes=changes, expected_version=expected
            )
        except store.TaskNotFound:
            raise ApiError(404, f"No task with id {task_id!r}") from None
        except store.VersionConflict as exc:
            raise _conflict(exc) from None
    return _task_response(response, row)


@router.put("/{task_id}", response_model=TaskPublic)
async def replace_task(
    task_id: str,
    task_in: TaskCreate,
    pool: PoolDep,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> TaskPublic:
    """Replace a task (fields left out take their defaults; publishes task.updated)."""
    changes = task_in.model_dump(exclude={"version"})
    return await _update(pool, task_id, changes, task_in.version, if_match, response)


@router.patch("/{task_id}", response_model=TaskPublic)
async def patch_task(
    task_id: str,
    task_in: Annotated[TaskUpdate, Body()],
    pool: PoolDep,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> TaskPublic:
    """Change some fields of a task (publishes task.updated)."""
    return await _update(pool, task_id, task_in.changes(), task_in.version, if_match, response)


@router.delete("/{task_id}")
async def delete_task(
    task_id: str,
    pool: PoolDep,
    if_match: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """Delete a task and its file links (publishes task.deleted)."""
    uid = parse_task_id(task_id)
    expected = expected_version(if_match, None)
    async with pool.connection() as conn:
        try:
            row = await store.delete_task(conn=conn, task_id=uid, expected_version=expected)
        except store.TaskNotFound:
            raise ApiError(404, f"No task with id {task_id!r}") from None
        except store.VersionConflict as exc:
            raise _conflict(exc) from None
    return {"deleted": True, "task": store.task_json(row)}


@router.get("/{task_id}/files", response_model=TaskFilesPublic)
async def list_task_files(task_id: str, pool: PoolDep) -> dict[str, Any]:
    """The files linked to a task, oldest link first."""
    async with pool.connection() as conn:
        try:
            rows = await store.list_task_files(conn=conn, task_id=parse_task_id(task_id))
        except store.TaskNotFound:
            raise ApiError(404, f"No task with id {task_id!r}") from None
    return {"items": rows}
