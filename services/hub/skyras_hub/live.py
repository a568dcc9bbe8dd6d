"""Live events: the hub's ONE Redis pub/sub subscription, fanned out to SSE clients.

Who fills it: `run_pubsub_listener` (a supervised worker) PSUBSCRIBEs
`skyras:*`, keeps the event channels (tasks, files, system), decodes each
envelope and hands it to every SSE client whose filters match; a
`registry.changed` event also asks the registry to reload. Who reads it:
`/api/v2/events/stream`, one `Subscription` (an in-memory queue) per client.

Why a shared fan-out rather than a Redis connection per client: a client
that goes away leaves nothing behind in Redis (unsubscribing is removing a
queue from a set, done in a `finally`), and a thousand browser tabs cost one
Redis connection. A client that falls `sse_queue_size` events behind is
disconnected (its browser reconnects) instead of growing memory without bound.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from fastapi import FastAPI
from redis.asyncio import Redis
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from skyras.backoff import Backoff
from skyras.constants import CHANNEL_PREFIX, CHANNELS, REGISTRY_CHANGED
from skyras.events import EnvelopeError, Event, decode, encode
from skyras_hub import metrics

log = logging.getLogger("skyras_hub.live")

_EVENT_CHANNELS = {f"{CHANNEL_PREFIX}{c}": c for c in CHANNELS}


@dataclass(eq=False)
class Subscription:
    queue: asyncio.Queue[Event | None]
    types: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()

    def wants(self, event: Event, channel: str) -> bool:
        if self.types and event.type not in self.types:
            return False
        return not self.channels or channel in self.channels


@dataclass
class Fanout:
    queue_size: int = 1000
    subscribers: set[Subscription] = field(default_factory=set)
    # Set while the Redis subscription is live (tests wait on it).
    connected: asyncio.Event = field(default_factory=asyncio.Event)

    def subscribe(self, types: frozenset[str], channels: frozenset[str]) -> Subscription:
        sub = Subscription(asyncio.Queue(self.queue_size), types, channels)
        self.subscribers.add(sub)
        metrics.SSE_CLIENTS.inc()
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        if sub in self.subscribers:
            self.subscribers.discard(sub)
            metrics.SSE_CLIENTS.dec()

    def publish(self, event: Event, channel: str) -> None:
        for sub in list(self.subscribers):
            if not sub.wants(event, channel):
                continue
            try:
                sub.queue.put_nowait(event)
            except asyncio.QueueFull:
                log.warning(
                    "an SSE client fell %d events behind; disconnecting it", self.queue_size
                )
                metrics.SSE_DROPPED.inc()
                self.unsubscribe(sub)
                # Wake the client's stream with the end marker (its queue is full: make room).
                sub.queue.get_nowait()
                sub.queue.put_nowait(None)


async def run_pubsub_listener(app: FastAPI) -> None:
    """Worker: PSUBSCRIBE skyras:* and dispatch; reconnects by itself when Redis goes away."""
    redis: Redis = app.state.redis
    fanout: Fanout = app.state.fanout
    backoff = Backoff(0.2, 2.0)
    while True:
        pubsub = redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.psubscribe(f"{CHANNEL_PREFIX}*")
            fanout.connected.set()
            backoff.reset()
            # Changes announced while we were not listening are picked up now.
            app.state.registry.request_reload()
            async for message in pubsub.listen():
                if message.get("type") == "pmessage":
                    dispatch(app, message.get("channel"), message.get("data"))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            fanout.connected.clear()
            delay = backoff.next()
            log.warning("live events: Redis subscription lost (%s); retrying in %.1fs", exc, delay)
            await asyncio.sleep(delay)
        finally:
            fanout.connected.clear()
            try:
                await asyncio.shield(pubsub.aclose())
            except Exception:  # the connection is already gone
                log.debug("closing the pub/sub connection failed", exc_info=True)


def dispatch(app: FastAPI, redis_channel: object, data: object) -> None:
    channel = _EVENT_CHANNELS.get(str(redis_channel))
    if channel is None or not isinstance(data, (str, bytes)):
        return  # another skyras:* key (streams' notifications, rate limits...): not an event channel
    try:
        event = decode(data)
    except EnvelopeError as exc:
        log.warning("ignoring a message on %s that is not an event: %s", redis_channel, exc)
        return
    if event.type == REGISTRY_CHANGED:
        app.state.registry.request_reload()
    app.state.fanout.publish(event, channel)


def format_event(event: Event) -> str:
    # encode() gives one line of JSON, so one `data:` line is enough.
    return f"id: {event.id}\nevent: {event.type}\ndata: {encode(event)}\n\n"


class EventStream(StreamingResponse):
    """Server-sent events for one client; the subscription is removed however the stream ends."""

    def __init__(self, fanout: Fanout, sub: Subscription, heartbeat: float) -> None:
        self.fanout = fanout
        self.sub = sub
        self.heartbeat = heartbeat
        super().__init__(
            self._lines(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    async def _lines(self) -> AsyncIterator[str]:
        yield "retry: 3000\n: connected\n\n"
        while True:
            try:
                event = await asyncio.wait_for(self.sub.queue.get(), self.heartbeat)
            except TimeoutError:
                yield ": heartbeat\n\n"
                continue
            if event is None:
                yield ": too far behind; reconnect\n\n"
                return
            yield format_event(event)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.fanout.unsubscribe(self.sub)


async def open_fanout(app: FastAPI) -> None:
    app.state.fanout = Fanout(app.state.settings.sse_queue_size)
