"""Jamal's SQL: every query on shows, releases, release_channels and the delivery log.

Plain keyword-only functions on a connection; the caller owns the
transaction, so a write and its outbox event commit together.
"""

import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from skyras.events import new_event_id

Conn = AsyncConnection[DictRow]
Row = dict[str, Any]

SHOW_COLUMNS = (
    "title", "description", "language", "author", "owner_name", "owner_email", "explicit",
    "category", "subcategory", "artwork_file_id", "artwork",
)  # fmt: skip
RELEASE_COLUMNS = (
    "title", "artist", "description", "explicit", "audio_file_id", "audio",
    "artwork_file_id", "artwork", "publish_at",
)  # fmt: skip


class NotFound(LookupError):
    pass


def _value(value: Any) -> Any:
    return Jsonb(value) if isinstance(value, dict) else value


# ----- shows ----------------------------------------------------------------------


async def insert_show(*, conn: Conn, slug: str, values: dict[str, Any]) -> Row:
    columns = ["id", "slug", *SHOW_COLUMNS]
    params = [uuid.uuid4(), slug, *(_value(values[c]) for c in SHOW_COLUMNS)]
    cur = await conn.execute(
        f"INSERT INTO shows ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
        " ON CONFLICT (slug) DO NOTHING RETURNING *",
        params,
    )
    row = await cur.fetchone()
    if row is None:
        raise FileExistsError(slug)
    return row


async def update_show(*, conn: Conn, slug: str, values: dict[str, Any]) -> Row:
    sets = [f"{c} = %s" for c in values] + ["updated_at = now()"]
    cur = await conn.execute(
        f"UPDATE shows SET {', '.join(sets)} WHERE slug = %s RETURNING *",
        [*(_value(v) for v in values.values()), slug],
    )
    row = await cur.fetchone()
    if row is None:
        raise NotFound(slug)
    return row


async def get_show(*, conn: Conn, slug: str) -> Row:
    cur = await conn.execute("SELECT * FROM shows WHERE slug = %s", (slug,))
    row = await cur.fetchone()
    if row is None:
        raise NotFound(slug)
    return row


async def list_shows(*, conn: Conn) -> list[Row]:
    cur = await conn.execute("SELECT * FROM shows ORDER BY created_at, slug")
    return await cur.fetchall()


# ----- releases -------------------------------------------------------------------

_RELEASE_SELECT = """
    SELECT r.*, s.slug AS show_slug,
           COALESCE((SELECT json_agg(json_build_object(
                         'channel', c.channel, 'status', c.status, 'error', c.error,
                         'result', c.result, 'attempts', c.attempts,
                         'published_at', c.published_at, 'updated_at', c.updated_at)
                     ORDER BY array_position(ARRAY['podcast','webhook','bucket'], c.channel))
                     FROM release_channels c WHERE c.release_id = r.id), '[]') AS channels
      FROM releases r LEFT JOIN shows s ON s.id = r.show_id
"""


async def insert_release(
    *, conn: Conn, show_id: UUID | None, values: dict[str, Any], channels: list[str]
) -> UUID:
    release_id = new_event_id()  # UUIDv7: releases sort by creation
    columns = ["id", "show_id", "guid", *RELEASE_COLUMNS]
    # The GUID is fixed here, once: edits never change it, so apps never see a new episode.
    params = [release_id, show_id, str(release_id), *(_value(values[c]) for c in RELEASE_COLUMNS)]
    await conn.execute(
        f"INSERT INTO releases ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})",
        params,
    )
    await set_channels(conn=conn, release_id=release_id, channels=channels)
    return release_id


async def set_channels(*, conn: Conn, release_id: UUID, channels: list[str]) -> None:
    """Make the release's channels exactly these, each scheduled."""
    await conn.execute(
        "DELETE FROM release_channels WHERE release_id = %s AND NOT (channel = ANY(%s))",
        (release_id, channels),
    )
    for channel in channels:
        await conn.execute(
            """INSERT INTO release_channels (release_id, channel) VALUES (%s, %s)
               ON CONFLICT (release_id, channel) DO UPDATE
                  SET status = 'scheduled', error = NULL, updated_at = now()""",
            (release_id, channel),
        )


