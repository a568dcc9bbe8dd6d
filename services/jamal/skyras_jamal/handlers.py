"""Jamal's event handlers (contract: `skyras.consumer`), wired by the consumer loop (group "jamal").

`file.deleted`: a release whose audio or artwork Letitia no longer has cannot
go out, and a published episode would send podcast apps to a dead enclosure.
So its scheduled channels, and its published podcast channel (the episode
leaves the feed), become `failed` with the reason, each with a
`release.failed` event, in the consumer's transaction: a redelivered event
changes nothing twice. What the webhook and bucket channels already delivered
stays delivered.
"""

from typing import Any
from uuid import UUID

from psycopg import AsyncConnection

from skyras.consumer import Handler
from skyras.events import Event
from skyras_jamal import store
from skyras_jamal.config import JamalSettings
from skyras_jamal.releases import record_release_event


def make_handlers(settings: JamalSettings) -> dict[str, Handler]:
    async def handle_file_deleted(event: Event, conn: AsyncConnection[Any]) -> None:
        file = event.data.get("file") or {}
        if "id" not in file:
            return
        error = f"{file.get('filename') or 'a file'} was deleted from Letitia"
        failed = await store.fail_channels_for_file(
            conn=conn, file_id=UUID(file["id"]), error=error
        )
        for release_id, channel in failed:
            row = await store.get_release(conn=conn, release_id=release_id)
            await record_release_event(
                conn, "release.failed", row, settings, channel=channel, error=error
            )

    return {"file.deleted": handle_file_deleted}
