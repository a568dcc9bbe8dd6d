"""Giorgio's event handlers (contract: `skyras.consumer`): events become queued jobs.

`task.created` with `assignee: giorgio`: the task's title and description
are read as a chat request ("Cover for "Night Drive" by Aurora Lane, neon");
the job is linked to the task, so what it makes is linked to it in Letitia.
`release.created` (Jamal): a release kit (artwork and copy) for the release
in `data.release`, linked by its id. The job itself runs in the worker
(`generations.job_worker`), not in the consumer's transaction.
"""

import logging
from typing import Any

from psycopg import AsyncConnection
from pydantic import ValidationError

from skyras.consumer import Handler
from skyras.errors import ApiError
from skyras.events import Event
from skyras_giorgio import chat, generations
from skyras_giorgio.config import GiorgioSettings
from skyras_giorgio.models import GenerateRequest

log = logging.getLogger("skyras_giorgio.handlers")

ASSIGNEE = "giorgio"


async def _enqueue(
    conn: AsyncConnection[Any], body: dict[str, Any], event: Event, settings: GiorgioSettings
) -> None:
    try:
        request = GenerateRequest.model_validate(body)
        generations.check_request(settings, request)
    except (ValidationError, ApiError) as exc:
        log.warning("%s %s asks for nothing Giorgio can make: %s", event.type, event.id, exc)
        return  # bad input is not retried
    await generations.record_request(conn, request=request, settings=settings, run_now=False)


def task_created_handler(settings: GiorgioSettings) -> Handler:
    async def handle_task_created(event: Event, conn: AsyncConnection[Any]) -> None:
        task = event.data.get("task") or {}
        if str(task.get("assignee") or "").strip().lower() != ASSIGNEE:
            return
        intent = chat.understand(f"{task.get('title') or ''}\n{task.get('description') or ''}")
        if not intent.title:
            log.info(
                "task %s assigned to giorgio names no release title; nothing queued", task.get("id")
            )
            return
        body = {
            **intent.request_body(),
            "kind": intent.kind or "release_kit",
            "task_id": task.get("id"),
        }
        await _enqueue(conn, body, event, settings)

    return handle_task_created


def release_created_handler(settings: GiorgioSettings) -> Handler:
    async def handle_release_created(event: Event, conn: AsyncConnection[Any]) -> None:
        release = event.data.get("release") or {}
        fields = (
            "title",
            "artist",
            "description",
            "genre",
            "label",
            "release_date",
            "tracks",
            "link",
        )
        body = {
            "kind": "release_kit",
            "release": {k: release[k] for k in fields if release.get(k) not in (None, "", [])},
            "release_id": str(release.get("id")) if release.get("id") else None,
        }
        await _enqueue(conn, body, event, settings)

    return handle_release_created


def handlers(settings: GiorgioSettings) -> dict[str, Handler]:
    return {
        "task.created": task_created_handler(settings),
        "release.created": release_created_handler(settings),
    }
