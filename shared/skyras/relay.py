"""The outbox relay: publishes committed event rows to Redis, in order, at least once.

Every service that writes events runs it as a worker (`relay_worker`). It
wakes on the outbox's NOTIFY (sent by `outbox.add_event` at commit) and also
sweeps every `relay_sweep_seconds`, so nothing waits for long if a
notification is missed. For each batch, in one transaction: take unpublished
rows in commit order (`FOR UPDATE SKIP LOCKED`), XADD each to its durable
stream `skyras:stream:<channel>` (bounded with MAXLEN ~), PUBLISH it on the
prototype's pub/sub channel `skyras:<channel>`, then mark the rows published.

Several relays at once are safe: a transaction-scoped advisory lock lets one
publish at a time, which also keeps events in order per subject. If Redis
fails mid-batch the transaction rolls back and the rows go out again later;
consumers skip the duplicates (`processed_events`).
"""

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from psycopg import AsyncConnection
from redis.asyncio import Redis

from skyras import metrics
from skyras.backoff import Backoff
from skyras.constants import pubsub_channel, stream_key
from skyras.db import Pool, connect
from skyras.events import encode
from skyras.outbox import OUTBOX_NOTIFY_CHANNEL, event_from_row

log = logging.getLogger("skyras.relay")

_RELAY_LOCK_ID = 0x5C1_2A5_0002
BATCH_SIZE = 200


class Relay:
    def __init__(
        self, pool: Pool, redis: Redis, *, database_url: str, maxlen: int, sweep_seconds: float
    ) -> None:
        self.pool = pool
        self.redis = redis
        self.database_url = database_url
        self.maxlen = maxlen
        self.sweep_seconds = sweep_seconds

    async def publish_pending(self) -> int:
        """Publish one batch of unpublished events; returns how many went out."""
        async with self.pool.connection() as conn:
            try:
                async with conn.transaction():
                    return await self._publish_batch(conn)
            except Exception as exc:
                await self._record_failure(conn, exc)
                raise

    async def _publish_batch(self, conn: AsyncConnection[Any]) -> int:
        cur = await conn.execute("SELECT pg_try_advisory_xact_lock(%s) AS mine", (_RELAY_LOCK_ID,))
        row = await cur.fetchone()
        if not row or not row["mine"]:
            return 0  # another relay is publishing right now
        cur = await conn.execute(
            """SELECT id, type, source, subject, channel, data, correlation_id, created_at
               FROM events WHERE published_at IS NULL
               ORDER BY seq LIMIT %s FOR UPDATE SKIP LOCKED""",
            (BATCH_SIZE,),
        )
        rows = await cur.fetchall()
        if not rows:
            return 0
        async with self.redis.pipeline(transaction=False) as pipe:
            for row in rows:
                payload = encode(event_from_row(row))
                pipe.xadd(
                    stream_key(row["channel"]),
                    {"event": payload},
                    maxlen=self.maxlen,
                    approximate=True,
                )
                pipe.publish(pubsub_channel(row["channel"]), payload)
            await pipe.execute()
        await conn.execute(
            "UPDATE events SET published_at = now(), attempts = attempts + 1, last_error = NULL "
            "WHERE id = ANY(%s)",
            ([row["id"] for row in rows],),
        )
        now = datetime.now(UTC)
        for row in rows:
            metrics.EVENTS_PUBLISHED.labels(row["channel"]).inc()
            metrics.RELAY_DELAY.observe(max(0.0, (now - row["created_at"]).total_seconds()))
        return len(rows)

    async def _record_failure(self, conn: AsyncConnection[Any], exc: Exception) -> None:
        with contextlib.suppress(Exception):
            async with conn.transaction():
                await conn.execute(
                    """UPDATE events SET attempts = attempts + 1, last_error = %s
                       WHERE seq = (SELECT min(seq) FROM events WHERE published_at IS NULL)""",
                    (str(exc)[:500],),
                )

    async def drain(self) -> int:
        """Publish until nothing is pending (tests and shutdown)."""
        total = 0
        while count := await self.publish_pending():
            total += count
        return total

    async def run(self) -> None:
        """Publish for ever: on NOTIFY, on every sweep, and after errors with backoff."""
        backoff = Backoff(0.2, 5.0)
        while True:
            listener: AsyncConnection[Any] | None = None
            try:
                listener = await connect(self.database_url)
                await listener.set_autocommit(True)
                await listener.execute(f"LISTEN {OUTBOX_NOTIFY_CHANNEL}")
                while True:
                    await self.drain()
                    backoff.reset()
                    # Wake on the next commit, or sweep after a while regardless.
                    async for _ in listener.notifies(timeout=self.sweep_seconds, stop_after=1):
                        pass
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                delay = backoff.next()
                log.warning(
                    "relay: %s; retrying in %.1fs",
                    str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                    delay,
                )
                await asyncio.sleep(delay)
            finally:
                if listener is not None:
                    with contextlib.suppress(Exception):
                        await listener.close()


async def relay_worker(app: FastAPI) -> None:
    """The relay as a `create_app` worker, configured from the app's settings."""
    settings = app.state.settings
    relay = Relay(
        app.state.pool,
        app.state.redis,
        database_url=settings.database_url.get_secret_value(),
        maxlen=settings.stream_maxlen,
        sweep_seconds=settings.relay_sweep_seconds,
    )
    await relay.run()
