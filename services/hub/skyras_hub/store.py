"""The hub's SQL: the `agents` registry table and reads of the `events` audit trail.

Plain keyword-only functions over a psycopg connection (rows are dicts);
callers own the transaction.
"""

from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from skyras.constants import SYSTEM_CHANNEL
from skyras.events import Event
from skyras.sqlfilter import Where
from skyras_hub.models import AgentRegistration

Conn = AsyncConnection[Any]


async def upsert_agent(
    *, conn: Conn, name: str, agent_in: AgentRegistration
) -> tuple[dict[str, Any], bool]:
    """Create or replace an agent's registration; returns the row and whether it was created."""
    cur = await conn.execute(
        """INSERT INTO agents AS a
               (name, endpoint, routes, publishes, subscribes, chat, version, description)
           VALUES (%(name)s, %(endpoint)s, %(routes)s, %(publishes)s, %(subscribes)s,
                   %(chat)s, %(version)s, %(description)s)
           ON CONFLICT (name) DO UPDATE SET
               endpoint = EXCLUDED.endpoint, routes = EXCLUDED.routes,
               publishes = EXCLUDED.publishes, subscribes = EXCLUDED.subscribes,
               chat = EXCLUDED.chat, version = EXCLUDED.version,
               description = EXCLUDED.description, updated_at = now()
           RETURNING a.*, (xmax = 0) AS created""",
        {
            "name": name,
            "endpoint": agent_in.endpoint,
            "routes": Jsonb([r.model_dump() for r in agent_in.routes]),
            "publishes": agent_in.publishes,
            "subscribes": agent_in.subscribes,
            "chat": Jsonb(agent_in.chat.model_dump()),
            "version": agent_in.version,
            "description": agent_in.description,
        },
    )
    row = await cur.fetchone()
    assert row is not None
    created = bool(row.pop("created"))
    return row, created


async def get_agent(*, conn: Conn, name: str) -> dict[str, Any] | None:
    cur = await conn.execute("SELECT * FROM agents WHERE name = %s", (name,))
    return await cur.fetchone()


async def list_agents(*, conn: Conn) -> list[dict[str, Any]]:
    cur = await conn.execute("SELECT * FROM agents ORDER BY name")
    return await cur.fetchall()


async def delete_agent(*, conn: Conn, name: str) -> bool:
    cur = await conn.execute("DELETE FROM agents WHERE name = %s", (name,))
    return cur.rowcount > 0


async def record_published_event(*, conn: Conn, event: Event) -> None:
    """Write an event the hub publishes itself into the audit trail, already marked published."""
    await conn.execute(
        """INSERT INTO events (id, type, source, subject, channel, data, correlation_id,
                               created_at, published_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, now())""",
        (
            event.id,
            event.type,
            event.source,
            event.subject,
            SYSTEM_CHANNEL,
            Jsonb(event.model_dump(mode="json")["data"]),
            event.correlationid,
            event.time,
        ),
    )


async def list_events(
    *,
    conn: Conn,
    types: list[str] | None = None,
    source: str | None = None,
    subject: str | None = None,
    channel: str | None = None,
    correlation_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before: tuple[datetime, int] | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Events newest first; `before` is the (created_at, seq) of the last row already seen."""
    where = Where().given(types or None, "type = ANY(%s)")
    for column, value in (
        ("source", source),
        ("subject", subject),
        ("channel", channel),
        ("correlation_id", correlation_id),
    ):
        where.equal(column, value)
    where.given(since, "created_at >= %s").given(until, "created_at < %s")
    if before is not None:
        where.add("(created_at, seq) < (%s, %s)", *before)
    sql = (
        "SELECT seq, id, type, source, subject, channel, data, correlation_id, created_at,"
        f" published_at FROM events{where.sql()} ORDER BY created_at DESC, seq DESC LIMIT %s"
    )
    cur = await conn.execute(sql, [*where.params, limit])
    return await cur.fetchall()
