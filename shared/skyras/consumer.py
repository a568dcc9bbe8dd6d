"""Event consumers: one Redis consumer group per agent, effects applied once.

Who fills it: each agent passes `consumer_worker(group, handlers)` to
`create_app(workers=...)`. A handler is a plain async function

    async def handle_task_created(event: Event, conn: AsyncConnection) -> None

that makes its effects with `conn`, inside the transaction in which the
consumer also records `processed_events(consumer, event_id)`; it may call
`outbox.add_event(conn, ...)` to publish follow-up events atomically. A
handler must not commit; raising rolls everything back.

Delivery: XREADGROUP on the streams of the handled event types (group = the
agent, consumer = this process). After the transaction commits the entry is
XACKed, so a redelivered event finds its `processed_events` row and is
skipped. An entry left pending (a crash, a failed handler) is reclaimed with
XAUTOCLAIM once idle for `consumer_claim_idle_ms`; after
`consumer_max_deliveries` deliveries it moves to `skyras:stream:deadletter`
with its last error, where the hub lists and replays it.
"""

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import FastAPI
from psycopg import AsyncConnection
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from skyras import metrics
from skyras.backoff import Backoff
from skyras.constants import DEADLETTER_STREAM
from skyras.db import Pool
from skyras.events import EnvelopeError, Event, decode
from skyras.logs import correlation_id_var
from skyras_contract.lag import group_lag, lag_unknown
from skyras_contract.streams import streams_for

log = logging.getLogger("skyras.consumer")

Handler = Callable[[Event, AsyncConnection[Any]], Awaitable[None]]

ERRORS_KEY = "skyras:consumer:errors:{group}"
LAG_REFRESH_SECONDS = 5.0


def default_consumer_name() -> str:
    """Unique per process: the pod name in Kubernetes, host and pid locally."""
    return f"{socket.gethostname()}-{os.getpid()}"


