"""Marcus's event handlers (the contract is in `skyras.consumer`).

`file.uploaded`: each task the new file belongs with (`skyras.linking`: a
shared tag, or the task's title or description names the file or its stem)
gets a new version and a `task.updated` event carrying `linked_file` and
`reason`. Letitia, which owns the links, writes the `task_files` row from
that event and publishes `file.associated`. Handlers never commit: the
consumer does, together with its `processed_events` row, so a redelivered
event is not handled twice.
"""

import logging
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection

from skyras.consumer import Handler
from skyras.events import Event
from skyras.linking import link_reason
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
    matched = 0
    for task in await store.tasks_naming_or_tagged(conn=conn, filename=filename, tags=tags):
        reason = link_reason(
            task_title=task["title"],
            task_description=task["description"] or "",
            task_tags=task["tags"],
            filename=filename,
            file_tags=tags,
        )
        if reason is None:
            continue
        await store.update_task(
            conn=conn,
            task_id=task["id"],
            changes={},
            event_extra={"linked_file": str(file_id), "reason": reason},
        )
        matched += 1
    if matched:
        log.info("file %s (%s) belongs with %d task(s)", file_id, filename, matched)


HANDLERS: dict[str, Handler] = {"file.uploaded": handle_file_uploaded}
