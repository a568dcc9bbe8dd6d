"""Helpers for Giorgio's tests: database counts, a task row, request bodies."""

import uuid
from typing import Any

import psycopg


def count(database_url: str, sql: str, *params: Any) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(sql, params).fetchone()
        assert row is not None
        return int(row[0])


def insert_task(database_url: str, title: str = "Cover for Night Drive") -> uuid.UUID:
    task_id = uuid.uuid4()
    with psycopg.connect(database_url) as conn:
        conn.execute("INSERT INTO tasks (id, title) VALUES (%s, %s)", (task_id, title))
    return task_id


def cover_request(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "artwork",
        "release": {"title": "Night Drive", "artist": "Aurora Lane"},
        "palette": "neon",
        "seed": 42,
        "variants": ["social_square"],
    }
    body.update(overrides)
    return body
