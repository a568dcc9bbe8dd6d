"""Letitia's event handlers (contract: `skyras.consumer`), wired by the consumer loop.

Letitia owns the task ↔ file links (`task_files`); the rule is `skyras.linking`.

`task.created`: link the files that belong to the new task (they share a tag
with it, or the task's title or description names them) and publish
`file.associated` for each new link.

`task.updated` carrying `linked_file`: Marcus found that a newly uploaded
file belongs with one of its tasks (the same rule, applied to its tasks);
Letitia writes that link and publishes `file.associated`.

All in the consumer's transaction, so a redelivered event changes nothing
twice. A task or file gone by then links nothing (the foreign keys say so).
"""

from typing import Any
from uuid import UUID

from psycopg import AsyncConnection

from skyras.consumer import Handler
from skyras.events import Event
from skyras.linking import link_reason
from skyras.tags import lenient_tags
from skyras_letitia import library, store


async def handle_task_created(event: Event, conn: AsyncConnection[Any]) -> None:
    """Associate matching files with the new task."""
    task = event.data.get("task") or {}
    try:
        task_id = UUID(str(task["id"]))
    except (KeyError, ValueError):
        return  # not a task we can link to; nothing to retry
    tags = lenient_tags(task.get("tags"))
    title, description = str(task.get("title") or ""), str(task.get("description") or "")
    text = f"{title}\n{description}".lower()
    for row in await store.files_matching_task(conn=conn, tags=tags, text=text):
        reason = link_reason(
            task_title=title,
            task_description=description,
            task_tags=tags,
            filename=row["filename"],
            file_tags=row["tags"],
        )
        if reason is None:
            continue
        try:
            await library.link_to_task(conn, row, task_id, reason, event.correlationid)
        except store.LinkTargetGone:
            return  # the task was deleted before we got here


async def handle_task_updated(event: Event, conn: AsyncConnection[Any]) -> None:
    """Write the link Marcus reported for an uploaded file (other updates: nothing to do)."""
    if "linked_file" not in event.data:
        return
    try:
        task_id = UUID(str((event.data.get("task") or {})["id"]))
        file_id = UUID(str(event.data["linked_file"]))
    except (KeyError, ValueError):
        return  # not a link we can write; nothing to retry
    row = await store.get_file(conn=conn, file_id=file_id)
    if row is None:
        return  # deleted before we got here
    reason = str(event.data.get("reason") or "")
    try:
        await library.link_to_task(conn, row, task_id, reason, event.correlationid)
    except store.LinkTargetGone:
        return  # the task was deleted before we got here


HANDLERS: dict[str, Handler] = {
    "task.created": handle_task_created,
    "task.updated": handle_task_updated,
}
