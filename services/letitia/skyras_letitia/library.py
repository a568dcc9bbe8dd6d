"""Letitia's operations on the library: each change is one transaction with its event.

Who reads it: the file routes and chat. Each function writes its rows and
its `file.*` event (`skyras.outbox.add_event`) in the same transaction, then,
after the commit, updates the search index and removes bytes nothing
references any more.
"""

import logging
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

from skyras import outbox
from skyras.db import Pool
from skyras.errors import ApiError
from skyras_letitia import content, store
from skyras_letitia.config import LetitiaSettings
from skyras_letitia.models import (
    MAX_DESCRIPTION_LENGTH,
    MAX_TITLE_LENGTH,
    FileCreate,
    clean_filename,
    normalize_tags,
)
from skyras_letitia.multipart import MultipartReader, Part
from skyras_letitia.search import SearchBackend
from skyras_letitia.storage import Storage, StoredObject

log = logging.getLogger("skyras_letitia.library")

SOURCE = "/agents/letitia"
# Form fields other than the file are small; anything bigger is refused.
MAX_FIELD_BYTES = 64 * 1024
# After refusing an oversized upload, read (and drop) this much more of the
# body so the client gets to see the 413 instead of a reset connection.
DRAIN_AFTER_REFUSAL = 16 * 1024 * 1024


class UploadTooLarge(ApiError):
    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            f"The file is larger than the upload limit of {limit} bytes",
            details={"max_upload_bytes": limit},
        )


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(
        422,
        f"Invalid request: {field}: {message}",
        details=[{"loc": ["body", field], "msg": message, "type": "value_error"}],
    )


async def _publish(conn: store.Conn, event_type: str, row: dict[str, Any], **extra: Any) -> None:
    await outbox.add_event(
        conn,
        type=event_type,
        source=SOURCE,
        subject=f"files/{row['id']}",
        data={"file": store.file_json(row), **extra},
    )


async def create_record(
    *, pool: Pool, search: SearchBackend, file_in: FileCreate
) -> dict[str, Any]:
    """A record from metadata alone (the prototype's JSON call)."""
    file_type = file_in.file_type or content.file_type_from_name(file_in.filename)
    async with pool.connection() as conn, conn.transaction():
        row = await store.create_file(
            conn=conn,
            filename=file_in.filename,
            file_type=file_type,
            file_size=file_in.file_size,
            tags=file_in.tags,
            title=file_in.title,
            description=file_in.description,
            content_type=file_in.content_type or content.guess_from_name(file_in.filename),
        )
        await _publish(conn, "file.uploaded", row)
    await search.index_file(row)
    return row


async def _limited(
    chunks: AsyncIterator[bytes], limit: int, head: bytearray
) -> AsyncIterator[bytes]:
    """Pass chunks through, keeping the first bytes for sniffing; raise past the limit."""
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise UploadTooLarge(limit)
        if len(head) < content.SNIFF_BYTES:
            head += chunk[: content.SNIFF_BYTES - len(head)]
        yield chunk


def _text_field(name: str, value: str, max_length: int) -> str:
    value = value.strip()
    if len(value) > max_length:
        raise _invalid(name, f"must be at most {max_length} characters")
    return value


async def upload(
    *,
    pool: Pool,
    storage: Storage,
    search: SearchBackend,
    settings: LetitiaSettings,
    reader: MultipartReader,
) -> dict[str, Any]:
    """Store the `file` part of a multipart body and create its record."""
    stored: StoredObject | None = None
    filename: str | None = None
    head = bytearray()
    tag_values: list[str] = []
    title = description = ""
    task_id: UUID | None = None
    try:
        while (part := await reader.next_part()) is not None:
            if part.filename is not None and part.name == "file":
                if stored is not None:
                    raise _invalid("file", "send one file per upload")
                filename = _uploaded_name(part)
                limited = _limited(reader.chunks(), settings.max_upload_bytes, head)
                stored = await storage.put_stream(limited)
            elif part.filename is not None:
                raise _invalid(part.name, "only the 'file' field may carry a file")
            else:
                value = await reader.text(MAX_FIELD_BYTES)
                if part.name == "tags":
                    tag_values.append(value)
                elif part.name == "title":
                    title = _text_field("title", value, MAX_TITLE_LENGTH)
                elif part.name == "description":
                    description = _text_field("description", value, MAX_DESCRIPTION_LENGTH)
                elif part.name == "task_id":
                    task_id = _task_id_field(value)
        if stored is None or filename is None:
            raise _invalid("file", "a multipart upload needs a 'file' part with a filename")
        try:
            tags = normalize_tags([t for value in tag_values for t in value.split(",")])
        except ValueError as exc:
            raise _invalid("tags", str(exc)) from exc
        content_type = content.sniff_content_type(bytes(head), filename)
        async with pool.connection() as conn, conn.transaction():
            await store.lock_content(conn=conn, storage_key=stored.key)
            if not await storage.exists(stored.key):
                # A delete (or a failed upload of the same bytes) removed the last
                # copy between our write and this lock.
                raise ApiError(
                    503,
                    "The upload raced with a delete; send it again",
                    headers={"Retry-After": "1"},
                )
            row = await store.create_file(
                conn=conn,
                filename=filename,
                file_type=content.file_type_for(content_type),
                file_size=stored.size,
                tags=tags,
                title=title,
                description=description,
                content_type=content_type,
                sha256=stored.sha256,
                storage_key=stored.key,
            )
            await _publish(conn, "file.uploaded", row)
            if task_id is not None:
                await _link_upload_to_task(conn, row, task_id)
    except UploadTooLarge:
        await reader.drain(DRAIN_AFTER_REFUSAL)
        raise
    except BaseException:
        if stored is not None and stored.created:
            await _discard_if_unreferenced(pool=pool, storage=storage, key=stored.key)
        raise
    await search.index_file(row)
    return row


