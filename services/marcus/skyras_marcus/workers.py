"""Background workers (passed to `create_app(workers=...)`): task events to outside sinks.

Each sink (one per webhook URL, one for the Plane project) reads the task
events from the `events` table (the outbox, so nothing is lost when a sink is
down) and records per event when it has settled them. A Postgres advisory
lock per sink lets several replicas run the workers without delivering twice.
Delivery is at least once: a crash between sending and recording re-sends,
with the same `webhook-id` so receivers can deduplicate.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from fastapi import FastAPI

from skyras.db import Pool
from skyras.webhooks import DeliveryResult, WebhookSender, deliver_with_retries
from skyras_marcus import store
from skyras_marcus.config import MarcusSettings
from skyras_marcus.integrations.n8n import event_body
from skyras_marcus.integrations.plane import PlaneClient, PlaneError

log = logging.getLogger("skyras_marcus.workers")

# An event handler for a sink: returns (state, attempts, error) once the event is settled.
Settle = tuple[str, int, str | None]
Process = Callable[[dict[str, Any]], Awaitable[Settle | None]]


def webhook_sink(url: str) -> str:
    return f"webhook:{url}"


async def drain_sink(pool: Pool, sink: str, process: Process, *, batch: int = 50) -> int:
    """Process this sink's pending events once; returns how many were settled.

    `process` returning None leaves the event pending (retried on the next pass).
    """
    settled = 0
    async with pool.connection() as lock_conn:
        cur = await lock_conn.execute(
            "SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0)) AS locked", (sink,)
        )
        row = await cur.fetchone()
        if not row or not row["locked"]:
            return 0  # another replica is on it
        async with pool.connection() as conn:
            events = await store.pending_sink_events(conn=conn, sink=sink, limit=batch)
        for event in events:
            outcome = await process(event)
            if outcome is None:
                break  # keep order: later events wait for this one
            state, attempts, error = outcome
            async with pool.connection() as conn:
                await store.settle_sink_event(
                    conn=conn,
                    sink=sink,
                    event_id=event["id"],
                    state=state,
                    attempts=attempts,
                    error=error,
                )
            settled += 1
    return settled


async def register_sinks(pool: Pool, sinks: list[str]) -> None:
    async with pool.connection() as conn:
        for sink in sinks:
            await store.register_sink(conn=conn, sink=sink)


async def deliver_webhook(
    pool: Pool, sender: WebhookSender, settings: MarcusSettings, url: str, event: dict[str, Any]
) -> Settle:
    """Deliver one event to one URL (shared retries with backoff); logs each attempt."""

    async def record(attempt: int, result: DeliveryResult) -> None:
        async with pool.connection() as conn:
            await store.record_delivery(
                conn=conn,
                event_id=event["id"],
                url=url,
                attempt=attempt,
                status_code=result.status_code,
                error=result.error,
                duration_ms=result.duration_ms,
            )

    settled = await deliver_with_retries(
        sender,
        url,
        str(event["id"]),
        event_body(event),
        policy=settings.webhook_retry_policy,
        record=record,
    )
    return (settled.state, settled.attempts, settled.error)


async def webhook_worker(app: FastAPI) -> None:
    """Deliver task events to every configured n8n webhook URL, in order, per URL."""
    settings: MarcusSettings = app.state.settings
    urls = settings.webhook_urls
    if not urls:
        return
    if settings.n8n_webhook_secret is None:
        log.error(
            "SKYRAS_N8N_WEBHOOK_URLS is set but SKYRAS_N8N_WEBHOOK_SECRET is not; not delivering"
        )
        return
    pool: Pool = app.state.pool
    sender = WebhookSender(
        secret=settings.n8n_webhook_secret.get_secret_value(),
        timeout=settings.webhook_timeout_seconds,
        user_agent="skyras-marcus-webhooks",
    )
    try:
        await register_sinks(pool, [webhook_sink(url) for url in urls])
        while True:
            for url in urls:

                async def process(event: dict[str, Any], url: str = url) -> Settle:
                    return await deliver_webhook(pool, sender, settings, url, event)

                await drain_sink(pool, webhook_sink(url), process)
            await asyncio.sleep(settings.sync_poll_seconds)
    finally:
        await sender.aclose()


class PlaneSync:
    """Mirrors task events onto Plane work items (create, update, delete)."""

    def __init__(self, pool: Pool, client: PlaneClient, *, max_attempts: int = 5) -> None:
        self.pool = pool
        self.client = client
        self.max_attempts = max_attempts
        self._attempts: dict[UUID, int] = {}

    @property
    def sink(self) -> str:
        return f"plane:{self.client.workspace}/{self.client.project_id}"

    async def process(self, event: dict[str, Any]) -> Settle | None:
        task_id = UUID(event["data"]["task"]["id"])
        attempts = self._attempts.get(event["id"], 0) + 1
        try:
            await self._apply(event["type"], task_id)
        except PlaneError as exc:
            if exc.retryable and attempts < self.max_attempts:
                self._attempts[event["id"]] = attempts
                log.warning("Plane sync of task %s will be retried: %s", task_id, exc.message)
                return None
            log.error("Plane sync of task %s failed for good: %s", task_id, exc.message)
            self._attempts.pop(event["id"], None)
            return ("failed", attempts, exc.message[:500])
        self._attempts.pop(event["id"], None)
        return ("delivered", attempts, None)

    async def _apply(self, event_type: str, task_id: UUID) -> None:
        async with self.pool.connection() as conn:
            link = await store.get_plane_link(conn=conn, task_id=task_id)
            try:
                task = await store.get_task(conn=conn, task_id=task_id)
            except store.TaskNotFound:
                task = None
        if task is None:
            # Deleted (now or later in the stream): remove its work item if it has one.
            if link is not None:
                await self.client.delete_work_item(link["work_item_id"])
                async with self.pool.connection() as conn:
                    await store.delete_plane_link(conn=conn, task_id=task_id)
            return
        if link is not None and link["synced_version"] >= task["version"]:
            return  # an earlier event already synced this state or a newer one
        if link is None:
            item = await self.client.create_work_item(task)
        else:
            item = await self.client.update_work_item(link["work_item_id"], task)
        async with self.pool.connection() as conn:
            await store.save_plane_link(
                conn=conn,
                task_id=task_id,
                work_item_id=str(item["id"]),
                synced_version=task["version"],
            )


async def plane_sync_worker(app: FastAPI) -> None:
    """Keep the configured Plane project's work items in step with the tasks."""
    client: PlaneClient | None = app.state.plane
    if client is None:
        return
    settings: MarcusSettings = app.state.settings
    sync = PlaneSync(app.state.pool, client)
    await register_sinks(app.state.pool, [sync.sink])
    while True:
        await drain_sink(app.state.pool, sync.sink, sync.process)
        await asyncio.sleep(settings.sync_poll_seconds)
