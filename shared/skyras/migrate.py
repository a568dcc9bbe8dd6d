"""Schema migrations: ordered SQL files in `skyras/migrations/`, applied once.

`skyras migrate` (and the local runner, and the chart's hook Job) call
`apply_migrations`. A Postgres advisory lock makes concurrent migrators wait
for each other; each file runs in its own transaction and is recorded in
`schema_migrations` with its checksum, so an edited, already-applied file is
reported instead of silently ignored.
"""

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources

from skyras.db import connect

log = logging.getLogger("skyras.migrate")

# Any fixed 64-bit number; it names "the SkyRas schema" among advisory locks.
_LOCK_ID = 0x5C1_2A5_0001
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations() -> list[Migration]:
    found = []
    for entry in resources.files("skyras.migrations").iterdir():
        match = _FILE_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(versions) != len(set(versions)):
        raise MigrationError(f"two migration files share a version number: {versions}")
    return found


async def apply_migrations(database_url: str) -> list[Migration]:
    """Apply every pending migration; returns those applied by this call."""
    applied_now: list[Migration] = []
    conn = await connect(database_url)
    try:
        await conn.set_autocommit(True)
        await conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_ID,))
        try:
            await conn.execute(
                """CREATE TABLE IF NOT EXISTS schema_migrations (
                       version    integer PRIMARY KEY,
                       name       text NOT NULL,
                       checksum   text NOT NULL,
                       applied_at timestamptz NOT NULL DEFAULT now())"""
            )
            cur = await conn.execute("SELECT version, name, checksum FROM schema_migrations")
            done = {row["version"]: row for row in await cur.fetchall()}
            for migration in load_migrations():
                previous = done.get(migration.version)
                if previous is not None:
                    if previous["checksum"] != migration.checksum:
                        log.warning(
                            "migration %04d_%s changed after it was applied; not re-run",
                            migration.version,
                            migration.name,
                        )
                    continue
                async with conn.transaction():
                    await conn.execute(migration.sql.encode())
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                        (migration.version, migration.name, migration.checksum),
                    )
                log.info("applied migration %04d_%s", migration.version, migration.name)
                applied_now.append(migration)
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_ID,))
    finally:
        await conn.close()
    return applied_now