def _task_id_field(value: str) -> UUID:
    try:
        return UUID(value.strip())
    except ValueError as exc:
        raise _invalid("task_id", "must be a task id (a UUID)") from exc


UPLOADED_FOR_TASK = "uploaded for this task"


async def link_to_task(
    conn: store.Conn,
    row: dict[str, Any],
    task_id: UUID,
    reason: str,
    correlation_id: str | None = None,
) -> bool:
    """A `task_files` row and its `file.associated` event; False if the link was there already."""
    if not await store.link_task_file(conn=conn, task_id=task_id, file_id=row["id"], reason=reason):
        return False
    await outbox.add_event(
        conn,
        type="file.associated",
        source=SOURCE,
        subject=f"files/{row['id']}",
        data={
            "file_id": str(row["id"]),
            "task_id": str(task_id),
            "reason": reason,
            "filename": row["filename"],
        },
        correlation_id=correlation_id,
    )
    return True


async def _link_upload_to_task(conn: store.Conn, row: dict[str, Any], task_id: UUID) -> None:
    """The `task_id` field of an upload (an agent storing what it made for a task)."""
    try:
        await link_to_task(conn, row, task_id, UPLOADED_FOR_TASK)
    except store.LinkTargetGone:
        raise _invalid("task_id", f"no task with id {task_id}") from None


def _uploaded_name(part: Part) -> str:
    try:
        return clean_filename(part.filename or "", strip_directories=True)
    except ValueError as exc:
        raise _invalid("filename", str(exc)) from exc


async def _discard_if_unreferenced(*, pool: Pool, storage: Storage, key: str) -> None:
    try:
        async with pool.connection() as conn, conn.transaction():
            await store.lock_content(conn=conn, storage_key=key)
            if not await store.content_referenced(conn=conn, storage_key=key):
                await storage.delete(key)
    except Exception:
        log.exception("could not remove unreferenced content %s", key)


async def delete(*, pool: Pool, storage: Storage, search: SearchBackend, file_id: UUID) -> None:
    """Delete the record; its bytes go too when no other record shares them."""
    async with pool.connection() as conn, conn.transaction():
        row = await store.delete_file(conn=conn, file_id=file_id)
        if row is None:
            raise ApiError(404, f"No file with id {file_id}")
        await _publish(conn, "file.deleted", row)
        key = row["storage_key"]
        if key:
            # Under the content lock, so an upload of the same bytes either
            # sees them gone (and retries) or commits its row before we look.
            await store.lock_content(conn=conn, storage_key=key)
            if not await store.content_referenced(conn=conn, storage_key=key):
                await storage.delete(key)
    await search.remove_file(str(file_id))


async def add_tags(
    *, pool: Pool, search: SearchBackend, file_id: UUID, tags: list[str]
) -> dict[str, Any]:
    async with pool.connection() as conn, conn.transaction():
        row, added = await store.add_tags(conn=conn, file_id=file_id, tags=tags)
        if added:
            await _publish(conn, "file.tagged", row, added=added, removed=[])
    if added:
        await search.index_file(row)
    return row


async def remove_tag(
    *, pool: Pool, search: SearchBackend, file_id: UUID, tag: str
) -> dict[str, Any]:
    async with pool.connection() as conn, conn.transaction():
        row, removed = await store.remove_tag(conn=conn, file_id=file_id, tag=tag)
        if removed:
            await _publish(conn, "file.tagged", row, added=[], removed=[tag])
    if removed:
        await search.index_file(row)
    return row
