"""`/api/files`: records, uploads, downloads, tags and linked tasks."""

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from pydantic import ValidationError
from starlette.requests import ClientDisconnect

from skyras.errors import ApiError
from skyras_letitia import library, ranges, store
from skyras_letitia.api.deps import PoolDep, SearchDep, SettingsDep, StorageDep
from skyras_letitia.models import (
    FileCreate,
    FilePublic,
    FilesPublic,
    FileTasksPublic,
    FileType,
    TagsIn,
    normalize_tag,
    normalize_tags,
)
from skyras_letitia.multipart import MultipartReader, boundary_of

router = APIRouter(prefix="/api/files", tags=["files"])

MAX_JSON_BYTES = 1024 * 1024
# Multipart framing around the file: boundaries, part headers, small fields.
MULTIPART_OVERHEAD = 1024 * 1024

_CREATE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": FileCreate.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "tags": {"type": "string", "description": "comma separated, or repeated"},
                        "title": {"type": "string"},
                        "description": {"type": "string"},
                        "task_id": {
                            "type": "string",
                            "format": "uuid",
                            "description": "link the file to this task",
                        },
                    },
                }
            },
        },
    }
}


async def _json_body(request: Request) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_JSON_BYTES:
            raise ApiError(413, f"A JSON body may be at most {MAX_JSON_BYTES} bytes")
    return bytes(body)


