"""Letitia's event handlers (contract: `skyras.consumer`), wired by the consumer loop.

`task.created`: link the files that belong to the new task (they share a tag
with it, or the task's title or description names them) with `task_files`
rows, and publish `file.associated` for each new link, all in the consumer's
transaction, so a redelivered event changes nothing twice.
"""

import re
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection

from skyras.consumer import Handler
from skyras.events import Event
from skyras.tags import lenient_tags
from skyras_letitia import library, store


def _named_in(text: str, name: str) -> bool:
    """`name` occurs in `text` as a whole word (case-insensitive), not inside another word."""
    if not name:
        return False
    return re.search(rf"(?<!\w){re.escape(name.lower())}(?!\w)", text) is not None


def _reason(row: dict[str, Any], tags: list[str], text: str) -> str | None:
    shared = [t for t in row["tags"] if t in tags]
    if shared:
        return f"tagged {', '.join(shared)}"
    if _named_in(text, row["filename"]):
        return f"named in the task: {row['filename']}"
    stem = row["stem"]
    if len(stem) >= 3 and _named_in(text, stem):
        return f"named in the task: {stem}"
    return None


async def handle_task_created(event: Event, conn: AsyncConnection[Any]) -> None:
    """Associate matching files with the new task."""
    task = event.data.get("task") or {}
    try:
        task_id = UUID(str(task["id"]))
    except (KeyError, ValueError):
        return  # not a task we can link to; nothing to retry
    if not await store.task_exists(conn=conn, task_id=task_id):
        return  # deleted before we got here
    tags = lenient_tags(task.get("tags"))
    text = f"{task.get('title') or ''}\n{task.get('description') or ''}".lower()
    for row in await store.files_matching_task(conn=conn, tags=tags, text=text):
        reason = _reason(row, tags, text)
        if reason is None:
            continue
        await library.link_to_task(conn, row, task_id, reason, event.correlationid)


HANDLERS: dict[str, Handler] = {"task.created": handle_task_created}
