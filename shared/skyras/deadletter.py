"""Dead letters: events a consumer group gave up on, listed and replayed by the hub."""

from typing import Any

from redis.asyncio import Redis

from skyras.constants import DEADLETTER_STREAM
from skyras.events import EnvelopeError, decode


class DeadLetterNotFound(LookupError):
    pass


def _entry(entry_id: str, fields: dict[str, str]) -> dict[str, Any]:
    try:
        event: dict[str, Any] | None = decode(fields.get("event", "")).model_dump(mode="json")
    except EnvelopeError:
        event = None
    return {
        "id": entry_id,
        "group": fields.get("group"),
        "stream": fields.get("stream"),
        "original_entry_id": fields.get("entry_id"),
        "error": fields.get("error"),
        "deliveries": int(fields.get("deliveries", "0")),
        "failed_at": float(fields.get("failed_at", "0")),
        "event": event,
        "raw": None if event else fields.get("event"),
    }


async def list_dead_letters(
    redis: Redis, *, limit: int = 50, before: str = "+"
) -> list[dict[str, Any]]:
    """Newest first; `before` is an exclusive entry id to page from."""
    end = before if before == "+" else f"({before}"
    entries: Any = await redis.xrevrange(DEADLETTER_STREAM, max=end, min="-", count=limit)
    return [_entry(entry_id, fields) for entry_id, fields in entries]


async def replay_dead_letter(redis: Redis, entry_id: str) -> dict[str, Any]:
    """Put the event back on its stream and drop the dead letter.

    Every group on that stream sees it again; those that handled it already
    skip it (processed_events), the one that failed applies it once.
    """
    entries: Any = await redis.xrange(DEADLETTER_STREAM, min=entry_id, max=entry_id, count=1)
    if not entries:
        raise DeadLetterNotFound(entry_id)
    _, fields = entries[0]
    item = _entry(entry_id, fields)
    if item["event"] is None or not item["stream"]:
        raise ValueError("this dead letter holds no valid event and cannot be replayed")
    new_id = await redis.xadd(item["stream"], {"event": fields["event"]})
    await redis.xdel(DEADLETTER_STREAM, entry_id)
    return {**item, "replayed_as": new_id}
