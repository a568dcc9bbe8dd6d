"""The outbox: record an event in the same transaction as the change it reports.

Services call `add_event` with the connection of their domain write; the row
lands in `events` (the audit trail) only if that transaction commits, and the
relay (`skyras.relay`) publishes it to Redis afterwards. NOTIFY is
transactional too, so the relay is woken exactly when the row becomes visible.
"""

from typing import Any

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from skyras.events import Event
from skyras.logs import correlation_id_var

OUTBOX_NOTIFY_CHANNEL = "skyras_outbox"


async def add_event(
    conn: AsyncConnection[Any],
    *,
    type: str,
    source: str,
    data: dict[str, Any],
    subject: str | None = None,
    correlation_id: str | None = None,
) -> Event:
    """Write an event row in the caller's transaction; returns the envelope."""
    event = Event(
        type=type,
        source=source,
        subject=subject,
        data=data,
        correlationid=correlation_id or correlation_id_var.get(),
    )
    await conn.execute(
        """INSERT INTO events (id, type, source, subject, channel, data, correlation_id, created_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s)""",
        (
            event.id,
            event.type,
            event.source,
            event.subject,
            event.channel,
            Jsonb(event.model_dump(mode="json")["data"]),
            event.correlationid,
            event.time,
        ),
    )
    await conn.execute(f"NOTIFY {OUTBOX_NOTIFY_CHANNEL}")
    return event


def event_from_row(row: dict[str, Any]) -> Event:
    """The envelope of an `events` row (the relay publishes it, the hub lists it)."""
    return Event(
        id=row["id"],
        type=row["type"],
        source=row["source"],
        subject=row["subject"],
        time=row["created_at"],
        data=row["data"],
        correlationid=row["correlation_id"],
    )
