"""Marcus's event handlers (the contract is in `skyras.consumer`).

`file.uploaded`: a file that shares a tag with a task, or that a task's title
or description names (the filename, or the filename without its extension),
is linked to that task with a `task_files` row; each newly linked task gets a
new version and a `task.updated` event carrying `linked_file`. Handlers never
commit: the consumer does, together with its `processed_events` row.
"""

import logging
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection

from skyras.consumer import Handler
from skyras.events import Event
from skyras.tags import lenient_tags
from skyras_marcus import store

log = logging.getLogger("skyras_marcus.handlers")


async def handle_file_uploaded(event: Event, conn: AsyncConnection[Any]) -> None:
    record = event.data.get("file") or {}
    try:
        file_id = UUID(str(record["id"]))
        filename = str(record.get("filename") or "")
    except (KeyError, ValueError):
        log.warning("file.uploaded %s carries no usable file record; ignored", event.id)
        return
    tags = lenient_tags(record.get("tags"))
    if not await store.file_exists(conn=conn, file_id=file_id):
        log.info("file %s from event %s no longer exists; nothing to link", file_id, event.id)
        return
    links = await store.link_file_to_matching_tasks(
        conn=conn, file_id=file_id, filename=filename, tags=tags
    )
    for link in links:
        await store.update_task(
            conn=conn,
            task_id=link["task_id"],
            changes={},
            event_extra={"linked_file": str(file_id), "reason": link["reason"]},
        )
    if links:
        log.info("linked file %s (%s) to %d task(s)", file_id, filename, len(links))


HANDLERS: dict[str, Handler] = {"file.uploaded": handle_file_uploaded}
