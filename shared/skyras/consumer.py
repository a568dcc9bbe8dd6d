"""Event consumers: one Redis consumer group per agent, effects applied once.

Who fills it: each agent passes `consumer_worker(group, handlers)` to
`create_app(workers=...)`. A handler is a plain async function

    async def handle_task_created(event: Event, conn: AsyncConnection) -> None

that makes its effects with `conn`, inside the transaction in which the
consumer also records `processed_events(consumer, event_id)`; it may call
`outbox.add_event(conn, ...)` to publish follow-up events atomically. A
handler must not commit; raising rolls everything back and the event is
retried (then dead-lettered). Filled in by the event backbone.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from psycopg import AsyncConnection

from skyras.events import Event

Handler = Callable[[Event, AsyncConnection[Any]], Awaitable[None]]
