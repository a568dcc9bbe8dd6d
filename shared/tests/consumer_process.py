"""A consumer run as its own process, for the crash test: python -m shared.tests.consumer_process.

Its handler writes an effect row, then (while the marker file says so) tells
the test it is inside the handler and waits to be killed, transaction open.
"""

import asyncio
import sys
from pathlib import Path
from typing import Any

from psycopg import AsyncConnection

from skyras.consumer import EventConsumer
from skyras.db import open_pool
from skyras.events import Event
from skyras.redis_client import open_redis


async def main(database_url: str, redis_url: str, marker: Path) -> None:
    pool = await open_pool(database_url)
    redis = open_redis(redis_url)

    async def record_effect(event: Event, conn: AsyncConnection[Any]) -> None:
        await conn.execute("INSERT INTO effects (event_id) VALUES (%s)", (event.id,))
        marker.write_text("inside")
        await asyncio.sleep(3600)  # killed here, before the commit

    consumer = EventConsumer(
        pool, redis, group="crashy", handlers={"task.created": record_effect}, consumer="doomed"
    )
    await consumer.run()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], Path(sys.argv[3])))
