"""Migrations: from empty, idempotent, safe when two migrators race."""

import asyncio

import psycopg

from skyras.migrate import apply_migrations, load_migrations

SEED_COLUMNS = {
    "tasks": {"id", "title", "description", "priority", "status", "created_at"},
    "files": {"id", "filename", "file_type", "file_size", "tags", "uploaded_at"},
    "events": {"id", "type", "source", "data", "created_at"},
    "task_files": {"task_id", "file_id"},
}


def columns(url: str, table: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s", (table,)
        ).fetchall()
    return {r[0] for r in rows}


async def test_migrations_create_the_seed_tables_from_empty(empty_database_url: str) -> None:
    applied = await apply_migrations(empty_database_url)

    assert [m.version for m in applied] == [m.version for m in load_migrations()]
    for table, expected in SEED_COLUMNS.items():
        assert expected <= columns(empty_database_url, table), table
    with psycopg.connect(empty_database_url) as conn:
        # The seed's example queries work as written.
        conn.execute("SELECT * FROM tasks ORDER BY created_at DESC LIMIT 10").fetchall()
        conn.execute("SELECT * FROM files ORDER BY uploaded_at DESC LIMIT 10").fetchall()
        conn.execute("SELECT * FROM events ORDER BY created_at DESC LIMIT 20").fetchall()
        recorded = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()
    assert recorded is not None and recorded[0] == len(applied)


async def test_a_second_run_applies_nothing(empty_database_url: str) -> None:
    await apply_migrations(empty_database_url)
    assert await apply_migrations(empty_database_url) == []


async def test_concurrent_migrators_apply_each_migration_once(empty_database_url: str) -> None:
    results = await asyncio.gather(*(apply_migrations(empty_database_url) for _ in range(4)))

    applied_versions = sorted(m.version for batch in results for m in batch)
    assert applied_versions == [m.version for m in load_migrations()]
    with psycopg.connect(empty_database_url) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT version) FROM schema_migrations"
        ).fetchone()
    assert row is not None and row[0] == row[1] == len(load_migrations())