async def update_release(*, conn: Conn, release_id: UUID, values: dict[str, Any]) -> None:
    sets = [f"{c} = %s" for c in values] + ["version = version + 1", "updated_at = now()"]
    await conn.execute(
        f"UPDATE releases SET {', '.join(sets)} WHERE id = %s",
        [*(_value(v) for v in values.values()), release_id],
    )


async def get_release(*, conn: Conn, release_id: UUID, lock: bool = False) -> Row:
    if lock:
        await conn.execute("SELECT 1 FROM releases WHERE id = %s FOR UPDATE", (release_id,))
    cur = await conn.execute(f"{_RELEASE_SELECT} WHERE r.id = %s", (release_id,))
    row = await cur.fetchone()
    if row is None:
        raise NotFound(str(release_id))
    return row


async def list_releases(*, conn: Conn, show: str | None = None, limit: int = 100) -> list[Row]:
    where, params = ("WHERE s.slug = %s", [show]) if show else ("", [])
    cur = await conn.execute(
        f"{_RELEASE_SELECT} {where} ORDER BY r.publish_at DESC, r.id DESC LIMIT %s",
        [*params, limit],
    )
    return await cur.fetchall()


async def find_releases_by_title(*, conn: Conn, title: str) -> list[Row]:
    cur = await conn.execute(
        f"{_RELEASE_SELECT} WHERE lower(r.title) = lower(%s) ORDER BY r.created_at DESC", (title,)
    )
    return await cur.fetchall()


async def withdraw_release(*, conn: Conn, release_id: UUID) -> list[str]:
    """Every channel not yet withdrawn becomes withdrawn; returns those channels."""
    cur = await conn.execute(
        """UPDATE release_channels SET status = 'withdrawn', updated_at = now()
            WHERE release_id = %s AND status <> 'withdrawn' RETURNING channel""",
        (release_id,),
    )
    await conn.execute("UPDATE releases SET updated_at = now() WHERE id = %s", (release_id,))
    return [row["channel"] for row in await cur.fetchall()]


# ----- the feed -------------------------------------------------------------------


async def feed_items(*, conn: Conn, show_id: UUID) -> list[Row]:
    """The show's releases published on the podcast channel, newest first."""
    cur = await conn.execute(
        """SELECT r.*, c.published_at AS feed_published_at, c.updated_at AS feed_updated_at
             FROM releases r JOIN release_channels c
               ON c.release_id = r.id AND c.channel = 'podcast' AND c.status = 'published'
            WHERE r.show_id = %s
            ORDER BY r.publish_at DESC, r.id DESC""",
        (show_id,),
    )
    return await cur.fetchall()


async def feed_changed_at(*, conn: Conn, show_id: UUID) -> datetime:
    """When anything the feed shows last changed (an episode in or out, the show edited)."""
    cur = await conn.execute(
        """SELECT GREATEST(s.updated_at, max(c.updated_at)) AS changed
             FROM shows s
             LEFT JOIN releases r ON r.show_id = s.id
             LEFT JOIN release_channels c ON c.release_id = r.id AND c.channel = 'podcast'
                  AND c.status IN ('published', 'withdrawn')
            WHERE s.id = %s GROUP BY s.updated_at""",
        (show_id,),
    )
    row = await cur.fetchone()
    assert row is not None
    changed: datetime = row["changed"]
    return changed


async def is_public_file(*, conn: Conn, file_id: UUID) -> bool:
    """True for a show's artwork and for the files of a release published on the feed."""
    cur = await conn.execute(
        """SELECT EXISTS (SELECT 1 FROM shows WHERE artwork_file_id = %(id)s)
               OR EXISTS (SELECT 1 FROM releases r JOIN release_channels c
                            ON c.release_id = r.id AND c.channel = 'podcast'
                           AND c.status = 'published'
                          WHERE r.audio_file_id = %(id)s OR r.artwork_file_id = %(id)s)
               AS public""",
        {"id": file_id},
    )
    row = await cur.fetchone()
    return bool(row and row["public"])


