"""Consumer lag of an agent's group, read from Redis streams (DESIGN.md section 5).

Used by the autoscaling timer in handlers/agent.py. An agent's group (named
after the agent) reads `skyras:stream:<channel>` for every channel of the
event types it subscribes to; its lag is the sum over those streams of what
skyras_contract.lag counts, the same figure the agent's consumer reports.
"""

from __future__ import annotations

from collections.abc import Iterable

from redis import exceptions as redis_exceptions
from redis.asyncio import Redis

from skyras_contract.lag import group_lag, lag_unknown
from skyras_contract.streams import streams_for


class LagUnavailable(Exception):
    """Redis could not be asked (down, wrong URL)."""


async def consumer_lag(redis: Redis, group: str, subscribes: Iterable[str]) -> int:
    """Events `group` has still to handle over its streams (delivered or not)."""
    total = 0
    try:
        for stream in streams_for(subscribes):
            try:
                groups = await redis.xinfo_groups(stream)
            except redis_exceptions.ResponseError as exc:
                if "no such key" in str(exc).lower():
                    continue  # no stream yet: nothing was ever published there
                raise
            length = int(await redis.xlen(stream)) if lag_unknown(groups) else 0
            total += group_lag(groups, group, stream_length=length)
    except (redis_exceptions.ConnectionError, redis_exceptions.TimeoutError, OSError) as exc:
        raise LagUnavailable(f"Redis is unreachable: {exc!s}") from exc
    except redis_exceptions.RedisError as exc:
        raise LagUnavailable(f"Redis answered an error: {exc!s}") from exc
    return total
