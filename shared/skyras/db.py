"""The async Postgres pool every service uses (psycopg 3 + psycopg_pool).

Rows come back as dicts. The pool opens without waiting, so a service starts
while Postgres is still coming up and `/ready` says so until it answers.
"""

from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

Pool = AsyncConnectionPool[AsyncConnection[DictRow]]


async def _configure(conn: AsyncConnection[Any]) -> None:
    # Every timestamp leaves the database in UTC, whatever the server's zone.
    await conn.execute("SET TIME ZONE 'UTC'")
    await conn.commit()


async def open_pool(
    url: str, *, min_size: int = 1, max_size: int = 10, name: str = "skyras"
) -> Pool:
    pool: Pool = AsyncConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        kwargs={"row_factory": dict_row, "connect_timeout": 5, "application_name": name},
        configure=_configure,
        open=False,
        name=name,
        timeout=10,
        reconnect_timeout=0,  # keep trying for ever: Postgres may restart under us
    )
    await pool.open(wait=False)
    return pool


async def connect(url: str) -> AsyncConnection[DictRow]:
    """A single connection outside the pool (migrations, LISTEN)."""
    conn = await AsyncConnection.connect(url, row_factory=dict_row, connect_timeout=5)
    await _configure(conn)
    return conn