# ----- the scheduler --------------------------------------------------------------


async def due_channels(*, conn: Conn, limit: int = 50) -> list[Row]:
    """Channels whose time has come: scheduled and due, or left mid-publish by a crash."""
    cur = await conn.execute(
        """SELECT c.release_id, c.channel
             FROM release_channels c JOIN releases r ON r.id = c.release_id
            WHERE c.status IN ('scheduled', 'publishing') AND r.publish_at <= now()
            ORDER BY r.publish_at, c.release_id, c.channel LIMIT %s""",
        (limit,),
    )
    return await cur.fetchall()


async def next_publish_at(*, conn: Conn) -> datetime | None:
    cur = await conn.execute(
        """SELECT min(r.publish_at) AS next FROM release_channels c
             JOIN releases r ON r.id = c.release_id WHERE c.status = 'scheduled'"""
    )
    row = await cur.fetchone()
    return row["next"] if row else None


async def claim_channel(*, conn: Conn, release_id: UUID, channel: str) -> bool:
    """Mark a due channel `publishing`; False when it is no longer due (withdrawn, done)."""
    cur = await conn.execute(
        """UPDATE release_channels c SET status = 'publishing', attempts = attempts + 1,
                  updated_at = now()
             FROM releases r
            WHERE r.id = c.release_id AND c.release_id = %s AND c.channel = %s
              AND c.status IN ('scheduled', 'publishing') AND r.publish_at <= now()
           RETURNING c.channel""",
        (release_id, channel),
    )
    return await cur.fetchone() is not None


async def finish_channel(
    *,
    conn: Conn,
    release_id: UUID,
    channel: str,
    status: str,
    error: str | None = None,
    result: dict[str, Any] | None = None,
) -> bool:
    """`publishing` -> published/failed; False when it was withdrawn meanwhile."""
    cur = await conn.execute(
        """UPDATE release_channels
              SET status = %s, error = %s, result = %s, updated_at = now(),
                  published_at = CASE WHEN %s = 'published' THEN now() ELSE published_at END
            WHERE release_id = %s AND channel = %s AND status = 'publishing'
           RETURNING channel""",
        (status, error, Jsonb(result or {}), status, release_id, channel),
    )
    return await cur.fetchone() is not None


async def fail_channels_for_file(
    *, conn: Conn, file_id: UUID, error: str
) -> list[tuple[UUID, str]]:
    """Channels that can no longer work without this file become `failed`: those not yet
    published, and a published podcast episode. Returns (release id, channel) of each."""
    cur = await conn.execute(
        """UPDATE release_channels c SET status = 'failed', error = %s, updated_at = now()
             FROM releases r
            WHERE r.id = c.release_id AND (r.audio_file_id = %s OR r.artwork_file_id = %s)
              AND (c.status IN ('scheduled', 'publishing')
                   OR (c.status = 'published' AND c.channel = 'podcast'))
           RETURNING c.release_id, c.channel""",
        (error, file_id, file_id),
    )
    return [(row["release_id"], row["channel"]) for row in await cur.fetchall()]


# ----- webhook deliveries ---------------------------------------------------------


async def record_delivery(
    *,
    conn: Conn,
    release_id: UUID,
    message_id: str,
    url: str,
    attempt: int,
    status_code: int | None,
    error: str | None,
    duration_ms: int,
) -> None:
    await conn.execute(
        """INSERT INTO release_webhook_deliveries
               (id, release_id, message_id, url, attempt, status_code, error, duration_ms)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s)""",
        (uuid.uuid4(), release_id, message_id, url, attempt, status_code, error, duration_ms),
    )


async def list_deliveries(*, conn: Conn, release_id: UUID) -> list[Row]:
    cur = await conn.execute(
        """SELECT * FROM release_webhook_deliveries WHERE release_id = %s
            ORDER BY delivered_at, attempt""",
        (release_id,),
    )
    return await cur.fetchall()
