"""The async Redis client every service uses (redis-py's asyncio API)."""

from redis.asyncio import Redis


def open_redis(url: str) -> "Redis":
    # Connections are made lazily, so a service starts while Redis is down.
    return Redis.from_url(
        url,
        decode_responses=True,
        socket_connect_timeout=3,
        socket_timeout=None,
        health_check_interval=15,
        retry_on_timeout=True,
    )
