"""Ari's event handlers (contract: `skyras.consumer`), wired by the consumer loop.

`file.uploaded` and `file.tagged`: a file tagged `master` (the default
preset) or `master:<preset>` (several tags, several targets) is queued for
mastering, in the consumer's transaction; the job row is keyed by the event
id, so a redelivered event queues nothing twice. Files Ari made itself carry
the `master` tag too and are left alone. A tag naming no preset, or a file
that is not audio, gets an `audio.failed` event saying so instead of a job.
"""

from typing import Any
from uuid import UUID

from psycopg import AsyncConnection

from skyras.consumer import Handler
from skyras.events import Event
from skyras_ari import store
from skyras_ari.jobs import add_audio_event, stored_targets
from skyras_ari.letitia import is_ari_output
from skyras_ari.models import TargetIn
from skyras_ari.presets import DEFAULT_PRESET, PRESETS, find_preset

MASTER_TAG = "master"


def presets_asked(tags: list[str]) -> tuple[list[str], list[str]]:
    """(presets, unknown names) from `master` / `master:<preset>` tags."""
    presets: list[str] = []
    unknown: list[str] = []
    for tag in tags:
        if tag == MASTER_TAG:
            name: str | None = DEFAULT_PRESET
        elif tag.startswith(f"{MASTER_TAG}:"):
            wanted = tag.split(":", 1)[1]
            preset = find_preset(wanted)
            name = preset.name if preset else None
            if name is None:
                unknown.append(wanted)
        else:
            continue
        if name and name not in presets:
            presets.append(name)
    return presets, unknown


async def _master_tagged(event: Event, conn: AsyncConnection[Any], tags: list[str]) -> None:
    file = event.data.get("file") or {}
    all_tags = list(file.get("tags") or [])
    if is_ari_output(all_tags):
        return  # a master Ari stored: not a request
    presets, unknown = presets_asked(tags)
    if not presets and not unknown:
        return
    try:
        file_id = UUID(str(file["id"]))
    except (KeyError, ValueError):
        return  # not a file we can read; nothing to retry
    failure: dict[str, Any] | None = None
    if unknown:
        failure = {
            "code": "unknown_preset",
            "message": f"No preset named {', '.join(unknown)}; presets: {', '.join(PRESETS)}",
        }
    elif not file.get("has_content"):
        failure = {"code": "no_content", "message": f"{file.get('filename')} has no stored audio"}
    elif file.get("file_type") not in ("audio", "video"):
        failure = {"code": "not_audio", "message": f"{file.get('filename')} is not an audio file"}
    if failure:
        await add_audio_event(
            conn, "audio.failed", file_id=file_id,
            data={"filename": file.get("filename"), "error": failure},
            correlation_id=event.correlationid,
        )  # fmt: skip
        return
    await store.create_job(
        conn=conn,
        source_file_id=file_id,
        source_filename=str(file.get("filename") or file_id),
        targets=stored_targets([TargetIn(preset=p) for p in presets]),
        requested_by="tag",
        trigger_event_id=event.id,
        correlation_id=event.correlationid,
    )


async def handle_file_uploaded(event: Event, conn: AsyncConnection[Any]) -> None:
    """Uploaded already tagged `master`: queue it."""
    await _master_tagged(event, conn, list((event.data.get("file") or {}).get("tags") or []))


async def handle_file_tagged(event: Event, conn: AsyncConnection[Any]) -> None:
    """Tagged `master` later: queue it (only the tags just added count)."""
    await _master_tagged(event, conn, list(event.data.get("added") or []))


HANDLERS: dict[str, Handler] = {
    "file.uploaded": handle_file_uploaded,
    "file.tagged": handle_file_tagged,
}
