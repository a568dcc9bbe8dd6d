"""Consumer lag of an agent's group, read from Redis streams (DESIGN.md section 5).

Used by the autoscaling timer in handlers/agent.py. An agent's group (named
after the agent) reads `skyras:stream:<channel>` for every channel of the
event types it subscribes to; its lag is the sum of XINFO GROUPS' `lag` over
those streams.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from redis import exceptions as redis_exceptions
from redis.asyncio import Redis

from skyras_operator import constants


class LagUnavailable(Exception):
    """Redis could not be asked (down, wrong URL)."""


def channel_for_event(event_type: str) -> str:
    """`task.*` -> tasks, `file.*` -> files, anything else -> system."""
    prefix = event_type.split(".", 1)[0]
    return constants.CHANNEL_BY_EVENT_PREFIX.get(prefix, constants.CHANNEL_DEFAULT)


def streams_for(subscribes: Iterable[str]) -> list[str]:
    channels = {channel_for_event(event_type) for event_type in subscribes}
    return [f"{constants.STREAM_PREFIX}{channel}" for channel in sorted(channels)]


def group_lag(groups: Iterable[dict[str, Any]], group: str, *, stream_length: int) -> int:
    """The lag of `group` from one XINFO GROUPS reply.

    A group that does not exist yet counts 0 (the agent creates it when it
    first starts; what came before is not its backlog). A lag Redis cannot
    tell (null, after trims or deletions) counts as the stream's length, an
    upper bound: better one replica too many than a backlog nobody reads.
    """
    for info in groups:
        name = info.get("name")
        if isinstance(name, bytes):
            name = name.decode()
        if name != group:
            continue
        lag = info.get("lag")
        return int(lag) if lag is not None else stream_length
    return 0


async def consumer_lag(redis: Redis, group: str, subscribes: Iterable[str]) -> int:
    """Pending (not yet delivered) events of `group` over its streams."""
    total = 0
    try:
        for stream in streams_for(subscribes):
            try:
                groups = await redis.xinfo_groups(stream)
            except redis_exceptions.ResponseError as exc:
                if "no such key" in str(exc).lower():
                    continue  # no stream yet: nothing was ever published there
                raise
            length = 0
            if any(info.get("lag") is None for info in groups):
                length = int(await redis.xlen(stream))
            total += group_lag(groups, group, stream_length=length)
    except (redis_exceptions.ConnectionError, redis_exceptions.TimeoutError, OSError) as exc:
        raise LagUnavailable(f"Redis is unreachable: {exc!s}") from exc
    except redis_exceptions.RedisError as exc:
        raise LagUnavailable(f"Redis answered an error: {exc!s}") from exc
    return total