@router.post(
    "",
    status_code=201,
    response_model=FilePublic,
    openapi_extra=_CREATE_BODY,
    summary="Create a file record (JSON) or upload a file (multipart/form-data)",
)
async def create_file(
    request: Request,
    pool: PoolDep,
    storage: StorageDep,
    search: SearchDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """JSON creates a record from metadata; multipart streams the bytes to storage."""
    content_type = request.headers.get("content-type", "")
    if content_type.lower().startswith("multipart/"):
        length = request.headers.get("content-length")
        if (
            length
            and length.isdigit()
            and int(length) > settings.max_upload_bytes + MULTIPART_OVERHEAD
        ):
            raise library.UploadTooLarge(settings.max_upload_bytes)
        # The boundary is case-sensitive (browsers send ----WebKitFormBoundaryAbC...).
        reader = MultipartReader(request.stream(), boundary_of(content_type))
        try:
            row = await library.upload(
                pool=pool, storage=storage, search=search, settings=settings, reader=reader
            )
        except ClientDisconnect as exc:
            # Nothing was kept; the answer goes nowhere, but keeps the logs free of traces.
            raise ApiError(400, "The client went away before the upload ended") from exc
        return store.file_json(row)
    if content_type and not content_type.lower().startswith("application/json"):
        raise ApiError(415, "Send application/json (a record) or multipart/form-data (a file)")
    try:
        file_in = FileCreate.model_validate_json(await _json_body(request))
    except ValidationError as exc:
        raise RequestValidationError(
            [{**err, "loc": ("body", *err["loc"])} for err in exc.errors(include_url=False)]
        ) from exc
    row = await library.create_record(pool=pool, search=search, file_in=file_in)
    return store.file_json(row)


@router.get("", response_model=FilesPublic)
async def list_files(
    pool: PoolDep,
    file_type: FileType | None = None,
    tag: Annotated[list[str] | None, Query(description="repeat to require several")] = None,
    q: Annotated[str | None, Query(max_length=500)] = None,
    uploaded_after: datetime | None = None,
    uploaded_before: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Files, newest first, filtered, one page at a time (pass `next_cursor` back)."""
    try:
        tags = normalize_tags(tag or [])
    except ValueError as exc:
        raise ApiError(422, f"Invalid request: tag: {exc}") from exc
    async with pool.connection() as conn:
        rows, next_cursor = await store.list_files(
            conn=conn,
            limit=limit,
            cursor=cursor,
            file_type=file_type,
            tags=tags,
            q=q,
            uploaded_after=uploaded_after,
            uploaded_before=uploaded_before,
        )
    return {"items": [store.file_json(r) for r in rows], "next_cursor": next_cursor}


async def _get_or_404(pool: PoolDep, file_id: UUID) -> dict[str, Any]:
    async with pool.connection() as conn:
        row = await store.get_file(conn=conn, file_id=file_id)
    if row is None:
        raise ApiError(404, f"No file with id {file_id}", details={"id": str(file_id)})
    return row


@router.get("/{file_id}", response_model=FilePublic)
async def get_file(file_id: UUID, pool: PoolDep) -> dict[str, Any]:
    """One file record."""
    return store.file_json(await _get_or_404(pool, file_id))


_CONTENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/octet-stream": {}}, "description": "The bytes"},
    206: {"description": "The requested range"},
    416: {"description": "The range is outside the file"},
}


@router.get("/{file_id}/content", response_class=StreamingResponse, responses=_CONTENT_RESPONSES)
@router.head("/{file_id}/content", response_class=StreamingResponse, responses=_CONTENT_RESPONSES)
async def get_content(
    file_id: UUID, request: Request, pool: PoolDep, storage: StorageDep
) -> Response:
    """The file's bytes, streamed; supports `Range` (206/416), `If-Range` and `If-None-Match`."""
    row = await _get_or_404(pool, file_id)
    if not row["storage_key"]:
        raise ApiError(404, "This record has no stored content (metadata only)", code="no_content")
    size = int(row["file_size"])
    etag = f'"{row["sha256"]}"'
    headers = {
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Content-Disposition": ranges.content_disposition(row["filename"]),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=0, must-revalidate",
    }
    media_type = row["content_type"] or "application/octet-stream"
    if etag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    if_range = request.headers.get("if-range")
    wanted = None if if_range and if_range.strip() != etag else request.headers.get("range")
    span = ranges.parse_range(wanted, size)
    status = 200
    start, end = 0, size - 1
    if span is not None:
        status = 206
        start, end = span
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    headers["Content-Length"] = str(end - start + 1 if size else 0)
    if request.method == "HEAD" or size == 0:
        return Response(status_code=status, headers=headers, media_type=media_type)
    body = storage.open_stream(row["storage_key"], start, end)
    try:
        # Open before answering, so a missing object is an error, not a cut stream.
        first = await anext(body)
    except (FileNotFoundError, StopAsyncIteration) as exc:
        raise ApiError(404, "The stored content is missing", code="content_missing") from exc

    async def stream() -> AsyncIterator[bytes]:
        yield first
        async for chunk in body:
            yield chunk

    return StreamingResponse(stream(), status_code=status, headers=headers, media_type=media_type)


@router.delete("/{file_id}", status_code=204, response_class=Response)
async def delete_file(
    file_id: UUID, pool: PoolDep, storage: StorageDep, search: SearchDep
) -> Response:
    """Delete the record; the bytes go when no other record has the same content."""
    await library.delete(pool=pool, storage=storage, search=search, file_id=file_id)
    return Response(status_code=204)


@router.post("/{file_id}/tags", response_model=FilePublic)
async def add_tags(
    file_id: UUID, tags_in: TagsIn, pool: PoolDep, search: SearchDep
) -> dict[str, Any]:
    """Add tags (normalized; ones already there are ignored)."""
    row = await library.add_tags(pool=pool, search=search, file_id=file_id, tags=tags_in.tags)
    return store.file_json(row)


@router.delete("/{file_id}/tags/{tag:path}", response_model=FilePublic)
async def remove_tag(file_id: UUID, tag: str, pool: PoolDep, search: SearchDep) -> dict[str, Any]:
    """Remove one tag (a tag the file does not carry is not an error)."""
    try:
        normalized = normalize_tag(tag)
    except ValueError as exc:
        raise ApiError(422, f"Invalid request: tag: {exc}") from exc
    row = await library.remove_tag(pool=pool, search=search, file_id=file_id, tag=normalized)
    return store.file_json(row)


@router.get("/{file_id}/tasks", response_model=FileTasksPublic)
async def file_tasks(file_id: UUID, pool: PoolDep) -> dict[str, Any]:
    """Tasks this file is linked to (task_files), with why."""
    await _get_or_404(pool, file_id)
    async with pool.connection() as conn:
        return {"items": await store.tasks_for_file(conn=conn, file_id=file_id)}
