"""Shows and releases: validated writes, each with its outbox event in the same transaction.

Who fills it: nobody (functions). Who reads it: the REST routes and chat.
Everything that needs Letitia (the files exist, are audio or artwork that
meets the feed's rules) is measured before the transaction opens; the
transaction then checks what the database knows (the show, the release's
state) and writes. Any error leaves nothing written.
"""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pydantic import ValidationError

from skyras.db import Pool
from skyras.errors import ApiError
from skyras.outbox import add_event
from skyras_jamal import media, podcast, store
from skyras_jamal.config import JamalSettings
from skyras_jamal.letitia import LetitiaClient
from skyras_jamal.models import ReleaseCreate, ReleaseUpdate, ShowBase, ShowCreate, ShowUpdate

SOURCE = "/agents/jamal"
# Channel states in which a release can still change; published or publishing is final.
EDITABLE = frozenset({"scheduled", "failed"})
PUBLISH_NOW = "publish_at was in the past, so the release is published now"


def show_json(row: dict[str, Any], settings: JamalSettings) -> dict[str, Any]:
    artwork = dict(row["artwork"])
    artwork["url"] = podcast.artwork_url(settings.public_url, artwork)
    return {
        **{k: row[k] for k in ("id", "slug", "title", "description", "language", "author")},
        **{k: row[k] for k in ("owner_name", "owner_email", "explicit", "category")},
        "subcategory": row["subcategory"],
        "artwork": artwork,
        "feed_url": podcast.feed_url(settings.public_url, row["slug"]),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def overall_status(channels: list[dict[str, Any]]) -> str:
    states = {c["status"] for c in channels}
    if len(states) == 1:
        return next(iter(states))
    if "publishing" in states:
        return "publishing"
    if "failed" in states:
        return "failed"
    return "partial"


def release_json(row: dict[str, Any], settings: JamalSettings) -> dict[str, Any]:
    audio, artwork = dict(row["audio"]), dict(row["artwork"])
    audio["url"], audio["enclosure_type"] = podcast.audio_media(settings.public_url, audio)
    artwork["url"] = podcast.artwork_url(settings.public_url, artwork)
    return {
        "id": row["id"],
        "guid": row["guid"],
        "show": row.get("show_slug"),
        **{k: row[k] for k in ("title", "artist", "description", "explicit")},
        "audio": audio,
        "artwork": artwork,
        "publish_at": row["publish_at"],
        "status": overall_status(row["channels"]),
        "channels": row["channels"],
        "version": row["version"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def _not_found(what: str, key: Any) -> ApiError:
    return ApiError(404, f"No {what} {key}", code=f"{what}_not_found")


def check_channels_configured(channels: list[str], settings: JamalSettings) -> None:
    missing = {
        "webhook": (
            not settings.webhook_configured,
            "SKYRAS_WEBHOOK_URLS and SKYRAS_WEBHOOK_SECRET",
        ),
        "bucket": (not settings.bucket_configured, "SKYRAS_S3_BUCKET (and the S3 credentials)"),
    }
    for channel in channels:
        off, needs = missing.get(channel, (False, ""))
        if off:
            raise media.bad_input(
                "channels", f"the {channel} channel is not configured on Jamal (set {needs})"
            )


# ----- shows ----------------------------------------------------------------------


async def create_show(
    *, pool: Pool, letitia: LetitiaClient, settings: JamalSettings, show_in: ShowCreate
) -> dict[str, Any]:
    artwork = await media.measure_artwork(letitia, show_in.artwork_file_id)
    values = show_in.model_dump(exclude={"slug"})
    values["artwork"] = artwork
    async with pool.connection() as conn, conn.transaction():
        try:
            row = await store.insert_show(conn=conn, slug=show_in.slug, values=values)
        except FileExistsError as exc:
            raise ApiError(409, f"A show called {show_in.slug!r} exists already") from exc
        await add_event(
            conn,
            type="show.created",
            source=SOURCE,
            subject=f"shows/{row['slug']}",
            data={"show": show_json(row, settings)},
        )
    return row


async def get_show(*, pool: Pool, slug: str) -> dict[str, Any]:
    async with pool.connection() as conn:
        try:
            return await store.get_show(conn=conn, slug=slug)
        except store.NotFound as exc:
            raise _not_found("show", slug) from exc


async def update_show(
    *,
    pool: Pool,
    letitia: LetitiaClient,
    settings: JamalSettings,
    slug: str,
    show_in: ShowUpdate,
) -> dict[str, Any]:
    """Edit a show (its feed changes at once: new ETag and Last-Modified)."""
    current = await get_show(pool=pool, slug=slug)
    changes = show_in.model_dump(exclude_unset=True)
    merged = {k: current[k] for k in ShowBase.model_fields} | changes
    try:
        checked = ShowBase.model_validate(merged).model_dump()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise media.bad_input(where, first["msg"]) from exc
    values = {k: checked[k] for k in changes}
    if "artwork_file_id" in changes:
        values["artwork"] = await media.measure_artwork(letitia, checked["artwork_file_id"])
    if not values:
        raise ApiError(422, "Invalid request: nothing to change", code="validation_error")
    async with pool.connection() as conn, conn.transaction():
        row = await store.update_show(conn=conn, slug=slug, values=values)
        await add_event(
            conn,
            type="show.updated",
            source=SOURCE,
            subject=f"shows/{slug}",
            data={"show": show_json(row, settings)},
        )
    return row


# ----- releases -------------------------------------------------------------------


async def record_release_event(
    conn: Any, type: str, row: dict[str, Any], settings: JamalSettings, **extra: Any
) -> None:
    await add_event(
        conn,
        type=type,
        source=SOURCE,
        subject=f"releases/{row['id']}",
        data={"release": release_json(row, settings), **extra},
    )


async def create_release(
    *, pool: Pool, letitia: LetitiaClient, settings: JamalSettings, release_in: ReleaseCreate
) -> dict[str, Any]:
    """Validate everything, then write the release, its channels and `release.scheduled`."""
    if release_in.audio_file_id is None:
        raise media.bad_input("audio_file_id", "a release needs its audio (a Letitia file id)")
    if release_in.artwork_file_id is None:
        raise media.bad_input("artwork_file_id", "a release needs artwork (a Letitia file id)")
    if "podcast" in release_in.channels and not release_in.show:
        raise media.bad_input("show", "the podcast channel needs a show (its slug)")
    check_channels_configured(release_in.channels, settings)
    show_id = None
    if release_in.show:
        show_id = (await get_show(pool=pool, slug=release_in.show))["id"]
    audio = await media.measure_audio(
        letitia, release_in.audio_file_id, max_bytes=settings.max_audio_bytes
    )
    if "podcast" in release_in.channels:
        media.check_podcast_audio(audio)
    artwork = await media.measure_artwork(letitia, release_in.artwork_file_id)
    now = datetime.now(UTC)
    publish_at = release_in.publish_at or now
    notice = PUBLISH_NOW if publish_at < now else None
    values = {
        **release_in.model_dump(include={"title", "artist", "description", "explicit"}),
        "audio_file_id": release_in.audio_file_id,
        "audio": audio,
        "artwork_file_id": release_in.artwork_file_id,
        "artwork": artwork,
        "publish_at": max(publish_at, now) if notice else publish_at,
    }
    async with pool.connection() as conn, conn.transaction():
        release_id = await store.insert_release(
            conn=conn, show_id=show_id, values=values, channels=release_in.channels
        )
        row = await store.get_release(conn=conn, release_id=release_id)
        await record_release_event(conn, "release.scheduled", row, settings)
    return {**release_json(row, settings), "notice": notice}


async def get_release(*, pool: Pool, release_id: UUID) -> dict[str, Any]:
    async with pool.connection() as conn:
        try:
            return await store.get_release(conn=conn, release_id=release_id)
        except store.NotFound as exc:
            raise _not_found("release", release_id) from exc


def _check_editable(row: dict[str, Any], action: str) -> None:
    final = [c for c in row["channels"] if c["status"] not in EDITABLE]
    if final:
        states = ", ".join(f"{c['channel']} is {c['status']}" for c in final)
        raise ApiError(
            409,
            f"Release {row['id']} cannot be {action}: {states}",
            code="release_not_editable",
            details={"channels": final},
        )


async def update_release(
    *,
    pool: Pool,
    letitia: LetitiaClient,
    settings: JamalSettings,
    release_id: UUID,
    release_in: ReleaseUpdate,
) -> dict[str, Any]:
    """Edit a release that is not published yet; its GUID never changes."""
    current = await get_release(pool=pool, release_id=release_id)
    _check_editable(current, "edited")
    changes = release_in.model_dump(exclude_unset=True)
    if not changes:
        raise ApiError(422, "Invalid request: nothing to change", code="validation_error")
    if any(
        changes.get(k, "") is None
        for k in ("title", "artist", "audio_file_id", "artwork_file_id", "publish_at", "channels")
    ):
        raise media.bad_input(next(k for k, v in changes.items() if v is None), "may not be null")
    channels = changes.pop("channels", None) or [c["channel"] for c in current["channels"]]
    check_channels_configured(channels, settings)
    if "podcast" in channels and current["show_id"] is None:
        raise media.bad_input("channels", "the podcast channel needs a show; this release has none")
    if "audio_file_id" in changes:
        changes["audio"] = await media.measure_audio(
            letitia, changes["audio_file_id"], max_bytes=settings.max_audio_bytes
        )
    if "podcast" in channels:
        media.check_podcast_audio(changes.get("audio") or current["audio"])
    if "artwork_file_id" in changes:
        changes["artwork"] = await media.measure_artwork(letitia, changes["artwork_file_id"])
    now = datetime.now(UTC)
    notice = None
    if "publish_at" in changes and changes["publish_at"] < now:
        changes["publish_at"], notice = now, PUBLISH_NOW
    async with pool.connection() as conn, conn.transaction():
        row = await store.get_release(conn=conn, release_id=release_id, lock=True)
        _check_editable(row, "edited")  # again, under the lock: the scheduler may have started
        if changes:
            await store.update_release(conn=conn, release_id=release_id, values=changes)
        await store.set_channels(conn=conn, release_id=release_id, channels=channels)
        row = await store.get_release(conn=conn, release_id=release_id)
        await record_release_event(conn, "release.scheduled", row, settings)
    return {**release_json(row, settings), "notice": notice}


async def withdraw_release(
    *, pool: Pool, settings: JamalSettings, release_id: UUID
) -> dict[str, Any]:
    """Take the release off every channel: it leaves the feed, unpublished ones never go out."""
    async with pool.connection() as conn, conn.transaction():
        try:
            await store.get_release(conn=conn, release_id=release_id, lock=True)
        except store.NotFound as exc:
            raise _not_found("release", release_id) from exc
        withdrawn = await store.withdraw_release(conn=conn, release_id=release_id)
        row = await store.get_release(conn=conn, release_id=release_id)
        if withdrawn:
            await record_release_event(conn, "release.withdrawn", row, settings, channels=withdrawn)
    notice = None if withdrawn else "the release was withdrawn already"
    return {**release_json(row, settings), "notice": notice}
