"""The scheduler: publishes each release's channels when its time comes, even after downtime.

Who fills it: `main` runs `scheduler_worker`; routes wake it
(`app.state.scheduler_wake`) when a release is written. Who reads it: nobody.

Exactly once: a channel is published by whoever holds its Postgres advisory
lock (a session lock, so it is released if that process dies). The holder
marks it `publishing`, does the work, then records `published` or `failed`
with its `release.published`/`release.failed` event in one transaction. On
start, every channel whose time passed while Jamal was down is due, and so is
one left `publishing` by a crash (its lock is free): its work is repeated
(idempotent: the feed is a state, bucket objects are overwritten, a webhook
message keeps its id so receivers deduplicate), its event is recorded once.
"""

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from fastapi import FastAPI

from skyras.db import Pool
from skyras.webhooks import DeliveryResult, WebhookSender, deliver_with_retries
from skyras_jamal import podcast, store
from skyras_jamal.config import JamalSettings
from skyras_jamal.releases import record_release_event, release_json

log = logging.getLogger("skyras_jamal.publishing")


class PublishError(Exception):
    """A channel could not be published; the message is the reason users see."""


Publisher = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


def webhook_message_id(release_id: UUID) -> str:
    """The same id on every attempt and every re-run, so receivers can deduplicate."""
    return f"msg_release_{release_id.hex}_published"


class Publishers:
    """What publishing means on each channel; each returns the channel's result."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.settings: JamalSettings = app.state.settings
        self.pool: Pool = app.state.pool

    def for_channel(self, channel: str) -> Publisher:
        return {"podcast": self.podcast, "webhook": self.webhook, "bucket": self.bucket}[channel]

    async def podcast(self, release: dict[str, Any]) -> dict[str, Any]:
        # The feed is built from the channel's state: being `published` is being in the feed.
        slug = release["show_slug"]
        return {"feed_url": podcast.feed_url(self.settings.public_url, slug)}

    async def webhook(self, release: dict[str, Any]) -> dict[str, Any]:
        sender: WebhookSender | None = self.app.state.webhook_sender
        if sender is None:
            raise PublishError("the webhook channel is not configured")
        msg_id = webhook_message_id(release["id"])
        body = json.dumps(
            {
                "type": "release.published",
                "timestamp": datetime.now(UTC).isoformat(),
                "data": release_json(release, self.settings),
            },
            separators=(",", ":"),
            default=str,
        ).encode()
        settings = self.settings
        policy = settings.webhook_retry_policy
        delivered: dict[str, int] = {}
        for url in settings.webhook_url_list:

            async def record(attempt: int, result: DeliveryResult, url: str = url) -> None:
                async with self.pool.connection() as conn:
                    await store.record_delivery(
                        conn=conn,
                        release_id=release["id"],
                        message_id=msg_id,
                        url=url,
                        attempt=attempt,
                        status_code=result.status_code,
                        error=result.error,
                        duration_ms=result.duration_ms,
                    )

            settled = await deliver_with_retries(
                sender, url, msg_id, body, policy=policy, record=record
            )
            if settled.state == "failed":
                raise PublishError(
                    f"webhook {url} failed after {settled.attempts} attempt(s): {settled.error}"
                )
            delivered[url] = settled.attempts
        return {"message_id": msg_id, "attempts": delivered}

    async def bucket(self, release: dict[str, Any]) -> dict[str, Any]:
        publisher = self.app.state.bucket
        if publisher is None:
            raise PublishError("the bucket channel is not configured")
        result: dict[str, Any] = await publisher.publish(release)
        return result


async def publish_channel(app: FastAPI, release_id: UUID, channel: str) -> bool:
    """Publish one due channel if no one else is; True when this call settled it."""
    pool: Pool = app.state.pool
    settings: JamalSettings = app.state.settings
    async with pool.connection() as lock_conn:
        await lock_conn.set_autocommit(True)
        cur = await lock_conn.execute(
            "SELECT pg_try_advisory_lock(hashtextextended(%s, 0)) AS locked",
            (f"jamal:{release_id}:{channel}",),
        )
        row = await cur.fetchone()
        if not row or not row["locked"]:
            return False  # another process is publishing it
        try:
            async with pool.connection() as conn, conn.transaction():
                if not await store.claim_channel(conn=conn, release_id=release_id, channel=channel):
                    return False
            async with pool.connection() as conn:
                release = await store.get_release(conn=conn, release_id=release_id)
            try:
                result = await Publishers(app).for_channel(channel)(release)
                status, error = "published", None
            except PublishError as exc:
                result, status, error = {}, "failed", str(exc)[:1000]
            except Exception as exc:
                log.exception("publishing %s of release %s crashed", channel, release_id)
                result, status, error = {}, "failed", f"{type(exc).__name__}: {exc}"[:1000]
            async with pool.connection() as conn, conn.transaction():
                done = await store.finish_channel(
                    conn=conn,
                    release_id=release_id,
                    channel=channel,
                    status=status,
                    error=error,
                    result=result,
                )
                if done:
                    row = await store.get_release(conn=conn, release_id=release_id)
                    event = "release.published" if status == "published" else "release.failed"
                    extra: dict[str, Any] = {"channel": channel}
                    if error:
                        extra["error"] = error
                    await record_release_event(conn, event, row, settings, **extra)
            log.info(
                "release %s on %s: %s%s",
                release_id,
                channel,
                status,
                f" ({error})" if error else "",
            )
            return done
        finally:
            await lock_conn.execute(
                "SELECT pg_advisory_unlock(hashtextextended(%s, 0))",
                (f"jamal:{release_id}:{channel}",),
            )


# Channels published at once: a webhook backing off must not hold up every other release,
# and each one in flight holds two pooled connections.
PARALLEL_CHANNELS = 4


async def publish_due(app: FastAPI) -> int:
    """Publish every channel that is due now; returns how many this call settled."""
    async with app.state.pool.connection() as conn:
        due = await store.due_channels(conn=conn)
    slots = asyncio.Semaphore(PARALLEL_CHANNELS)

    async def one(row: dict[str, Any]) -> bool:
        async with slots:
            return await publish_channel(app, row["release_id"], row["channel"])

    return sum(await asyncio.gather(*(one(row) for row in due)))


async def scheduler_worker(app: FastAPI) -> None:
    """Publish what is due (first what came due while Jamal was down), then wait for more."""
    settings: JamalSettings = app.state.settings
    wake: asyncio.Event = app.state.scheduler_wake
    while True:
        wake.clear()
        try:
            await publish_due(app)
            async with app.state.pool.connection() as conn:
                upcoming = await store.next_publish_at(conn=conn)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("scheduler: %s; retrying", str(exc).splitlines()[0] if str(exc) else exc)
            upcoming = None
        wait = settings.scheduler_poll_seconds
        if upcoming is not None:
            # Not below 0.2 s: a due channel another replica is publishing must not spin us.
            wait = max(0.2, min(wait, (upcoming - datetime.now(UTC)).total_seconds()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout=wait)