class EventConsumer:
    def __init__(
        self,
        pool: Pool,
        redis: Redis,
        *,
        group: str,
        handlers: Mapping[str, Handler],
        consumer: str | None = None,
        block_ms: int = 1000,
        claim_idle_ms: int = 30_000,
        max_deliveries: int = 5,
    ) -> None:
        self.pool = pool
        self.redis = redis
        self.group = group
        self.handlers = dict(handlers)
        self.consumer = consumer or default_consumer_name()
        self.block_ms = block_ms
        self.claim_idle_ms = claim_idle_ms
        self.max_deliveries = max_deliveries
        self.streams = streams_for(self.handlers)
        self.errors_key = ERRORS_KEY.format(group=group)
        self._groups_ready = False
        self._last_lag = 0.0

    async def ensure_groups(self) -> None:
        for stream in self.streams:
            try:
                # From the stream's start: events produced before this agent ever ran count too.
                await self.redis.xgroup_create(stream, self.group, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
        self._groups_ready = True

    # ----- one entry --------------------------------------------------------------

    async def handle_entry(self, stream: str, entry_id: str, fields: Mapping[str, str]) -> None:
        try:
            event = decode(fields.get("event", ""))
        except EnvelopeError as exc:
            await self._dead_letter(stream, entry_id, fields, f"undecodable: {exc}", 1, "invalid")
            return
        handler = self.handlers.get(event.type)
        if handler is None:
            await self.redis.xack(stream, self.group, entry_id)  # not an event this agent handles
            return
        # Everything logged while handling carries the correlation id of the request
        # that caused the event, and so do the events the handler publishes.
        token = correlation_id_var.set(event.correlationid)
        try:
            await self._handle(stream, entry_id, event, handler)
        finally:
            correlation_id_var.reset(token)

    async def _handle(self, stream: str, entry_id: str, event: Event, handler: Handler) -> None:
        try:
            applied = await self._apply_once(event, handler)
        except Exception as exc:
            metrics.EVENTS_CONSUMED.labels(self.group, event.type, "failed").inc()
            log.warning("%s %s failed in %s: %s", event.type, event.id, self.group, exc)
            await self.redis.hset(self.errors_key, entry_id, f"{type(exc).__name__}: {exc}"[:1000])
            return  # left pending: reclaimed after the idle timeout, then dead-lettered
        outcome = "applied" if applied else "duplicate"
        metrics.EVENTS_CONSUMED.labels(self.group, event.type, outcome).inc()
        log.info(
            "%s %s %s by %s",
            event.type,
            event.id,
            outcome,
            self.group,
            extra={"event_id": str(event.id)},
        )
        await self.redis.xack(stream, self.group, entry_id)
        await self.redis.hdel(self.errors_key, entry_id)

    async def _apply_once(self, event: Event, handler: Handler) -> bool:
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                """INSERT INTO processed_events (consumer, event_id) VALUES (%s, %s)
                   ON CONFLICT DO NOTHING RETURNING event_id""",
                (self.group, event.id),
            )
            if await cur.fetchone() is None:
                return False
            await handler(event, conn)
            return True

    async def _dead_letter(
        self,
        stream: str,
        entry_id: str,
        fields: Mapping[str, str],
        error: str,
        deliveries: int,
        event_type: str,
    ) -> None:
        await self.redis.xadd(
            DEADLETTER_STREAM,
            {
                "event": fields.get("event", ""),
                "group": self.group,
                "stream": stream,
                "entry_id": entry_id,
                "error": error,
                "deliveries": str(deliveries),
                "failed_at": str(time.time()),
            },
        )
        await self.redis.xack(stream, self.group, entry_id)
        await self.redis.hdel(self.errors_key, entry_id)
        metrics.EVENTS_DEADLETTERED.labels(self.group, event_type).inc()
        log.error(
            "dead-lettered %s from %s after %d deliveries: %s", entry_id, stream, deliveries, error
        )

    # ----- reading ------------------------------------------------------------------

    async def read_new(self) -> int:
        """Read and handle entries never delivered to this group; returns how many."""
        if not self._groups_ready:
            await self.ensure_groups()
        response: Any = await self.redis.xreadgroup(
            self.group,
            self.consumer,
            dict.fromkeys(self.streams, ">"),
            count=100,
            block=self.block_ms,
        )
        handled = 0
        for stream, entries in response or []:
            for entry_id, fields in entries:
                await self.handle_entry(stream, entry_id, fields)
                handled += 1
        return handled

    async def reclaim_stuck(self, min_idle_ms: int | None = None) -> int:
        """Take over entries idle too long (a dead consumer's, or failed ones)."""
        if not self._groups_ready:
            await self.ensure_groups()
        idle = self.claim_idle_ms if min_idle_ms is None else min_idle_ms
        handled = 0
        for stream in self.streams:
            start = "0-0"
            while True:
                result = await self.redis.xautoclaim(
                    stream, self.group, self.consumer, min_idle_time=idle, start_id=start, count=100
                )
                start, entries = result[0], result[1]
                for entry_id, fields in entries:
                    if fields is None:
                        continue  # trimmed away by MAXLEN
                    deliveries = await self._delivery_count(stream, entry_id)
                    if deliveries > self.max_deliveries:
                        error: Any = await self.redis.hget(self.errors_key, entry_id)
                        event_type = _peek_type(fields)
                        await self._dead_letter(
                            stream,
                            entry_id,
                            fields,
                            error or f"not handled after {deliveries - 1} deliveries",
                            deliveries - 1,
                            event_type,
                        )
                    else:
                        await self.handle_entry(stream, entry_id, fields)
                    handled += 1
                if start in ("0-0", b"0-0"):
                    break
        return handled

    async def _delivery_count(self, stream: str, entry_id: str) -> int:
        pending = await self.redis.xpending_range(
            stream, self.group, min=entry_id, max=entry_id, count=1
        )
        return int(pending[0]["times_delivered"]) if pending else 1

    async def refresh_lag(self) -> dict[str, int]:
        """This group's lag per stream (skyras_contract.lag), also set as a metric."""
        lags: dict[str, int] = {}
        for stream in self.streams:
            with contextlib.suppress(ResponseError):
                groups = await self.redis.xinfo_groups(stream)
                length = int(await self.redis.xlen(stream)) if lag_unknown(groups) else 0
                lags[stream] = group_lag(groups, self.group, stream_length=length)
                metrics.CONSUMER_LAG.labels(self.group, stream).set(lags[stream])
        return lags

    async def drain(self, rounds: int = 50) -> int:
        """Handle everything available now, then return (tests: drain and stop)."""
        total = 0
        for _ in range(rounds):
            handled = await self.read_new() + await self.reclaim_stuck()
            total += handled
            if handled == 0:
                break
        return total

    async def run(self) -> None:
        backoff = Backoff(0.2, 5.0)
        last_claim = 0.0
        while True:
            try:
                await self.read_new()
                now = time.monotonic()
                if now - last_claim >= self.claim_idle_ms / 2000:
                    last_claim = now
                    await self.reclaim_stuck()
                if now - self._last_lag >= LAG_REFRESH_SECONDS:
                    self._last_lag = now
                    await self.refresh_lag()
                backoff.reset()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._groups_ready = False
                delay = backoff.next()
                log.warning(
                    "consumer %s: %s; retrying in %.1fs",
                    self.group,
                    str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                    delay,
                )
                await asyncio.sleep(delay)


def _peek_type(fields: Mapping[str, str]) -> str:
    try:
        return decode(fields.get("event", "")).type
    except EnvelopeError:
        return "invalid"


def consumer_worker(
    group: str, handlers: Mapping[str, Handler]
) -> Callable[[FastAPI], Awaitable[None]]:
    """The consumer as a `create_app` worker, configured from the app's settings."""

    async def consume_events(app: FastAPI) -> None:
        settings = app.state.settings
        consumer = EventConsumer(
            app.state.pool,
            app.state.redis,
            group=group,
            handlers=handlers,
            block_ms=settings.consumer_block_ms,
            claim_idle_ms=settings.consumer_claim_idle_ms,
            max_deliveries=settings.consumer_max_deliveries,
        )
        await consumer.run()

    return consume_events
